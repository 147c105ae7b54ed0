//! The asyncio transport lifecycle (CPython `BaseSubprocessTransport` and
//! `IocpProactor.connect_pipe`), wired into a small connection pool.
//!
//! A connection is born and dies concurrently with the requests that use it. The lesson of the
//! seed (`seeds/001_cf418f7319126e75.txt`, Victor Stinner's account of bpo-23293 and its
//! neighbours) applies to every pool: a connection attempt that fails or is cancelled must leave
//! nothing behind, and the transport's protocol must see `connection_made` before anything else
//! and `connection_lost` exactly once, last.
//!
//! - [`transport`]: `BaseSubprocessTransport` (python/cpython `Lib/asyncio/base_subprocess.py`):
//!   post-init connecting pipes one await at a time, `_pending_calls` until it finishes,
//!   `connection_made`, data callbacks, the process exit observed concurrently (`_try_finish`),
//!   `_call_connection_lost`, `close`.
//! - [`connect_pipe`]: `IocpProactor.connect_pipe` (`Lib/asyncio/windows_events.py`), its polling
//!   loop and its cancellation, and the duplex pipe transport built on its result.
//! - [`pool`]: a pool of our own design that creates its connections through the lifecycle
//!   (to be unified with the httpcore pool).
//! - [`event_loop`]: the ready queue, awaits and task cancellation.
//! - [`variant`]: CPython exactly as released or committed (`upstream-3.4.2`,
//!   `upstream-7ffa2c5f`, `upstream-3.8.5`), `fixed` (3.8.6), and one fix undone at a time:
//!   `cpython-try-finish` (1b9763d0), `cpython-post-init` (4bf22e03), `cpython-23293`
//!   (7ffa2c5f / e0fd157b), `cpython-37658` (`asyncio.wait_for`, a2118a14).
//! - [`ops`]: the operations scenarios use.
//!
//! asyncio is single-threaded: every actor is a task whose only scheduling points are its awaits
//! (one [`crate::sync::yield_now`] each, in the original's order); the state the original keeps
//! on `self` lives in [`crate::sync::Plain`]. Ghost events: [`crate::sync::Event::Callback`] for
//! every protocol callback that runs, `ResourceOpened`/`ResourceClosed` for transports
//! (`transport`), pipes and pipe handles (`pipe`), background polls (`poll-task`) and pool
//! connections (`conn`), and the pool's request and connection events.

pub mod connect_pipe;
pub mod event_loop;
pub mod ops;
pub mod pool;
pub mod transport;
pub mod variant;

pub use ops::Op;
pub use variant::{Fix, Release, Variant};

use crate::model::{ModelInfo, ScenarioSpec, SpecError};
use crate::sync::Flavour;
use crate::typed::{parse_all, Fix as _, OpAt, Ops, Release as _, TypedModel};
use event_loop::{Loop, Transport};
use pool::{Config, Connector, Pool};

/// The model's self-description.
pub static INFO: ModelInfo = ModelInfo {
    name: "asyncio-lifecycle",
    summary: "CPython asyncio BaseSubprocessTransport + IocpProactor.connect_pipe, wired into a \
              small pool: connect, made, data, lost, close on failure, cancellation",
    upstream: "python/cpython v3.4.2, 7ffa2c5f, v3.8.5, v3.8.6: Lib/asyncio/base_subprocess.py, \
               windows_events.py (connect_pipe, _make_subprocess_transport), tasks.py wait_for",
    variants: Release::INFO,
    fixes: Fix::INFO,
    ops: Op::INFO,
    config: ops::CONFIG,
};

/// The asyncio lifecycle model.
pub struct LifecycleModel;

/// What the actors of one execution share: the event loop and the pool.
pub struct World {
    lp: Loop,
    pool: Pool,
}

impl TypedModel for LifecycleModel {
    type Release = Release;
    type Op = Op;
    type World = World;
    /// The transport the actor holds.
    type Actor = Option<Transport>;
    const INFO: &'static ModelInfo = &INFO;
    /// CPython asyncio's `Lock` and `Semaphore` (`asyncio.Condition` and the pool's capacity).
    const LOCK_FLAVOUR: Flavour = Flavour::Asyncio;

    fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
        // Actor counts and integer ranges (`pipes` 0 to 3...) are the harness's checks.
        let connect = spec.config.str("connect", "spawn");
        if connect != "spawn" && connect != "pipe" {
            return Err(SpecError::config(
                "connect",
                format!("`connect` is \"{connect}\": use \"spawn\" or \"pipe\""),
            ));
        }
        parse_all::<Op>(spec)?;
        for (a, actor) in spec.actors.iter().enumerate() {
            ops::check_actor(spec, a, actor)?;
        }
        Ok(())
    }

    fn build(spec: &ScenarioSpec, variant: Variant) -> World {
        World {
            lp: Loop::new(variant),
            pool: Pool::new(config(spec)),
        }
    }

    fn run_op(w: &World, held: &mut Option<Transport>, at: OpAt<'_>, op: Op) {
        ops::run_op(&w.lp, &w.pool, at.actor, op, at.req, held);
    }

    /// A transport still held at the end is closed.
    fn end_actor(w: &World, held: Option<Transport>) {
        if let Some(t) = held {
            t.close(&w.lp);
        }
    }

    /// The loop keeps running after the tasks end: what they scheduled still happens.
    fn finish(w: &World) {
        w.lp.drain();
        w.pool.close(&w.lp);
        w.lp.drain();
    }
}

fn config(spec: &ScenarioSpec) -> Config {
    let c = &spec.config;
    let connector = match c.str("connect", "spawn") {
        "pipe" => Connector::Pipe {
            busy: c.u32("busy", 0),
        },
        _ => Connector::Spawn {
            pipes: usize::try_from(c.int("pipes", 1)).unwrap_or(1),
        },
    };
    Config {
        max_connections: c.u32("max_connections", 1),
        connector,
    }
}
