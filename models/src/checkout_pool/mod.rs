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
//!
//! Concepts beyond the basic pool, each off unless the scenario asks for it: follow-up requests
//! on the connection in hand and cancellation at any of their awaits ([`query`]), per-connection
//! idle timers fired by a timer task ([`timers`]), a connect shared by the checkouts waiting on
//! it (`shared_connect`, in [`pool`]), reference-counted connections closed by their connection
//! task ([`conn_task`]), and a peer that stops reading so closes and writes really block
//! ([`peer`]).

pub mod conn_task;
pub mod ops;
pub mod peer;
pub mod pool;
pub mod query;
pub mod timers;
pub mod variant;

pub use ops::Op;
pub use pool::{Config, Pool};
pub use variant::{Fix, Release, Variant};

use crate::model::{ModelInfo, ScenarioSpec, SpecError};
use crate::sync::Flavour;
use crate::typed::{Fix as _, OpAt, Ops, Release as _, TypedModel};
use ops::CONFIG;

/// The model's self-description.
pub static INFO: ModelInfo = ModelInfo {
    name: "checkout-pool",
    summary: "a generic checkout pool (capacity, idle list, hand-off, cancellation, reaper) with \
              the bug classes common to database and HTTP/1 pools",
    upstream: "composite of ClickHouse/clickhouse-go, launchbadge/sqlx, deadpool, \
               mperham/connection_pool, r2dbc-pool (see each variant)",
    variants: Release::INFO,
    fixes: Fix::INFO,
    ops: Op::INFO,
    config: CONFIG,
};

/// The checkout-pool model.
pub struct CheckoutPoolModel;

impl TypedModel for CheckoutPoolModel {
    type Release = Release;
    type Op = Op;
    type World = Pool;
    /// The (request, connection) in hand.
    type Actor = Option<(u32, u32)>;
    const INFO: &'static ModelInfo = &INFO;
    /// A generic pool with no runtime of its own: no fairness is promised (std).
    const LOCK_FLAVOUR: Flavour = Flavour::Std;

    fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
        ops::check(spec)
    }

    fn build(spec: &ScenarioSpec, variant: Variant) -> Pool {
        let config = Config {
            max_size: spec.config.u32("max_size", 1),
            idle_timeout: u64::from(spec.config.u32("idle_timeout", 5)),
            create_steps: spec.config.u32("create_steps", 1),
            connect_failures: spec.config.u32("connect_failures", 0),
            max_lifetime: u64::from(spec.config.u32("max_lifetime", 0)),
            idle_timers: spec.config.bool("idle_timers", false),
            shared_connect: spec.config.bool("shared_connect", false),
            conn_tasks: spec.config.bool("conn_tasks", false),
            peer_stops_reading: spec.config.bool("peer_stops_reading", false),
        };
        Pool::new(variant, config, crate::cancel::cancel_targets(spec))
    }

    fn run_op(pool: &Pool, held: &mut Option<(u32, u32)>, at: OpAt<'_>, op: Op) {
        ops::run_op(pool, at.actor, op, at.req, held);
    }

    /// A connection still in hand at the end is checked in.
    fn end_actor(pool: &Pool, held: Option<(u32, u32)>) {
        if let Some((req, conn)) = held {
            pool.checkin(req, conn);
        }
    }

    fn finish(pool: &Pool) {
        pool.close();
    }
}
