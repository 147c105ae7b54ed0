//! golang.org/x/net/http2's client: `clientConnPool` and `ClientConn`, the model of Go's HTTP/2
//! Transport that golang/go#32388, #48340, #48491, the `streamsReserved` fix and GOAWAY handling
//! are about.
//!
//! Upstream: golang/net `http2/transport.go` and `http2/client_conn_pool.go` at four
//! consecutive commits, each a variant exactly as published (see [`variant`]): 95888ee7 (before
//! CL 349594), 978cfadd (CL 349594, "http2: avoid blocking while holding ClientConn.mu"),
//! 76eb614f (with cf34111c) and 4e4d966f (`streamsReserved`); `fixed` adds later upstream fixes
//! carried onto 4e4d966f. Each module cites its functions and lines.
//!
//! A Go original keeps its goroutines and mutexes: every request is the caller's goroutine
//! (`Transport.RoundTrip`), each connection has its read loop actor (`go cc.readLoop()`), and
//! `mu`, `wmu`, `reqHeaderMu`, `cond` and the pool's `p.mu` are facade locks with their
//! upstream roles. `mu` and the pool lock are `LockClass::non_blocking`: a network write or a
//! stall under either is a `lock-held-blocking` violation.
//!
//! Layout: [`client_conn`] (the locks and their state), [`ctx`] (request contexts, their
//! cancellation and the goroutines started for a request), [`state`] (the connection and stream
//! state machines), [`encoder`] (`cc.henc` + `cc.hbuf`, whose unguarded use is detected),
//! [`round_trip`] (a request), [`read_loop`] (frames from the server), [`pool`] (the pool),
//! [`net`] (the in-memory connection whose writes stall when the peer stops reading), [`peer`]
//! (the server, decoding every header block with the real HPACK codec of [`hpack`]),
//! [`variant`], [`ops`] (the scenario vocabulary).
//!
//! At the end of an execution the main actor does what a client program does last,
//! `Transport.CloseIdleConnections()`, then the servers go away and the read loops are joined;
//! a connection the client forgot (out of the pool and never closed) stays open for `no-leak`.
//! loom allows four spawned actors: scenario actors plus one read loop per connection dialed
//! must stay within that for the loom scheduler.

pub mod client_conn;
pub mod ctx;
pub mod encoder;
pub mod field;
pub mod hpack;
pub mod net;
pub mod ops;
pub mod peer;
pub mod pool;
pub mod read_loop;
pub mod round_trip;
pub mod state;
pub mod variant;

pub use ops::Op;
pub use variant::{Fix, Release, Variant};

use crate::cancel::cancel_targets;
use crate::model::{ModelInfo, ScenarioSpec, SpecError};
use crate::sync::Flavour;
use crate::typed::{Fix as _, OpAt, Ops, Release as _, TypedModel};
use client_conn::ConnOptions;
use ctx::{Contexts, Goroutines};
use net::Net;
use ops::CONFIG;
use peer::PeerConfig;
use pool::Pool;
use std::sync::Arc;

/// The model's self-description.
pub static INFO: ModelInfo = ModelInfo {
    name: "go-h2",
    summary: "golang.org/x/net/http2 Transport: clientConnPool + ClientConn (mu, wmu, \
              reqHeaderMu, read loop) against a scripted server with a real HPACK decoder",
    upstream: "golang/net http2/transport.go + http2/client_conn_pool.go at 95888ee7, 978cfadd \
               (CL 349594), 76eb614f and 4e4d966f; fixed adds 0e478a2a, d0c6ba3f and two fixes of \
               ours",
    variants: Release::INFO,
    fixes: Fix::INFO,
    ops: Op::INFO,
    config: CONFIG,
};

/// The go-h2 model.
pub struct GoH2Model;

/// What the actors of one execution share.
pub struct World {
    pool: Arc<Pool>,
    net: Arc<Net>,
    contexts: Contexts,
}

impl TypedModel for GoH2Model {
    type Release = Release;
    type Op = Op;
    type World = World;
    type Actor = ();
    const INFO: &'static ModelInfo = &INFO;
    /// Go's `sync.Mutex`: barging, starvation mode abstracted (see [`Flavour::Go`]).
    const LOCK_FLAVOUR: Flavour = Flavour::Go;

    fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
        ops::check(spec)
    }

    fn build(spec: &ScenarioSpec, variant: Variant) -> World {
        let c = &spec.config;
        let peer = PeerConfig {
            max_streams: u32::try_from(c.int("max_streams", -1)).ok(),
            header_table_size: u32::try_from(c.int("header_table_size", -1)).ok(),
            max_frame_size: u32::try_from(c.int("max_frame_size", -1)).ok(),
            auto_respond: c.bool("auto_respond", true),
            response_body: c.u32("response_body", 0),
            defer_body_reads: !c.bool("read_bodies", true),
            conn_window: c.int("conn_window", 65_535),
        };
        let net = Arc::new(Net::new(peer, c.u32("net_buffer", 1024) as usize));
        let conn_opts = ConnOptions {
            variant,
            goroutines: Arc::new(Goroutines::new()),
            body_goroutine: c.bool("body_goroutine", false),
            strict_max_streams: c.bool("strict_max_streams", false),
        };
        let pool = Arc::new(Pool::new(net.clone(), conn_opts));
        let contexts = Contexts::new(cancel_targets(spec));
        World {
            pool,
            net,
            contexts,
        }
    }

    fn run_op(w: &World, _: &mut (), at: OpAt<'_>, op: Op) {
        ops::run_op(w, op, at.actor, at.req);
    }

    fn finish(w: &World) {
        w.pool.shutdown(&w.contexts);
    }
}
