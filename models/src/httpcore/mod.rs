//! httpcore's async connection pool and its HTTP/2 and HTTP/1.1 connections (encode/httpcore
//! 1.0.9, commit 9820975), with the remote server as a scripted peer, and the historical races of
//! this code as variants ([`Variant`]).
//!
//! Layers, each in its own file and each citing the upstream file and lines it follows:
//! - `pool.rs` ([`Pool`]): `AsyncConnectionPool` (`_assign_requests_to_connections`: expiry,
//!   surplus idle eviction, make-room, reuse; closing outside the section) and the
//!   `AsyncHTTPConnection` wrapper that connects lazily;
//! - `http_connection.rs` ([`HttpConnection`]): `AsyncHTTPConnection`, which connects under its
//!   `_request_lock` and picks HTTP/2 or HTTP/1.1 from the ALPN result (`http2`, `alpn`);
//! - `http11.rs` ([`Http11Connection`]): `AsyncHTTP11Connection` (`_state_lock`, NEW, ACTIVE,
//!   IDLE, CLOSED, one request/response cycle at a time);
//! - `task.rs` ([`Task`]): where a request may be cancelled (`cancel_at`, `cancel target=...`),
//!   over the shared [`crate::cancel`] book;
//! - `connection.rs` ([`Http2Connection`]): `AsyncHTTP2Connection` (`_state_lock`,
//!   `_init_lock`, `_read_lock`, `_write_lock`, `_max_streams_semaphore`, `_events`,
//!   `_response_closed`, `aclose`...);
//! - `h2state.rs` ([`H2State`]): the h2 protocol state machine (open streams vs the peer's
//!   limit, stream ids);
//! - `peer.rs` ([`Network`]): the sockets and the server (SETTINGS, responses, RST_STREAM,
//!   GOAWAY, EOF).
//!
//! Each async original is a thread whose scheduling points are exactly its awaits (one facade
//! lock, semaphore, network or `yield_now` operation per await, in order). A scenario actor runs
//! its operations ([`Op`], listed in [`INFO`]) in order; a request's task is the actor itself.
//! When every actor has ended, responses they kept are closed; then the pool is closed
//! (`close_pool_at_end`) or its idle connections count as returned, so that `no-leak` sees what
//! a bug left behind.
//!
//! Probes: `RequestStarted`/`RequestFinished` (pool entry, response closed or error raised),
//! `RequestAssigned`, `ConnCreated` and `ConnPhase` (every assignment of `_state`),
//! `StreamOpened` (`_events[stream_id] = []`) and `StreamClosed` (`del _events[stream_id]`),
//! `ConnClosed` with who closed it (pool: `Expired`/`Surplus`/`MakeRoom`/`Owner`; the
//! connection itself: `Terminated`/`Error`), `ProtocolOpenStreams` (h2's open streams and the
//! peer's limit), `StreamPermits` (the semaphore and `_max_streams`), `ResourceOpened/Closed`
//! (`conn`: the socket), `HeadersSent`, `PeerProcessed`, `SettingsApplied`, `GoawayReceived`.
//!
//! # Limitations
//! - Only the asyncio build is modelled: code between two awaits is atomic (under std threads
//!   the facade's run token provides that). httpcore's threaded `_sync` build has races of its
//!   own that this model does not show (a pool pass on one thread can read `is_idle()` while
//!   another thread marks the connection ACTIVE under `_state_lock`, a different lock).
//! - One origin, GET requests without a body, no timeouts, no flow control, no connect
//!   failures, no trace extension. `local_max_streams` (default 2) stands for h2's 100.
//! - Locks and semaphores are anyio's ([`Flavour::Anyio`]): httpcore's `AsyncLock` and
//!   `AsyncSemaphore` (`httpcore/_synchronization.py` 48-91 and 154-188 at 9820975) wrap
//!   `anyio.Lock()` and `anyio.Semaphore()` on asyncio, without `fast_acquire` (reverted in
//!   1.0.8, encode/httpcore#1002). The pool request's `AsyncEvent` is a facade lock and condition
//!   variable: its wake-up takes a lock, one scheduling point `event.set()` does not have, which
//!   only adds interleavings.
//! - Cancellation lands at the awaits [`task::POINTS`] lists; one that arrives while the task
//!   is blocked in a lock, a permit or a read is observed at its next await ([`task`]).

pub mod connection;
pub mod h2state;
pub mod http11;
pub mod http_connection;
pub mod ops;
pub mod peer;
pub mod pool;
pub mod task;
pub mod variant;

pub use connection::{ConnConfig, Http2Connection, ReqError};
pub use h2state::{ClientFrame, H2Error, H2Event, H2State, ServerFrame};
pub use http11::Http11Connection;
pub use http_connection::{HttpConnection, Negotiation, Protocol};
pub use ops::Op;
pub use peer::{Network, PeerConfig, Plan, Respond};
pub use pool::{outcome_of, Pool, PoolConfig, Response};
pub use task::{Cancels, Task};
pub use variant::{Fix, Release, Variant};

use crate::model::{Args, ModelInfo, ScenarioSpec, SpecError};
use crate::sync::Flavour;
use crate::typed::{Fix as _, OpAt, Ops, Release as _, TypedModel};
use ops::CONFIG;
use std::collections::VecDeque;
use std::sync::Arc;

/// The model's self-description.
pub static INFO: ModelInfo = ModelInfo {
    name: "httpcore",
    summary: "encode/httpcore AsyncConnectionPool + AsyncHTTP2Connection, with a scripted HTTP/2 \
              server",
    upstream: "encode/httpcore 1.0.9 (9820975) httpcore/_async/http2.py, connection_pool.py, \
               connection.py",
    variants: Release::INFO,
    fixes: Fix::INFO,
    ops: Op::INFO,
    config: CONFIG,
};

/// The httpcore model.
pub struct HttpcoreModel;

/// What the actors of one execution share.
pub struct World {
    pool: Pool,
    net: Arc<Network>,
    close_pool_at_end: bool,
}

impl TypedModel for HttpcoreModel {
    type Release = Release;
    type Op = Op;
    type World = World;
    /// The responses the actor keeps open, oldest first.
    type Actor = VecDeque<Response>;
    const INFO: &'static ModelInfo = &INFO;
    /// anyio's locks, what httpcore runs on under asyncio (`_synchronization.py` 59-68,
    /// 159-172): a released lock or permit goes straight to the first waiter, `release()` never
    /// suspends, an uncontended acquire checkpoints while holding what it took.
    const LOCK_FLAVOUR: Flavour = Flavour::Anyio;

    fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
        ops::check(spec)
    }

    fn build(spec: &ScenarioSpec, variant: Variant) -> World {
        let c = &spec.config;
        let net = Arc::new(Network::new(peer_config(c)));
        World {
            pool: Pool::new(
                variant,
                pool_config(c),
                net.clone(),
                Cancels::new(crate::cancel::cancel_targets(spec)),
            ),
            net,
            close_pool_at_end: c.bool("close_pool_at_end", false),
        }
    }

    fn run_op(w: &World, kept: &mut VecDeque<Response>, at: OpAt<'_>, op: Op) {
        ops::run_op(&w.pool, &w.net, op, at, kept);
    }

    /// Responses still kept when the actor ends are read and closed.
    fn end_actor(w: &World, mut kept: VecDeque<Response>) {
        while let Some(resp) = kept.pop_front() {
            ops::finish_response(&w.pool, &resp, true);
        }
    }

    fn finish(w: &World) {
        if w.close_pool_at_end {
            w.pool.aclose();
        } else {
            w.pool.release_pooled();
        }
    }
}
fn pool_config(c: &Args) -> PoolConfig {
    let max_connections = c.u32("max_connections", 1);
    let keepalive = c.int("keepalive_expiry", 5);
    PoolConfig {
        max_connections,
        max_keepalive_connections: c
            .u32("max_keepalive_connections", max_connections)
            .min(max_connections),
        conn: ConnConfig {
            keepalive_expiry: u64::try_from(keepalive).ok(),
            local_max_streams: c.u32("local_max_streams", 2),
            stream_ids: c.u32("stream_ids", 100),
            stream_window: stream_window(c),
        },
        http2: c.bool("http2", true),
        // Checked by `ops::check` before any execution.
        http11: ops::alpn(c).unwrap_or_default(),
    }
}

fn peer_config(c: &Args) -> PeerConfig {
    PeerConfig {
        respond: match c.str("respond", "full") {
            "headers" => Respond::HeadersOnly,
            "manual" => Respond::Manual,
            _ => Respond::Full,
        },
        initial_max_streams: Some(c.u32("server_max_streams", 100)).filter(|m| *m > 0),
        body: c.bool("response_body", false),
        body_frames: c.u32("response_frames", 1),
        stream_window: stream_window(c),
    }
}

/// `stream_window`: the stream flow-control window in DATA frames, which the client advertises
/// and the server respects (0, the default: no body fills it).
fn stream_window(c: &Args) -> Option<u32> {
    Some(c.u32("stream_window", 0)).filter(|w| *w > 0)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
