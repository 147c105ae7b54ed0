//! The operations scenario actors perform, their documentation, validation and execution.
//!
//! Three kinds of actor appear in scenarios: tasks that open transports or send requests
//! (`spawn`, `connect-pipe`, `close`, `request`, `await`), tasks that cancel others (`cancel`),
//! and the other end, the child process or pipe server (`exit`, `data`, `eof`), whose events the
//! loop delivers as callbacks. An actor still holding a transport after its last operation
//! closes it, so a scenario only says `close` when the moment matters.

use super::connect_pipe::create_pipe_connection;
use super::event_loop::{Loop, Transport};
use super::pool::{Pool, Request};
use super::transport::SubprocessTransport;
use crate::model::{ActorSpec, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError};
use crate::sync::{probe, yield_now, Event};

const fn param(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamInfo {
    ParamInfo::new(name, kind, doc)
}

const TRANSPORT: ParamInfo = param(
    "transport",
    ParamKind::Int,
    "the transport's number: transports (and pool connections) are numbered 1, 2, ... in the \
     order their connection attempts start (default 1); nothing happens if it does not exist yet",
)
.range(1, 1000);
const FD: ParamInfo = param(
    "fd",
    ParamKind::Int,
    "the pipe (0, 1 or 2; default 0); ignored for a named-pipe transport",
)
.range(0, 2);
const FAIL_AT: ParamInfo = param(
    "fail_at",
    ParamKind::Int,
    "the pipe whose `connect_*_pipe` raises during post-init (default: none fails)",
)
.range(-1, 2);

/// The model's operations.
pub static OPS: &[OpInfo] = &[
    OpInfo {
        name: "spawn",
        doc: "create a subprocess transport (`subprocess_exec`): start the child, then await \
              post-init, which connects the pipes one await at a time and then schedules \
              `connection_made` and the calls queued meanwhile; cancellable; on failure or \
              cancellation the transport is closed (not in cpython-post-init); the actor then \
              holds the transport",
        params: &[
            param(
                "pipes",
                ParamKind::Int,
                "pipes to connect, 0 to 3 (default: the `pipes` configuration)",
            )
            .range(0, 3),
            FAIL_AT,
        ],
    },
    OpInfo {
        name: "connect-pipe",
        doc: "`create_pipe_connection`: poll `connect_pipe` until a pipe instance is free, then \
              wrap it in a duplex pipe transport (`connection_made` scheduled); cancellable; \
              the actor then holds the transport",
        params: &[param(
            "busy",
            ParamKind::Int,
            "attempts that find the pipe busy before one connects (default: the `busy` \
             configuration)",
        )
        .range(0, 100)],
    },
    OpInfo {
        name: "close",
        doc: "`transport.close()` on the transport the actor holds",
        params: &[],
    },
    OpInfo {
        name: "request",
        doc: "one pool request: an idle connection, or a permit and a new connection through the \
              lifecycle, or wait; then one await for the response; fails if the peer went away; \
              cancellable at every await",
        params: &[
            FAIL_AT,
            param(
                "wait_for",
                ParamKind::Bool,
                "acquire through `asyncio.wait_for(pool.acquire(), timeout)`: once the acquire \
                 is done, one more await before the request resumes (default false)",
            ),
        ],
    },
    OpInfo {
        name: "cancel",
        doc: "`task.cancel()`: cancel `target`'s operation under way (spawn, connect-pipe, \
              request), delivered at its next await; nothing if it has none at that moment",
        params: &[param(
            "target",
            ParamKind::Str,
            "the actor whose operation is cancelled",
        )],
    },
    OpInfo {
        name: "await",
        doc: "one await that does nothing (shifts the actor's timing; lets ready callbacks run)",
        params: &[],
    },
    OpInfo {
        name: "exit",
        doc: "the other end goes away: the child process exits (its pipe ends close with it, the \
              watcher reports the exit), or the pipe server closes its end",
        params: &[TRANSPORT],
    },
    OpInfo {
        name: "data",
        doc: "the other end writes one chunk: on pipe `fd` of a subprocess, or on a named pipe",
        params: &[TRANSPORT, FD],
    },
    OpInfo {
        name: "eof",
        doc: "the other end closes one pipe: pipe `fd` of a subprocess, or the named pipe",
        params: &[TRANSPORT, FD],
    },
];

/// The model's configuration keys.
pub static CONFIG: &[ParamInfo] = &[
    param(
        "pipes",
        ParamKind::Int,
        "pipes a subprocess transport connects in post-init, 0 to 3 (default 1)",
    )
    .range(0, 3),
    param(
        "busy",
        ParamKind::Int,
        "`connect_pipe` attempts that find the pipe busy before one connects (default 0)",
    )
    .range(0, 100),
    param(
        "max_connections",
        ParamKind::Int,
        "the pool's capacity: connections open at most (default 1)",
    )
    .range(1, 1000),
    param(
        "connect",
        ParamKind::Str,
        "how the pool connects: \"spawn\" (a subprocess transport, default) or \"pipe\" \
         (`create_pipe_connection`)",
    ),
];

/// Validate one actor's script against the scenario.
pub fn check_actor(spec: &ScenarioSpec, a: usize, actor: &ActorSpec) -> Result<(), SpecError> {
    let mut holding = false;
    for (o, op) in actor.ops.iter().enumerate() {
        check_op(spec, actor, op, &mut holding).map_err(|message| SpecError::op(a, o, message))?;
    }
    Ok(())
}

fn check_op(
    spec: &ScenarioSpec,
    actor: &ActorSpec,
    op: &OpSpec,
    holding: &mut bool,
) -> Result<(), String> {
    let pipes = op.args.int("pipes", spec.config.int("pipes", 1));
    match op.name.as_str() {
        "spawn" | "connect-pipe" if *holding => {
            Err("already holds a transport: add a `close` before it".into())
        }
        "spawn" => {
            *holding = true;
            in_range("pipes", pipes, 0, 3)?;
            check_fail_at(op.args.int("fail_at", -1), pipes)
        }
        "connect-pipe" => {
            *holding = true;
            in_range("busy", op.args.int("busy", 0), 0, 100)
        }
        "close" if !*holding => Err("`close` needs a transport: add a `spawn` or \
                                     `connect-pipe` before it"
            .into()),
        "close" => {
            *holding = false;
            Ok(())
        }
        "request"
            if spec.config.str("connect", "spawn") == "pipe"
                && op.args.0.contains_key("fail_at") =>
        {
            Err("`fail_at` needs the spawn connector (`connect = \"spawn\"`)".into())
        }
        "request" => check_fail_at(op.args.int("fail_at", -1), spec.config.int("pipes", 1)),
        "cancel" => check_target(spec, actor, op.args.str("target", "")),
        "exit" | "data" | "eof" => {
            in_range("transport", op.args.int("transport", 1), 1, 1000)?;
            in_range("fd", op.args.int("fd", 0), 0, 2)
        }
        _ => Ok(()),
    }
}

fn in_range(name: &str, v: i64, lo: i64, hi: i64) -> Result<(), String> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("`{name}` is {v}; it must be between {lo} and {hi}"))
    }
}

fn check_fail_at(fail_at: i64, pipes: i64) -> Result<(), String> {
    if fail_at == -1 || (0..pipes).contains(&fail_at) {
        Ok(())
    } else {
        Err(format!(
            "`fail_at` is {fail_at} but the transport connects {pipes} pipe(s): use 0..{pipes}"
        ))
    }
}

fn check_target(spec: &ScenarioSpec, actor: &ActorSpec, target: &str) -> Result<(), String> {
    if target != actor.name && spec.actors.iter().any(|x| x.name == target) {
        return Ok(());
    }
    let names: Vec<&str> = spec
        .actors
        .iter()
        .filter(|x| x.name != actor.name)
        .map(|x| x.name.as_str())
        .collect();
    if names.is_empty() {
        return Err(format!(
            "`cancel` targets `{target}`, but there is no other actor to cancel"
        ));
    }
    Err(format!(
        "`cancel` targets `{target}`, which is not another actor (use one of: {})",
        names.join(", ")
    ))
}

/// Everything an actor's operations act on.
pub struct World<'a> {
    /// The event loop.
    pub lp: &'a Loop,
    /// The pool.
    pub pool: &'a Pool,
    /// The scenario (configuration defaults).
    pub spec: &'a ScenarioSpec,
}

/// Run one actor's operations; a transport still held at the end is closed.
pub fn run_actor(w: &World<'_>, index: usize, actor: &ActorSpec) {
    let mut held: Option<Transport> = None;
    for (o, op) in actor.ops.iter().enumerate() {
        let req = u32::try_from((index + 1) * 100 + o).unwrap_or(u32::MAX);
        run_op(w, &actor.name, op, req, &mut held);
    }
    if let Some(t) = held {
        t.close(w.lp);
    }
}

fn run_op(w: &World<'_>, me: &str, op: &OpSpec, req: u32, held: &mut Option<Transport>) {
    let lp = w.lp;
    match op.name.as_str() {
        "spawn" => {
            let pipes = op.args.int("pipes", w.spec.config.int("pipes", 1));
            let fail_at = usize::try_from(op.args.int("fail_at", -1)).ok();
            lp.begin_cancellable(me);
            let id = lp.reserve_transport_id();
            let pipes = usize::try_from(pipes).unwrap_or(0);
            *held = SubprocessTransport::create(lp, me, id, pipes, fail_at).ok();
            lp.end_cancellable(me);
        }
        "connect-pipe" => {
            let busy = op.args.u32("busy", w.spec.config.u32("busy", 0));
            lp.begin_cancellable(me);
            let id = lp.reserve_transport_id();
            *held = create_pipe_connection(lp, me, id, busy).ok();
            lp.end_cancellable(me);
        }
        "close" => {
            if let Some(t) = held.take() {
                t.close(lp);
            }
        }
        "request" => {
            let how = Request {
                fail_at: usize::try_from(op.args.int("fail_at", -1)).ok(),
                wait_for: op.args.bool("wait_for", false),
            };
            w.pool.request(lp, me, req, how);
        }
        "cancel" => {
            let target = op.args.str("target", "");
            yield_now("task.cancel()");
            if lp.cancel(target) {
                probe(Event::Note(format!("cancels the operation of {target}")));
                w.pool.wake();
            }
        }
        "exit" | "data" | "eof" => peer_op(lp, op),
        _ => lp.await_plain("await"),
    }
}

/// The other end acts: an operating-system event the loop will deliver.
fn peer_op(lp: &Loop, op: &OpSpec) {
    let id = op.args.u32("transport", 1);
    let fd = usize::try_from(op.args.int("fd", 0)).unwrap_or(0);
    yield_now(match op.name.as_str() {
        "exit" => "os: the other end goes away",
        "data" => "os: the other end writes",
        _ => "os: the other end closes a pipe",
    });
    let Some(t) = lp.transport(id) else {
        probe(Event::Note(format!("transport {id} does not exist yet")));
        return;
    };
    lp.atomically(|| match (op.name.as_str(), t) {
        ("exit", Transport::Subprocess(s)) => s.child_exit(lp),
        ("data", Transport::Subprocess(s)) => s.child_write(lp, fd),
        (_, Transport::Subprocess(s)) => s.child_close(lp, fd),
        ("data", Transport::Pipe(p)) => p.peer_write(lp),
        (_, Transport::Pipe(p)) => p.peer_close(lp),
    });
}
