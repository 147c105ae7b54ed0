//! httpcore's async connection pool and HTTP/2 connection (encode/httpcore 1.0.9, commit
//! 9820975), with the remote HTTP/2 server as a scripted peer, and the historical races of this
//! code as variants ([`Variant`]).
//!
//! Layers, each in its own file and each citing the upstream file and lines it follows:
//! - `pool.rs` ([`Pool`]): `AsyncConnectionPool` (`_assign_requests_to_connections`: expiry,
//!   surplus idle eviction, make-room, reuse; closing outside the section) and the
//!   `AsyncHTTPConnection` wrapper that connects lazily;
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
//! - One origin, HTTP/2 only, GET requests without a body, no timeouts, no flow control, no
//!   connect failures, no trace extension. `local_max_streams` (default 2) stands for h2's 100.
//! - The facade semaphore's `release` takes its count lock (anyio's does not suspend): one
//!   extra scheduling point per release, which only adds interleavings.
//! - Cancellation is deterministic (`cancel_after` names the await that raises), not a
//!   cancel scope another actor triggers.

mod connection;
mod h2state;
mod ops;
mod peer;
mod pool;
mod variant;

pub use connection::{CancelAt, ConnConfig, Http2Connection, HttpState, ReqError};
pub use h2state::{ClientFrame, H2Error, H2Event, H2State, ServerFrame};
pub use ops::{Cancel, Op, INFO};
pub use peer::{Network, PeerConfig, Plan, Respond};
pub use pool::{outcome_of, Pool, PoolConfig, Response};
pub use variant::Variant;

use crate::model::{ActorSpec, Args, Model, ModelInfo, ScenarioSpec, SpecError};
use crate::sync::{advance_clock, spawn, yield_now, Outcome};
use std::collections::VecDeque;
use std::sync::Arc;

/// The httpcore model.
pub struct HttpcoreModel;

impl Model for HttpcoreModel {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn check(&self, spec: &ScenarioSpec) -> Result<(), SpecError> {
        ops::check(spec)
    }

    fn run(&self, spec: &ScenarioSpec, variant: &str) {
        let c = &spec.config;
        let net = Arc::new(Network::new(peer_config(c)));
        let pool = Arc::new(Pool::new(
            Variant::parse(variant),
            pool_config(c),
            net.clone(),
        ));
        let handles: Vec<_> = spec
            .actors
            .iter()
            .enumerate()
            .map(|(i, actor)| {
                let (pool, net, actor) = (pool.clone(), net.clone(), actor.clone());
                spawn(&actor.name.clone(), move || {
                    run_actor(&pool, &net, i, &actor)
                })
            })
            .collect();
        for h in handles {
            h.join();
        }
        if c.bool("close_pool_at_end", false) {
            pool.aclose();
        } else {
            pool.release_pooled();
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
        },
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
    }
}

/// One actor: its operations in order, then it closes the responses it still keeps.
fn run_actor(pool: &Pool, net: &Network, index: usize, actor: &ActorSpec) {
    let mut kept = VecDeque::new();
    for (o, spec) in actor.ops.iter().enumerate() {
        let op = Op::parse(spec).expect("validated by HttpcoreModel::check");
        let req = u32::try_from((index + 1) * 100 + o).unwrap_or(u32::MAX);
        run_op(pool, net, op, req, &mut kept);
    }
    while let Some(resp) = kept.pop_front() {
        finish_response(pool, &resp, true);
    }
}

fn run_op(pool: &Pool, net: &Network, op: Op, req: u32, kept: &mut VecDeque<Response>) {
    match op {
        Op::Request { cancel, hold, keep } => {
            let Some(resp) = pool.handle_async_request(req, cancel.at()) else {
                return;
            };
            for _ in 0..hold {
                yield_now("hold the response");
            }
            if keep {
                kept.push_back(resp);
            } else {
                finish_response(pool, &resp, cancel != Cancel::Headers);
            }
        }
        Op::CloseResponse { read_body } => {
            if let Some(resp) = kept.pop_front() {
                finish_response(pool, &resp, read_body);
            }
        }
        Op::Tick(by) => advance_clock(by),
        Op::PoolMaintain => {
            yield_now("pool maintenance");
            pool.maintain();
        }
        Op::ClosePool => pool.aclose(),
        Op::Await => yield_now("await"),
        _ => run_peer_op(net, op),
    }
}

fn run_peer_op(net: &Network, op: Op) {
    match op {
        Op::Settings { conn, max_streams } => net.send(
            conn,
            ServerFrame::Settings {
                max_streams: Some(max_streams),
            },
        ),
        Op::Respond {
            conn,
            stream,
            end_stream,
            body,
        } => net.plan(
            conn,
            stream,
            Plan::Respond {
                end_stream,
                body: body.unwrap_or(net.body_default()),
            },
        ),
        Op::Reset { conn, stream } => net.plan(conn, stream, Plan::Reset),
        Op::EndStream { conn, stream } => net.end_stream(conn, stream),
        Op::Goaway { conn, last_stream } => net.goaway(conn, last_stream),
        Op::Disconnect { conn } => net.disconnect(conn),
        _ => unreachable!("client operations are handled by run_op"),
    }
}

/// `async for chunk in response.aiter_stream()` (unless `read_body` is false), then
/// `PoolByteStream.aclose()`; a failure while reading closes the response and ends the request
/// with that error (`PoolByteStream.__aiter__`'s `except`).
fn finish_response(pool: &Pool, resp: &Response, read_body: bool) {
    if !read_body {
        pool.close_response(resp, Outcome::Cancelled);
        return;
    }
    let outcome = match resp.conn.receive_response_body(resp.stream) {
        Ok(()) => Outcome::Response,
        Err(e) => outcome_of(e),
    };
    pool.close_response(resp, outcome);
}
