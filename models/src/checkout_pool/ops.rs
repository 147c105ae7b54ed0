//! The checkout pool's scenario vocabulary: its operations and configuration keys, parsed into
//! [`Op`], checked before anything runs (a connection in hand where one is needed, `cancel`
//! targets), and run against the [`Pool`].

use super::pool::Pool;
use crate::cancel::{cancel_point, check_target};
use crate::model::{param, Args, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError};
use crate::sync::{advance_clock, yield_now};
use crate::typed::{parse_all, unknown_op, Ops};

const OPS: &[OpInfo] = &[
    OpInfo {
        name: "checkout",
        doc: "check a connection out (idle, new, or handed over after waiting); may be cancelled",
        params: &[param(
            "cancel_at",
            ParamKind::Str,
            "cancel it at this await: `connect` (a connect step) or `wait` (starting to wait)",
        )
        .one_of(&["connect", "wait"])],
    },
    OpInfo {
        name: "use",
        doc: "use the connection in hand for `steps` awaits (default 1); a cancellation at one \
              ends the lease and checks the connection in",
        params: &[
            param(
                "steps",
                ParamKind::Int,
                "awaits while using the connection (default 1)",
            )
            .range(0, 1_000_000),
            param(
                "cancel_at",
                ParamKind::Str,
                "cancel the lease at this await: `use`",
            )
            .one_of(&["use"]),
        ],
    },
    OpInfo {
        name: "query",
        doc: "a follow-up request on the connection in hand: send a command, read its reply; \
              cancellable at either await",
        params: &[param(
            "cancel_at",
            ParamKind::Str,
            "cancel it at this await: `send` (nothing written) or `reply` (reply left unread)",
        )
        .one_of(&["send", "reply"])],
    },
    OpInfo {
        name: "timers",
        doc: "one pass of the timer task: fire every idle timer due (needs `idle_timers`)",
        params: &[],
    },
    OpInfo {
        name: "drive",
        doc: "the connection task: close each connection whose last reference is dropped, until \
              the pool is closed and none is left (needs `conn_tasks`)",
        params: &[],
    },
    OpInfo {
        name: "checkin",
        doc: "return the connection in hand to the pool (hand-off to a waiter first); with \
              `twice`, release it a second time (an error handler and a `finally` both do)",
        params: &[param(
            "twice",
            ParamKind::Bool,
            "release the connection twice (default false)",
        )],
    },
    OpInfo {
        name: "discard",
        doc: "close the connection in hand as broken, freeing its slot",
        params: &[],
    },
    OpInfo {
        name: "cancel",
        doc: "cancel `target`'s pending checkout, if it has one at that moment",
        params: &[param(
            "target",
            ParamKind::Str,
            "the actor whose checkout is cancelled",
        )],
    },
    OpInfo {
        name: "tick",
        doc: "advance the logical clock by `by` (default 1)",
        params: &[param("by", ParamKind::Int, "time units (default 1)").range(0, 1_000_000)],
    },
    OpInfo {
        name: "reap",
        doc: "one reaper pass: close idle connections whose idle timeout or max_lifetime passed; \
              mark checked-out ones past max_lifetime to close at check-in",
        params: &[],
    },
    OpInfo {
        name: "close-pool",
        doc: "close the pool: close idle connections, fail waiters and later checkouts, \
              close connections checked in afterwards",
        params: &[],
    },
    OpInfo {
        name: "await",
        doc: "one await that does nothing (shifts an actor's timing)",
        params: &[],
    },
];

/// The model's configuration keys.
pub(super) const CONFIG: &[ParamInfo] = &[
    param(
        "max_size",
        ParamKind::Int,
        "connections open at most (default 1)",
    )
    .range(1, 1000),
    param(
        "idle_timeout",
        ParamKind::Int,
        "logical time an idle connection lives (default 5)",
    )
    .range(0, 1_000_000),
    param(
        "create_steps",
        ParamKind::Int,
        "awaits a connection takes to establish (default 1)",
    )
    .range(0, 1_000_000),
    param(
        "connect_failures",
        ParamKind::Int,
        "the first this-many connection attempts fail (default 0)",
    )
    .range(0, 1_000_000),
    param(
        "max_lifetime",
        ParamKind::Int,
        "logical time a connection lives from creation; `reap` evicts it (default 0: forever)",
    )
    .range(0, 1_000_000),
    param(
        "idle_timers",
        ParamKind::Bool,
        "a connection going idle arms its own idle timer, fired by `timers` (default false)",
    ),
    param(
        "shared_connect",
        ParamKind::Bool,
        "a checkout finding a connect in flight waits for it instead of connecting (default \
         false)",
    ),
    param(
        "conn_tasks",
        ParamKind::Bool,
        "a connection task (`drive`) closes each connection when its last reference (the \
         pool's, each lease's) is dropped (default false)",
    ),
    param(
        "peer_stops_reading",
        ParamKind::Bool,
        "closes and command writes really block until the other actors' requests finished \
         (default false)",
    ),
];

/// One parsed operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `checkout`, cancelled at an await if `cancel_at` names one.
    Checkout(Option<&'static str>),
    /// `use`: awaits while using the connection; cancelled at one if `cancel_at` says so.
    Use(i64, Option<&'static str>),
    /// `query`, cancelled at an await if `cancel_at` names one.
    Query(Option<&'static str>),
    /// `timers`.
    Timers,
    /// `drive`.
    Drive,
    /// `checkin`, released a second time when `twice`.
    Checkin {
        /// Release it twice.
        twice: bool,
    },
    /// `discard`.
    Discard,
    /// `cancel`: the target actor.
    Cancel(String),
    /// `tick`: time units.
    Tick(u64),
    /// `reap`.
    Reap,
    /// `close-pool`.
    ClosePool,
    /// `await`.
    Await,
}

impl Ops for Op {
    const INFO: &'static [OpInfo] = OPS;

    fn parse(op: &OpSpec, _config: &Args) -> Result<Op, String> {
        let a = &op.args;
        Ok(match op.name.as_str() {
            "checkout" => Op::Checkout(cancel_at(op)?),
            "use" => Op::Use(a.int("steps", 1), cancel_at(op)?),
            "query" => Op::Query(cancel_at(op)?),
            "timers" => Op::Timers,
            "drive" => Op::Drive,
            "checkin" => Op::Checkin {
                twice: a.bool("twice", false),
            },
            "discard" => Op::Discard,
            "cancel" => Op::Cancel(a.str("target", "").to_owned()),
            "tick" => Op::Tick(u64::try_from(a.int("by", 1)).unwrap_or(1)),
            "reap" => Op::Reap,
            "close-pool" => Op::ClosePool,
            "await" => Op::Await,
            other => return Err(unknown_op::<Op>(other)),
        })
    }
}

/// The await named by `op`'s `cancel_at` ([`cancel_point`] over this model's operations).
fn cancel_at(op: &OpSpec) -> Result<Option<&'static str>, String> {
    cancel_point(op, OPS)
}

/// Operation order and targets; the harness checks actor counts and every integer's declared
/// range (`max_size` at least 1...) for every model alike.
pub(super) fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
    let all = parse_all::<Op>(spec)?;
    for (a, ops) in all.iter().enumerate() {
        check_actor(spec, a, ops)?;
    }
    check_tasks(spec, &all)
}

/// `timers` needs idle timers; connection tasks need exactly one `drive` and a `close-pool`
/// (the task runs until the pool is closed).
fn check_tasks(spec: &ScenarioSpec, all: &[Vec<Op>]) -> Result<(), SpecError> {
    let find = |want: Op| -> Vec<(usize, usize)> {
        let at = all.iter().enumerate().flat_map(|(a, ops)| {
            let hits = ops.iter().enumerate().filter(|(_, op)| **op == want);
            hits.map(move |(o, _)| (a, o)).collect::<Vec<_>>()
        });
        at.collect()
    };
    if !spec.config.bool("idle_timers", false) {
        if let Some((a, o)) = find(Op::Timers).first().copied() {
            return Err(SpecError::op(
                a,
                o,
                "`timers` needs `idle_timers = true` in [config]",
            ));
        }
    }
    let drives = find(Op::Drive);
    if !spec.config.bool("conn_tasks", false) {
        return match drives.first() {
            Some((a, o)) => Err(SpecError::op(
                *a,
                *o,
                "`drive` needs `conn_tasks = true` in [config]",
            )),
            None => Ok(()),
        };
    }
    if drives.len() != 1 || find(Op::ClosePool).is_empty() {
        return Err(SpecError::config(
            "conn_tasks",
            "connection tasks need exactly one `drive` operation and a `close-pool` (the task \
             runs until the pool is closed)",
        ));
    }
    Ok(())
}

fn check_actor(spec: &ScenarioSpec, a: usize, ops: &[Op]) -> Result<(), SpecError> {
    let mut holding = false;
    for (o, op) in ops.iter().enumerate() {
        let err = |message: String| Err(SpecError::op(a, o, message));
        match op {
            Op::Checkout(_) if holding => {
                return err("already holds a connection: check it in first".into())
            }
            Op::Checkout(_) => holding = true,
            Op::Use(..) | Op::Query(_) | Op::Checkin { .. } | Op::Discard if !holding => {
                return err(format!(
                    "`{}` needs a connection in hand: add a `checkout` before it",
                    spec.actors[a].ops[o].name
                ))
            }
            Op::Checkin { .. } | Op::Discard => holding = false,
            Op::Cancel(target) => {
                if let Err(message) = check_target(spec, target) {
                    return err(message);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run one operation; `held` is the (request, connection) the actor has in hand.
pub(super) fn run_op(pool: &Pool, actor: &str, op: Op, req: u32, held: &mut Option<(u32, u32)>) {
    match op {
        Op::Checkout(cancel_at) => {
            *held = pool.checkout(actor, req, cancel_at).map(|conn| (req, conn));
        }
        Op::Use(steps, cancel_at) => {
            if let Some(lease) = *held {
                if !pool.use_conn(actor, lease, steps, cancel_at) {
                    *held = None;
                }
            }
        }
        Op::Query(cancel_at) => {
            if let Some(lease) = *held {
                if !pool.query(actor, req, lease, cancel_at) {
                    *held = None;
                }
            }
        }
        Op::Timers => pool.fire_timers(),
        Op::Drive => pool.drive(),
        Op::Checkin { twice } => {
            if let Some((r, conn)) = held.take() {
                pool.checkin(r, conn);
                if twice {
                    pool.checkin(r, conn);
                }
            }
        }
        Op::Discard => {
            if let Some((r, conn)) = held.take() {
                pool.discard(r, conn);
            }
        }
        Op::Cancel(target) => pool.cancel(&target),
        Op::Tick(by) => advance_clock(by),
        Op::Reap => pool.reap(),
        Op::ClosePool => pool.close(),
        Op::Await => yield_now("await"),
    }
}
