//! `clientConnPool` (golang/net `http2/client_conn_pool.go`): connections by host, dials
//! coalesced per host, and the availability check that holds the pool lock while it asks each
//! connection (`cc.mu`) whether it can take the request.
//!
//! Upstream: golang/net `http2/client_conn_pool.go` at 4e4d966f: `getClientConn` 86-127 (the
//! loop over `p.conns[addr]` calling `cc.ReserveNewRequest()` with `p.mu` held, and after a
//! dial `cc.ReserveNewRequest()` again), `getStartDialLocked`/`dial` 142-172, `addConnLocked`
//! 235-249, `MarkDead` 251-267; before 4e4d966f (76eb614f) for go-reserve (`cc.idleState()`
//! with no reservation, and `return call.res, call.err` after a dial). `newClientConn`
//! (`transport.go` 670-738) writes the preface and starts the read loop.
//!
//! Abstractions: the dial goroutine (`dialCall.dial`) runs in the first requester, which waits
//! for it anyway; waiters see the dial done and the conn added to the pool in one step (upstream
//! closes `call.done` just before taking `p.mu` to add it); dialing never fails; the GetConn
//! trace hook (`shouldTraceGetConn`) is not modelled; single-use connections are not modelled.

use super::client_conn::{ClientConn, ConnOptions, CONN_FLOW, STREAM_FLOW};
use super::ctx::Contexts;
use super::net::{ClientFrame, Net};
use super::read_loop::read_loop;
use super::variant::Variant;
use crate::sync::{
    blocking, probe, probe_phase, BlockKind, CloseReason, Condvar, ConnPhase, Event, LockClass,
    Mutex,
};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
struct PoolState {
    /// `p.conns`.
    conns: BTreeMap<String, Vec<Arc<ClientConn>>>,
    /// `p.dialing`: host -> dial call number.
    dialing: BTreeMap<String, u32>,
    /// Finished dial calls (`call.res`).
    dialed: BTreeMap<u32, Arc<ClientConn>>,
    next_call: u32,
}

/// The transport's connection pool.
pub struct Pool {
    variant: Variant,
    net: Arc<Net>,
    /// `p.mu`.
    mu: Mutex<PoolState>,
    dial_done: Condvar,
    /// What every connection it dials gets (the goroutines are joined at the end).
    conn_opts: ConnOptions,
}

impl Pool {
    /// An empty pool over `net` whose connections get `conn_opts`.
    pub fn new(net: Arc<Net>, conn_opts: ConnOptions) -> Self {
        Pool {
            variant: conn_opts.variant,
            net,
            mu: Mutex::new(
                "pool.mu",
                LockClass::non_blocking("pool"),
                PoolState::default(),
            ),
            dial_done: Condvar::new("pool: dial done"),
            conn_opts,
        }
    }

    /// `getClientConn(req, addr, dialOnMiss)`: a connection that (after 4e4d966f) has reserved
    /// a stream slot for request `req`.
    pub fn get_client_conn(
        self: &Arc<Self>,
        req: u32,
        host: &str,
    ) -> Result<Arc<ClientConn>, super::client_conn::ReqErr> {
        loop {
            let mut p = self.mu.lock();
            let candidates = p.conns.get(host).cloned().unwrap_or_default();
            for cc in candidates {
                if self.take(&cc, req) {
                    drop(p);
                    return Ok(cc);
                }
            }
            let (call, start) = match p.dialing.get(host) {
                Some(call) => (*call, false),
                None => {
                    p.next_call += 1;
                    let call = p.next_call;
                    p.dialing.insert(host.to_owned(), call);
                    (call, true)
                }
            };
            drop(p);
            let cc = if start {
                self.dial(call, host)
            } else {
                self.await_dial(call)
            };
            if !self.variant.reserves() {
                cc.assigned(req); // before 4e4d966f: `return call.res, call.err`, no check
                return Ok(cc);
            }
            if cc.reserve_new_request(req) {
                return Ok(cc);
            }
        }
    }

    /// The pool's question to a connection: `ReserveNewRequest` (4e4d966f) or `idleState`.
    fn take(&self, cc: &ClientConn, req: u32) -> bool {
        if self.variant.reserves() {
            cc.reserve_new_request(req)
        } else {
            cc.idle_state(req)
        }
    }

    /// `dialCall.dial` + `newClientConn`: connect, write the preface, start the read loop, add
    /// the connection to the pool.
    fn dial(self: &Arc<Self>, call: u32, host: &str) -> Arc<ClientConn> {
        let tconn = self.net.accept();
        let id = tconn.id();
        let cc = Arc::new(ClientConn::new(host, &self.conn_opts, tconn));
        probe(Event::ConnCreated { conn: id });
        blocking(BlockKind::NetWrite, &format!("cc{id}: preface+SETTINGS"));
        let preface = ClientFrame::Preface {
            initial_window: STREAM_FLOW,
            conn_window_update: CONN_FLOW,
        };
        let _ = cc.tconn.write(vec![preface]);
        probe_phase(id, ConnPhase::Active);
        let (cc2, pool) = (cc.clone(), self.clone());
        let goroutines = &self.conn_opts.goroutines;
        goroutines.go(&format!("conn{id}.readLoop"), move || read_loop(cc2, pool));
        let mut p = self.mu.lock();
        p.dialing.remove(host);
        p.dialed.insert(call, cc.clone());
        p.conns.entry(host.to_owned()).or_default().push(cc.clone());
        drop(p);
        self.dial_done.notify_all();
        cc
    }

    /// `<-call.done`.
    fn await_dial(&self, call: u32) -> Arc<ClientConn> {
        let mut p = self.mu.lock();
        loop {
            if let Some(cc) = p.dialed.get(&call) {
                return cc.clone();
            }
            p = self.dial_done.wait(p);
        }
    }

    /// `MarkDead` (246-262): the connection leaves the pool.
    pub fn mark_dead(&self, cc: &ClientConn) {
        let mut p = self.mu.lock();
        if let Some(list) = p.conns.get_mut(&cc.host) {
            list.retain(|c| c.id != cc.id);
        }
    }

    /// `closeIdleConnections` (264-278): with `p.mu` held, `closeIfIdle` every connection the
    /// pool still has (in host order; Go iterates a map).
    fn close_idle_connections(&self) {
        let p = self.mu.lock();
        for cc in p.conns.values().flatten() {
            cc.close_if_idle(CloseReason::Owner);
        }
    }

    /// End of the execution: the client's own cleanup, `Transport.CloseIdleConnections()` (a
    /// program's `defer tr.CloseIdleConnections()`); then the servers go away, the contexts'
    /// watchers still blocked stop (the program exits), and the goroutines are joined. A
    /// connection the client cannot reach any more (out of the pool and never closed) stays
    /// open, and a watcher that never ended stays open, for `no-leak`.
    pub fn shutdown(&self, contexts: &Contexts) {
        self.close_idle_connections();
        self.net.teardown();
        contexts.tear_down();
        self.conn_opts.goroutines.join_all();
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
