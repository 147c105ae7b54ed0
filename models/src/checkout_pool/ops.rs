//! The checkout pool's scenario vocabulary: its operations and configuration keys, parsed into
//! [`Op`], checked before anything runs (a connection in hand where one is needed, `cancel`
//! targets), and run against the [`Pool`].

use super::pool::Pool;
use crate::model::{param, Args, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError};
use crate::sync::{advance_clock, yield_now};
use crate::typed::{parse_all, unknown_op, Ops};

const OPS: &[OpInfo] = &[
    OpInfo {
        name: "checkout",
        doc: "check a connection out (idle, new, or handed over after waiting); may be cancelled",
        params: &[],
    },
    OpInfo {
        name: "use",
        doc: "use the connection in hand for `steps` awaits (default 1)",
        params: &[param(
            "steps",
            ParamKind::Int,
            "awaits while using the connection (default 1)",
        )
        .range(0, 1_000_000)],
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
];

/// One parsed operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `checkout`.
    Checkout,
    /// `use`: awaits while using the connection.
    Use(i64),
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
            "checkout" => Op::Checkout,
            "use" => Op::Use(a.int("steps", 1)),
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

/// Operation order and targets; the harness checks actor counts and every integer's declared
/// range (`max_size` at least 1...) for every model alike.
pub(super) fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
    for (a, ops) in parse_all::<Op>(spec)?.iter().enumerate() {
        check_actor(spec, a, ops)?;
    }
    Ok(())
}

fn check_actor(spec: &ScenarioSpec, a: usize, ops: &[Op]) -> Result<(), SpecError> {
    let mut holding = false;
    for (o, op) in ops.iter().enumerate() {
        let err = |message: String| Err(SpecError::op(a, o, message));
        match op {
            Op::Checkout if holding => {
                return err("already holds a connection: check it in first".into())
            }
            Op::Checkout => holding = true,
            Op::Use(_) | Op::Checkin { .. } | Op::Discard if !holding => {
                return err(format!(
                    "`{}` needs a connection in hand: add a `checkout` before it",
                    spec.actors[a].ops[o].name
                ))
            }
            Op::Checkin { .. } | Op::Discard => holding = false,
            Op::Cancel(target) if !spec.actors.iter().any(|x| &x.name == target) => {
                let names: Vec<&str> = spec.actors.iter().map(|x| x.name.as_str()).collect();
                return err(format!(
                    "`cancel` targets `{target}`, which is not an actor ({})",
                    names.join(", ")
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run one operation; `held` is the (request, connection) the actor has in hand.
pub(super) fn run_op(pool: &Pool, actor: &str, op: Op, req: u32, held: &mut Option<(u32, u32)>) {
    match op {
        Op::Checkout => *held = pool.checkout(actor, req).map(|conn| (req, conn)),
        Op::Use(steps) => {
            if held.is_some() {
                for _ in 0..steps {
                    yield_now("use connection");
                }
            }
        }
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
