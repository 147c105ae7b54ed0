//! A checkout pool: the textbook design shared by most database and HTTP/1 pools (a capacity
//! counter, an idle list, waiters served by direct hand-off, cancellable checkouts, a reaper),
//! with the bug classes that recur across them as variants.
//!
//! Unlike the other models this is not one upstream file: it is the common shape of
//! ClickHouse/clickhouse-go (`conn_pool`/`acquire`), sqlx (`PoolInner::acquire`), deadpool
//! (`Pool::get`), mperham/connection_pool (`TimedStack` + reaper), r2dbc-pool, bb8
//! (`PoolInner::get`, `put_back`), glassfish's `ConnectionPool` (wait queue and monitors) and
//! node-pool (`release`), reduced to what their races need. Each [`Variant`] cites the public reports it reproduces, so a bug from
//! a pool we have not modelled can often be written as a scenario against this one.
//!
//! Abstractions: a connection is a number; "using" it is `use` awaits between check-out and
//! check-in; creation is `create_steps` awaits after a blocking connect; cancellation is a flag
//! observed at the next wait or await, as with Go contexts and Rust futures. At the end of a run
//! every actor checks in what it still holds and the pool is closed (a no-op if a `close-pool`
//! operation already closed it), so `no-leak` sees every connection and slot that a bug lost.
//! A connection's age (`max_lifetime`) counts from the start of its connect, not its end, so
//! that tracking it adds no scheduling point; the reaper's lifetime pass runs only on `reap`.
//! The fixed pool hands a new connection to its creator; `create-after-close` instead feeds it
//! to the idle list first (the background-replenish shape of HikariCP, bb8 and r2d2), which is
//! where its missing `closed` re-check matters.

mod pool;
mod variant;

pub use pool::{Config, Pool};
pub use variant::Variant;

use crate::model::{
    ActorSpec, Model, ModelInfo, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError,
    VariantInfo,
};
use crate::sync::{advance_clock, spawn, yield_now};
use std::sync::Arc;

/// The checkout-pool model.
pub struct CheckoutPoolModel;

const fn param(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamInfo {
    ParamInfo::new(name, kind, doc)
}

static INFO: ModelInfo = ModelInfo {
    name: "checkout-pool",
    summary: "a generic checkout pool (capacity, idle list, hand-off, cancellation, reaper) with \
              the bug classes common to database and HTTP/1 pools",
    upstream: "composite of ClickHouse/clickhouse-go, launchbadge/sqlx, deadpool, \
               mperham/connection_pool, r2dbc-pool (see each variant)",
    variants: &[
        VariantInfo {
            name: "fixed",
            upstream: "",
            summary: "every fix applied",
        },
        VariantInfo {
            name: "cancel-leaks-slot",
            upstream: "https://github.com/ClickHouse/clickhouse-go/pull/1759",
            summary: "a checkout cancelled after reserving a slot never gives it back",
        },
        VariantInfo {
            name: "cancel-drops-delivered",
            upstream: "https://github.com/hibernate/hibernate-reactive/issues/4133",
            summary: "a connection handed to a waiter as it is cancelled is lost",
        },
        VariantInfo {
            name: "reaper-races-checkout",
            upstream: "https://github.com/mperham/connection_pool/pull/127",
            summary: "the reaper closes, outside the lock, a connection checked out meanwhile",
        },
        VariantInfo {
            name: "size-check-then-create",
            upstream: "https://github.com/mongodb/mongo-java-driver/pull/127",
            summary: "capacity checked and reserved in separate critical sections",
        },
        VariantInfo {
            name: "checkin-after-close",
            upstream: "https://github.com/topoteretes/cognee-rs/issues/132",
            summary: "a check-in racing pool close puts the connection back into a closed pool",
        },
        VariantInfo {
            name: "timeout-leaks-connection",
            upstream: "https://github.com/r2dbc/r2dbc-pool/issues/165",
            summary: "a cancelled creation abandons its half-open connection",
        },
        VariantInfo {
            name: "lost-wakeup",
            upstream: "https://github.com/javaee/glassfish/issues/21355",
            summary: "a waiter enqueues under the lock but starts waiting after releasing it: a \
                      check-in in between notifies nobody",
        },
        VariantInfo {
            name: "discard-skips-notify",
            upstream: "https://github.com/djc/bb8/issues/167",
            summary: "discarding a broken connection frees its slot without waking the \
                      checkouts waiting for room",
        },
        VariantInfo {
            name: "double-release",
            upstream: "https://github.com/coopernurse/node-pool/pull/19",
            summary: "a connection released twice goes on the idle list twice: two checkouts \
                      share it",
        },
        VariantInfo {
            name: "connect-failure-leaks-slot",
            upstream: "https://github.com/vert-x3/vertx-mysql-postgresql-client/issues/79",
            summary: "a failed connection attempt keeps its capacity slot: the pool shrinks \
                      for good",
        },
        VariantInfo {
            name: "create-after-close",
            upstream: "https://github.com/apache/cassandra-nodejs-driver/pull/166",
            summary: "a connection created while the pool closes is added to the closed \
                      pool's idle list and never closed",
        },
        VariantInfo {
            name: "lifetime-closes-in-use",
            upstream: "https://github.com/fantom-lang/fantom/pull/93",
            summary: "the reaper closes a connection past max_lifetime while it is checked out \
                      instead of at check-in",
        },
    ],
    ops: &[
        OpInfo {
            name: "checkout",
            doc:
                "check a connection out (idle, new, or handed over after waiting); may be cancelled",
            params: &[],
        },
        OpInfo {
            name: "use",
            doc: "use the connection in hand for `steps` awaits (default 1)",
            params: &[param(
                "steps",
                ParamKind::Int,
                "awaits while using the connection (default 1)",
            ).range(0, 1_000_000)],
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
    ],
    config: &[
        param(
            "max_size",
            ParamKind::Int,
            "connections open at most (default 1)",
        ).range(1, 1000),
        param(
            "idle_timeout",
            ParamKind::Int,
            "logical time an idle connection lives (default 5)",
        ).range(0, 1_000_000),
        param(
            "create_steps",
            ParamKind::Int,
            "awaits a connection takes to establish (default 1)",
        ).range(0, 1_000_000),
        param(
            "connect_failures",
            ParamKind::Int,
            "the first this-many connection attempts fail (default 0)",
        ).range(0, 1_000_000),
        param(
            "max_lifetime",
            ParamKind::Int,
            "logical time a connection lives from creation; `reap` evicts it (default 0: forever)",
        ).range(0, 1_000_000),
    ],
};

impl Model for CheckoutPoolModel {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    /// Operation order and targets; the harness checks actor counts and every integer's
    /// declared range (`max_size` at least 1...) for every model alike.
    fn check(&self, spec: &ScenarioSpec) -> Result<(), SpecError> {
        for (a, actor) in spec.actors.iter().enumerate() {
            check_actor(spec, a, actor)?;
        }
        Ok(())
    }

    fn run(&self, spec: &ScenarioSpec, variant: &str) {
        let config = Config {
            max_size: spec.config.u32("max_size", 1),
            idle_timeout: u64::from(spec.config.u32("idle_timeout", 5)),
            create_steps: spec.config.u32("create_steps", 1),
            connect_failures: spec.config.u32("connect_failures", 0),
            max_lifetime: u64::from(spec.config.u32("max_lifetime", 0)),
        };
        let pool = Arc::new(Pool::new(Variant::parse(variant), config));
        let handles: Vec<_> = spec
            .actors
            .iter()
            .enumerate()
            .map(|(i, actor)| {
                let (pool, actor) = (pool.clone(), actor.clone());
                spawn(&actor.name.clone(), move || run_actor(&pool, i, &actor))
            })
            .collect();
        for h in handles {
            h.join();
        }
        pool.close();
    }
}

fn check_actor(spec: &ScenarioSpec, a: usize, actor: &ActorSpec) -> Result<(), SpecError> {
    let mut holding = false;
    for (o, op) in actor.ops.iter().enumerate() {
        let err = |message: String| Err(SpecError::op(a, o, message));
        match op.name.as_str() {
            "checkout" if holding => {
                return err("already holds a connection: check it in first".into())
            }
            "checkout" => holding = true,
            "use" | "checkin" | "discard" if !holding => {
                return err(format!(
                    "`{}` needs a connection in hand: add a `checkout` before it",
                    op.name
                ))
            }
            "checkin" | "discard" => holding = false,
            "cancel" => {
                let target = op.args.str("target", "");
                if !spec.actors.iter().any(|x| x.name == target) {
                    let names: Vec<&str> = spec.actors.iter().map(|x| x.name.as_str()).collect();
                    return err(format!(
                        "`cancel` targets `{target}`, which is not an actor ({})",
                        names.join(", ")
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run one actor's operations; a connection still in hand at the end is checked in.
fn run_actor(pool: &Pool, index: usize, actor: &ActorSpec) {
    let mut held: Option<(u32, u32)> = None;
    for (o, op) in actor.ops.iter().enumerate() {
        let req = u32::try_from((index + 1) * 100 + o).unwrap_or(u32::MAX);
        held = run_op(pool, &actor.name, op, req, held);
    }
    if let Some((req, conn)) = held {
        pool.checkin(req, conn);
    }
}

fn run_op(
    pool: &Pool,
    actor: &str,
    op: &OpSpec,
    req: u32,
    held: Option<(u32, u32)>,
) -> Option<(u32, u32)> {
    match op.name.as_str() {
        "checkout" => pool.checkout(actor, req).map(|conn| (req, conn)),
        "use" => {
            if held.is_some() {
                for _ in 0..op.args.int("steps", 1) {
                    yield_now("use connection");
                }
            }
            held
        }
        "checkin" => {
            if let Some((r, conn)) = held {
                pool.checkin(r, conn);
                if op.args.bool("twice", false) {
                    pool.checkin(r, conn);
                }
            }
            None
        }
        "discard" => {
            if let Some((r, conn)) = held {
                pool.discard(r, conn);
            }
            None
        }
        "cancel" => {
            pool.cancel(op.args.str("target", ""));
            held
        }
        "tick" => {
            advance_clock(u64::try_from(op.args.int("by", 1)).unwrap_or(1));
            held
        }
        "reap" => {
            pool.reap();
            held
        }
        "close-pool" => {
            pool.close();
            held
        }
        _ => {
            yield_now("await");
            held
        }
    }
}
