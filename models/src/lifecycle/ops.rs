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
use crate::model::{
    param, ActorSpec, Args, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError,
};
use crate::sync::{probe, yield_now, Event};
use crate::typed::{unknown_op, Ops};

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

const OPS: &[OpInfo] = &[
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
pub(super) const CONFIG: &[ParamInfo] = &[
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

/// One parsed operation.
#[derive(Clone, Debug)]
pub enum Op {
    /// `spawn`: pipes to connect (the configuration's unless given), the pipe that fails.
    Spawn {
        /// Pipes to connect.
        pipes: usize,
        /// The pipe whose connection raises.
        fail_at: Option<usize>,
    },
    /// `connect-pipe`: busy attempts before one connects.
    ConnectPipe(u32),
    /// `close`.
    Close,
    /// `request`.
    Request(Request),
    /// `cancel`: the target actor.
    Cancel(String),
    /// `exit`, `data` or `eof`: the other end of transport `transport`, pipe `fd`.
    Peer {
        /// What the other end does.
        act: PeerAct,
        /// The transport.
        transport: u32,
        /// The pipe.
        fd: usize,
    },
    /// `await`.
    Await,
}

/// What the other end does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerAct {
    /// `exit`.
    Exit,
    /// `data`.
    Data,
    /// `eof`.
    Eof,
}

impl Ops for Op {
    const INFO: &'static [OpInfo] = OPS;

    fn parse(op: &OpSpec, config: &Args) -> Result<Op, String> {
        let a = &op.args;
        let peer = |act| Op::Peer {
            act,
            transport: a.u32("transport", 1),
            fd: usize::try_from(a.int("fd", 0)).unwrap_or(0),
        };
        let fail_at = usize::try_from(a.int("fail_at", -1)).ok();
        Ok(match op.name.as_str() {
            "spawn" => Op::Spawn {
                pipes: usize::try_from(a.int("pipes", config.int("pipes", 1))).unwrap_or(0),
                fail_at,
            },
            "connect-pipe" => Op::ConnectPipe(a.u32("busy", config.u32("busy", 0))),
            "close" => Op::Close,
            "request" => Op::Request(Request {
                fail_at,
                wait_for: a.bool("wait_for", false),
            }),
            "cancel" => Op::Cancel(a.str("target", "").to_owned()),
            "exit" => peer(PeerAct::Exit),
            "data" => peer(PeerAct::Data),
            "eof" => peer(PeerAct::Eof),
            "await" => Op::Await,
            other => return Err(unknown_op::<Op>(other)),
        })
    }
}

/// Run one operation of actor `me`; `held` is the transport it holds.
pub(super) fn run_op(
    lp: &Loop,
    pool: &Pool,
    me: &str,
    op: Op,
    req: u32,
    held: &mut Option<Transport>,
) {
    match op {
        Op::Spawn { pipes, fail_at } => {
            lp.begin_cancellable(me);
            let id = lp.reserve_transport_id();
            *held = SubprocessTransport::create(lp, me, id, pipes, fail_at).ok();
            lp.end_cancellable(me);
        }
        Op::ConnectPipe(busy) => {
            lp.begin_cancellable(me);
            let id = lp.reserve_transport_id();
            *held = create_pipe_connection(lp, me, id, busy).ok();
            lp.end_cancellable(me);
        }
        Op::Close => {
            if let Some(t) = held.take() {
                t.close(lp);
            }
        }
        Op::Request(how) => pool.request(lp, me, req, how),
        Op::Cancel(target) => {
            yield_now("task.cancel()");
            if lp.cancel(&target) {
                probe(Event::Note(format!("cancels the operation of {target}")));
                pool.wake();
            }
        }
        Op::Peer { act, transport, fd } => peer_op(lp, act, transport, fd),
        Op::Await => lp.await_plain("await"),
    }
}

/// The other end acts: an operating-system event the loop will deliver.
fn peer_op(lp: &Loop, act: PeerAct, id: u32, fd: usize) {
    yield_now(match act {
        PeerAct::Exit => "os: the other end goes away",
        PeerAct::Data => "os: the other end writes",
        PeerAct::Eof => "os: the other end closes a pipe",
    });
    let Some(t) = lp.transport(id) else {
        probe(Event::Note(format!("transport {id} does not exist yet")));
        return;
    };
    lp.atomically(|| match (act, t) {
        (PeerAct::Exit, Transport::Subprocess(s)) => s.child_exit(lp),
        (PeerAct::Data, Transport::Subprocess(s)) => s.child_write(lp, fd),
        (_, Transport::Subprocess(s)) => s.child_close(lp, fd),
        (PeerAct::Data, Transport::Pipe(p)) => p.peer_write(lp),
        (_, Transport::Pipe(p)) => p.peer_close(lp),
    });
}
