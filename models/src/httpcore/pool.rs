//! `AsyncConnectionPool` (encode/httpcore 1.0.9, commit 9820975,
//! `httpcore/_async/connection_pool.py`) with `PoolByteStream`, over `AsyncHTTPConnection`s
//! ([`HttpConnection`]) that connect lazily and speak HTTP/2 or HTTP/1.1.
//!
//! The pool's `_optional_thread_lock` is a no-op under asyncio: its sections contain no `await`,
//! so they are atomic; they are modelled as [`Plain`] sections (no scheduling point), and the two
//! adjacent sections at the start of `handle_async_request` (append, then the first assignment)
//! are one. `pool_request.wait_for_connection()` awaits an event only when no connection is
//! assigned yet: a facade lock and condition variable stand for the event.
//!
//! Abstractions: one origin (every connection can handle every request); connecting never
//! fails. Whether a connection still connecting may take a second request depends on the pool
//! offering HTTP/2 ([`HttpConnection::is_available`]).
//!
//! A request may be cancelled at the awaits [`super::task`] lists; here at `wait`
//! (`pool_request.wait_for_connection()`), which a `cancel` from another actor also wakes.
//! Fix `reclaim-orphaned-connection` (after encode/httpcore#1099, for #1093): a request that
//! fails or is cancelled drops the connection the pool created or handed to it if no request
//! ever started on it and no other request is assigned to it. Upstream (connection_pool.py
//! 250-258) only removes the request: a connection still connecting, or an HTTP/1.1 one still
//! NEW, is then neither available, idle, expired nor closed, and holds its pool slot for good.
//!
//! Fix `close-in-section` (ours): every connection that `_assign_requests_to_connections` or
//! `aclose` removes is marked CLOSED inside that section ([`super::Http2Connection::begin_close`]), and
//! only the network close is left to `_close_connections`. Upstream (connection_pool.py 341-345)
//! closes them one `await connection.aclose()` at a time, so a request handed the second
//! connection of the list while it was still idle can open a stream on it before its `aclose`.

use super::connection::{ConnConfig, ReqError};
use super::http_connection::{HttpConnection, Negotiation, Protocol};
use super::peer::Network;
use super::task::{Cancels, Task};
use super::variant::{Fix, Variant};
use crate::sync::{probe, CloseReason, Condvar, Event, LockClass, Mutex, Outcome, Plain};
use std::sync::Arc;

/// The pool's configuration.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// `max_connections`.
    pub max_connections: u32,
    /// `max_keepalive_connections` (capped at `max_connections`, as upstream).
    pub max_keepalive_connections: u32,
    /// Per-connection settings.
    pub conn: ConnConfig,
    /// The pool offers `h2` in ALPN (`http2=True`; otherwise every connection is HTTP/1.1).
    pub http2: bool,
    /// Connection `n` (from 1) negotiates HTTP/1.1 if `http11[n - 1]` (the last entry holds for
    /// later connections); empty: HTTP/2 wherever offered.
    pub http11: Vec<bool>,
}

impl PoolConfig {
    /// How connection `id` picks its protocol.
    fn negotiation(&self, id: u32) -> Negotiation {
        let n = usize::try_from(id).unwrap_or(usize::MAX).saturating_sub(1);
        let http11 = self.http11.get(n).or(self.http11.last()).copied();
        Negotiation {
            http2_offered: self.http2,
            selects_http11: !self.http2 || http11.unwrap_or(false),
        }
    }
}

/// A response whose body is not closed yet.
pub struct Response {
    /// Request number.
    pub req: u32,
    /// The connection it arrived on.
    pub conn: Protocol,
    /// Its stream id (HTTP/1.1: its cycle on the connection).
    pub stream: u32,
}

/// A connection removed from the pool, and why.
type Closing = (Arc<HttpConnection>, CloseReason);

struct PoolRequest {
    req: u32,
    connection: Option<Arc<HttpConnection>>,
}

/// What one `_assign_requests_to_connections` pass did.
struct Pass {
    /// Connections removed from the pool, to close outside the section, with who closes them.
    closing: Vec<Closing>,
    /// Requests it assigned a connection to.
    assigned: Vec<u32>,
}

#[derive(Default)]
struct PoolState {
    connections: Vec<Arc<HttpConnection>>,
    requests: Vec<PoolRequest>,
    next_conn: u32,
}

/// `AsyncConnectionPool`.
pub struct Pool {
    variant: Variant,
    config: PoolConfig,
    net: Arc<Network>,
    st: Plain<PoolState>,
    assigned_lock: Mutex<()>,
    assigned: Condvar,
    /// Cancellations of this execution's requests.
    pub cancels: Cancels,
}

impl Pool {
    /// `AsyncConnectionPool.__init__` (connection_pool.py 48-126): a new, empty pool.
    pub fn new(variant: Variant, config: PoolConfig, net: Arc<Network>, cancels: Cancels) -> Self {
        probe(Event::PoolLimit {
            max_connections: config.max_connections,
        });
        Pool {
            variant,
            config,
            net,
            st: Plain::new(PoolState::default()),
            assigned_lock: Mutex::new(
                "pool_request._connection_acquired",
                LockClass::internal("event"),
                (),
            ),
            assigned: Condvar::new("pool: connection assigned to request"),
            cancels,
        }
    }

    /// `handle_async_request` (connection_pool.py 199-268): queue the request, assign it, send
    /// it, retry on `ConnectionNotAvailable`. On failure the request leaves the queue and the
    /// outcome is recorded; on success the caller owns the response.
    pub fn handle_async_request(&self, task: &Task<'_>) -> Option<Response> {
        let req = task.req;
        probe(Event::RequestStarted { req });
        let mut pass = self.st.with(|st| {
            st.requests.push(PoolRequest {
                req,
                connection: None,
            });
            self.assign(st)
        });
        loop {
            self.finish_pass(&pass, Some(req));
            let sent = self
                .wait_for_connection(task)
                .and_then(|connection| connection.handle_async_request(task));
            match sent {
                Ok((conn, stream)) => return Some(Response { req, conn, stream }),
                Err(ReqError::ConnectionNotAvailable) => {
                    self.st.with(|st| {
                        if let Some(r) = st.requests.iter_mut().find(|r| r.req == req) {
                            r.connection = None;
                        }
                    });
                }
                Err(e) => {
                    self.leave_failed(req);
                    probe(Event::RequestFinished {
                        req,
                        outcome: outcome_of(e),
                    });
                    return None;
                }
            }
            pass = self.st.with(|st| self.assign(st));
        }
    }

    /// `cancel target=...`: cancel the request `target` runs now; a request waiting for its
    /// connection wakes to raise.
    pub fn cancel(&self, target: &str) {
        if self.cancels.cancel(target) {
            let _g = self.assigned_lock.lock();
            self.assigned.notify_all();
        }
    }

    /// After a section: wake requests it assigned (other than the caller's own, which does not
    /// wait), then close what it removed.
    ///
    /// Without `close-in-section`, the first connection's `_state = CLOSED` runs before the
    /// wake-up: upstream sets the requests' events inside the section and reaches its first
    /// await in the first `aclose()`, after that assignment (the facade's wake-up is a
    /// scheduling point that upstream's `event.set()` is not).
    fn finish_pass(&self, pass: &Pass, own: Option<u32>) {
        if let Some((c, reason)) = pass.closing.first() {
            if !self.variant.has(Fix::CloseInSection) {
                c.begin_close(*reason);
            }
        }
        self.wake_assigned(pass.assigned.iter().any(|r| Some(*r) != own));
        self.close_connections(&pass.closing);
    }

    /// `PoolByteStream.aclose`'s second half: remove the request, reassign, close what the
    /// pass removed.
    fn leave(&self, req: u32) {
        let pass = self.st.with(|st| {
            st.requests.retain(|r| r.req != req);
            self.assign(st)
        });
        self.finish_pass(&pass, None);
    }

    /// The `except BaseException` branch (connection_pool.py 250-258): as [`Pool::leave`]; with
    /// `reclaim-orphaned-connection`, the request's connection goes too if it is an orphan.
    fn leave_failed(&self, req: u32) {
        let pass = self.st.with(|st| {
            let orphan = self.orphan_of(st, req);
            st.requests.retain(|r| r.req != req);
            let mut pass = self.assign_after_reclaim(st, orphan.as_ref());
            if let Some(c) = orphan {
                pass.closing.push((c, CloseReason::Owner));
            }
            pass
        });
        self.finish_pass(&pass, None);
    }

    /// Fix `reclaim-orphaned-connection`: the connection assigned to `req` if nothing will ever
    /// use it once `req` leaves (no request started on it, no other request assigned to it).
    fn orphan_of(&self, st: &PoolState, req: u32) -> Option<Arc<HttpConnection>> {
        if !self.variant.has(Fix::ReclaimOrphanedConnection) {
            return None;
        }
        let mine = st
            .requests
            .iter()
            .find(|r| r.req == req)?
            .connection
            .clone()?;
        let shared = st
            .requests
            .iter()
            .any(|r| r.req != req && r.connection.as_ref().is_some_and(|c| Arc::ptr_eq(c, &mine)));
        (!shared && mine.is_unused()).then_some(mine)
    }

    /// Drop `orphan` from the pool (before the pass, so that its slot is free for the queued
    /// requests), then run the pass.
    fn assign_after_reclaim(
        &self,
        st: &mut PoolState,
        orphan: Option<&Arc<HttpConnection>>,
    ) -> Pass {
        if let Some(c) = orphan {
            st.connections.retain(|x| !Arc::ptr_eq(x, c));
            c.reclaim();
        }
        self.assign(st)
    }

    /// `PoolByteStream.aclose` (connection_pool.py 409-420): close the connection's response,
    /// then leave the pool's queue.
    pub fn close_response(&self, resp: &Response, outcome: Outcome) {
        resp.conn.response_closed(resp.stream);
        self.leave(resp.req);
        probe(Event::RequestFinished {
            req: resp.req,
            outcome,
        });
    }

    /// `PoolByteStream.__aiter__`'s `except` after the task was cancelled reading the body: the
    /// connection's shielded cleanup (which a second cancellation may interrupt), then
    /// `PoolByteStream.aclose` leaves the queue.
    pub fn close_cancelled_response(&self, resp: &Response, task: &Task<'_>) {
        resp.conn.cleanup_after_cancel(resp.stream, task);
        self.leave(resp.req);
        probe(Event::RequestFinished {
            req: resp.req,
            outcome: Outcome::Cancelled,
        });
    }

    /// `pool_request.wait_for_connection()` (connection_pool.py 31-37): no await when already
    /// assigned (the event is set). No pool timeout. A task cancelled before it waits raises
    /// at once; one cancelled while it waits (the scenario's `cancel_at = "wait"`, or a
    /// `cancel`) raises when it resumes, even if a connection was assigned meanwhile.
    fn wait_for_connection(&self, task: &Task<'_>) -> Result<Arc<HttpConnection>, ReqError> {
        if let Some(c) = self.assigned_to(task.req) {
            return Ok(c);
        }
        let mut g = self.assigned_lock.lock();
        let mut waited = false;
        loop {
            if waited {
                task.resumed("wait")?;
            } else {
                task.pending()?;
            }
            if let Some(c) = self.assigned_to(task.req) {
                return Ok(c);
            }
            g = self.assigned.wait(g);
            waited = true;
        }
    }

    /// `pool_request.connection` (connection_pool.py 18-21, 23-25).
    fn assigned_to(&self, req: u32) -> Option<Arc<HttpConnection>> {
        self.st.with(|st| {
            st.requests
                .iter()
                .find(|r| r.req == req)
                .and_then(|r| r.connection.clone())
        })
    }

    /// `assign_to_connection` (connection_pool.py 23-25) sets the request's event: notify under the event's lock, so that
    /// a waiter between its check and its wait cannot miss it.
    fn wake_assigned(&self, assigned: bool) {
        if assigned {
            let _g = self.assigned_lock.lock();
            self.assigned.notify_all();
        }
    }

    /// One maintenance pass outside any request (the work every request arrival or departure
    /// does): expire, evict, assign, then close outside the section.
    pub fn maintain(&self) {
        let pass = self.st.with(|st| self.assign(st));
        self.finish_pass(&pass, None);
    }

    /// `_assign_requests_to_connections` (connection_pool.py 270-339), inside a pool section.
    fn assign(&self, st: &mut PoolState) -> Pass {
        let mut closing = Vec::new();
        self.clean_up(st, &mut closing);
        let queued: Vec<u32> = st
            .requests
            .iter()
            .filter(|r| r.connection.is_none())
            .map(|r| r.req)
            .collect();
        let mut assigned = Vec::new();
        for req in queued {
            if self.assign_one(st, req, &mut closing) {
                assigned.push(req);
            }
        }
        Pass { closing, assigned }
    }

    /// connection_pool.py 284-299: drop closed connections, close expired ones and idle ones
    /// beyond `max_keepalive_connections`. The surplus test counts *every* connection
    /// (`len([connection.is_idle() for connection in self._connections])`), as upstream does.
    fn clean_up(&self, st: &mut PoolState, closing: &mut Vec<Closing>) {
        for c in st.connections.clone() {
            let reason = if c.is_closed() {
                None
            } else if c.has_expired() {
                Some(CloseReason::Expired)
            } else if c.is_idle()
                && st.connections.len() > self.config.max_keepalive_connections as usize
            {
                Some(CloseReason::Surplus)
            } else {
                continue;
            };
            st.connections.retain(|x| !Arc::ptr_eq(x, &c));
            if let Some(reason) = reason {
                self.remove_for_closing(c, reason, closing);
            }
        }
    }

    /// connection_pool.py 304-337: reuse an available connection, create one, or close an idle
    /// one to make room.
    fn assign_one(&self, st: &mut PoolState, req: u32, closing: &mut Vec<Closing>) -> bool {
        let available = st.connections.iter().find(|c| c.is_available()).cloned();
        let idle = st.connections.iter().find(|c| c.is_idle()).cloned();
        let conn = if let Some(c) = available {
            c
        } else if st.connections.len() < self.config.max_connections as usize {
            self.create_connection(st)
        } else if let Some(c) = idle {
            st.connections.retain(|x| !Arc::ptr_eq(x, &c));
            self.remove_for_closing(c, CloseReason::MakeRoom, closing);
            self.create_connection(st)
        } else {
            return false;
        };
        probe(Event::RequestAssigned {
            req,
            conn: conn.id(),
        });
        if let Some(r) = st.requests.iter_mut().find(|r| r.req == req) {
            r.connection = Some(conn);
        }
        true
    }

    /// `self._connections.remove(connection)` and `closing_connections.append(connection)`
    /// (connection_pool.py 290-291, 298-299, 332-333).
    fn remove_for_closing(
        &self,
        c: Arc<HttpConnection>,
        reason: CloseReason,
        closing: &mut Vec<Closing>,
    ) {
        // Fix close-in-section: the connection's state is CLOSED before the section ends.
        if self.variant.has(Fix::CloseInSection) {
            c.begin_close(reason);
        }
        closing.push((c, reason));
    }

    /// `create_connection` (connection_pool.py 128-180; the `AsyncHTTPConnection` branch) and
    /// `self._connections.append(connection)` (327, 336).
    fn create_connection(&self, st: &mut PoolState) -> Arc<HttpConnection> {
        st.next_conn += 1;
        let c = Arc::new(HttpConnection::new(
            st.next_conn,
            self.variant,
            self.config.conn,
            self.config.negotiation(st.next_conn),
            self.net.clone(),
        ));
        st.connections.push(c.clone());
        c
    }

    /// `_close_connections` (connection_pool.py 341-345), outside the section, one
    /// `await connection.aclose()` at a time: `_state = CLOSED` (already done with
    /// `close-in-section`; closing twice is a no-op), then the network close, the await.
    fn close_connections(&self, closing: &[Closing]) {
        for (c, reason) in closing {
            c.begin_close(*reason);
            c.finish_close();
        }
    }

    /// `aclose` (connection_pool.py 347-353): close every connection the pool holds.
    pub fn aclose(&self) {
        let closing: Vec<Closing> = self.st.with(|st| {
            let all = std::mem::take(&mut st.connections);
            let closing = all.into_iter().map(|c| (c, CloseReason::Owner));
            closing.collect()
        });
        // (no scheduling point since the section: the same atomic step as upstream's)
        if self.variant.has(Fix::CloseInSection) {
            for (c, reason) in &closing {
                c.begin_close(*reason);
            }
        }
        self.close_connections(&closing);
    }

    /// At the end of a run that keeps the pool open: connections idle in the pool are returned
    /// resources; anything else still open is reported by `no-leak`.
    pub fn release_pooled(&self) {
        let pooled: Vec<u32> = self.st.with(|st| {
            st.connections
                .iter()
                .filter(|c| c.is_idle())
                .map(|c| c.id())
                .collect()
        });
        for id in pooled {
            probe(Event::ConnPooled { conn: id });
            probe(Event::ResourceClosed { kind: "conn", id });
        }
    }
}

/// How a failed request ends for its caller (model only: the `Outcome` the probes record).
pub fn outcome_of(e: ReqError) -> Outcome {
    match e {
        ReqError::Cancelled => Outcome::Cancelled,
        ReqError::ConnectionNotAvailable => {
            Outcome::RetryableError("ConnectionNotAvailable".into())
        }
        ReqError::RemoteProtocol(m) => Outcome::Error(format!("RemoteProtocolError: {m}")),
        ReqError::LocalProtocol(m) => Outcome::Error(format!("LocalProtocolError: {m}")),
        ReqError::Network(m) => Outcome::Error(m),
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
pub(super) mod tests;
