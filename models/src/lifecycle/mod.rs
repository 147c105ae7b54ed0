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
//! - [`variant`]: `fixed`, `cpython-try-finish` (1b9763d0), `cpython-post-init` (4bf22e03),
//!   `cpython-23293` (7ffa2c5f / e0fd157b), `cpython-37658` (`asyncio.wait_for`, a2118a14).
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

pub use variant::Variant;

use crate::model::{Model, ModelInfo, ScenarioSpec, SpecError, VariantInfo};
use crate::sync::spawn;
use event_loop::Loop;
use pool::{Config, Connector, Pool};
use std::sync::Arc;

/// The asyncio lifecycle model.
pub struct LifecycleModel;

static INFO: ModelInfo = ModelInfo {
    name: "asyncio-lifecycle",
    summary: "CPython asyncio BaseSubprocessTransport + IocpProactor.connect_pipe, wired into a \
              small pool: connect, made, data, lost, close on failure, cancellation",
    upstream: "python/cpython Lib/asyncio/base_subprocess.py (1b9763d0^), \
               Lib/asyncio/windows_events.py (7ffa2c5f, e0fd157b), unix_events.py (4bf22e03), \
               tasks.py wait_for (a2118a14)",
    variants: &[
        VariantInfo {
            name: "fixed",
            upstream: "",
            summary: "every fix applied (CPython 3.4.3 and later)",
        },
        VariantInfo {
            name: "cpython-try-finish",
            upstream:
                "https://github.com/python/cpython/commit/1b9763d0a9c62c13dc2a06770032e5906b610c96",
            summary: "_try_finish schedules connection_lost with call_soon, bypassing the \
                      pending-call queue: it can run before connection_made",
        },
        VariantInfo {
            name: "cpython-post-init",
            upstream:
                "https://github.com/python/cpython/commit/4bf22e033e975f61c33752db5a3764dc0f7d0b03",
            summary: "a post-init that fails or is cancelled leaves the transport open",
        },
        VariantInfo {
            name: "cpython-23293",
            upstream: "https://bugs.python.org/issue23293 (7ffa2c5f; fixed by e0fd157b)",
            summary: "connect_pipe's call_later poll ignores the cancellation of its future and \
                      keeps polling, then opens a handle nobody closes",
        },
        VariantInfo {
            name: "cpython-37658",
            upstream: "https://bugs.python.org/issue37658 (fixed by a2118a14)",
            summary: "wait_for cancelled after its inner acquire finished raises CancelledError \
                      and drops the connection the acquire returned (requests with wait_for)",
        },
    ],
    ops: ops::OPS,
    config: ops::CONFIG,
};

impl Model for LifecycleModel {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn check(&self, spec: &ScenarioSpec) -> Result<(), SpecError> {
        // Actor counts and integer ranges (`pipes` 0 to 3...) are the harness's checks.
        let connect = spec.config.str("connect", "spawn");
        if connect != "spawn" && connect != "pipe" {
            return Err(SpecError::config(
                "connect",
                format!("`connect` is \"{connect}\": use \"spawn\" or \"pipe\""),
            ));
        }
        for (a, actor) in spec.actors.iter().enumerate() {
            ops::check_actor(spec, a, actor)?;
        }
        Ok(())
    }

    fn run(&self, spec: &ScenarioSpec, variant: &str) {
        let lp = Arc::new(Loop::new(Variant::parse(variant)));
        let pool = Arc::new(Pool::new(config(spec)));
        let spec = Arc::new(spec.clone());
        let handles: Vec<_> = (0..spec.actors.len())
            .map(|i| {
                let (lp, pool, spec) = (lp.clone(), pool.clone(), spec.clone());
                let name = spec.actors[i].name.clone();
                spawn(&name, move || {
                    let w = ops::World {
                        lp: &lp,
                        pool: &pool,
                        spec: &spec,
                    };
                    ops::run_actor(&w, i, &spec.actors[i]);
                })
            })
            .collect();
        for h in handles {
            h.join();
        }
        // The loop keeps running after the tasks end: what they scheduled still happens.
        lp.drain();
        pool.close(&lp);
        lp.drain();
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
