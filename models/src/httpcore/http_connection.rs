//! `AsyncHTTPConnection` (encode/httpcore 1.0.9, commit 9820975, `httpcore/_async/connection.py`
//! 69-103, 167-200): connects on first use under its `_request_lock`, picks HTTP/2 or HTTP/1.1
//! from the ALPN result, then delegates to [`Http2Connection`] or [`Http11Connection`]
//! ([`Protocol`]).
//!
//! Before it is connected the pool asks it, not a protocol, whether it is available: only when
//! the pool offers HTTP/2 (`http2=True` over TLS) may a second request be handed a connection
//! that is still connecting, since it may turn out to multiplex (connection.py 175-185); with
//! HTTP/1.1 only it belongs to the request that created it. A connection whose connect raised
//! (`_connect_failed`, connection.py 99-101) counts as closed, expired and idle, so that the
//! pool drops it.
//!
//! Abstractions: TLS always (the origin is `https`); `connect_tcp` and `start_tls` are one
//! await that never fails; no retries.

use super::connection::{ConnConfig, Http2Connection, ReqError};
use super::http11::Http11Connection;
use super::peer::Network;
use super::task::Task;
use super::variant::{Fix, Variant};
use crate::sync::{probe, probe_phase, CloseReason, ConnPhase, Event, LockClass, Mutex, Plain};
use std::sync::Arc;

/// The protocol a connection negotiated, and its connection.
#[derive(Clone)]
pub enum Protocol {
    /// ALPN `h2`: [`Http2Connection`].
    H2(Arc<Http2Connection>),
    /// ALPN `http/1.1` (or none): [`Http11Connection`].
    H11(Arc<Http11Connection>),
}

impl Protocol {
    /// `self._connection.handle_async_request(request)`: the stream (HTTP/2) or cycle
    /// (HTTP/1.1) number of the response.
    fn handle_async_request(&self, task: &Task<'_>) -> Result<u32, ReqError> {
        match self {
            Protocol::H2(c) => c.handle_async_request(task),
            Protocol::H11(c) => c.handle_async_request(task),
        }
    }

    /// Read the response body of `stream` to its end.
    pub fn receive_response_body(&self, stream: u32) -> Result<(), ReqError> {
        match self {
            Protocol::H2(c) => c.receive_response_body(stream),
            Protocol::H11(c) => c.receive_response_body(),
        }
    }

    /// The response body stream's `aclose` (`_response_closed`).
    pub fn response_closed(&self, stream: u32) {
        match self {
            Protocol::H2(c) => c.response_closed(stream),
            Protocol::H11(c) => c.response_closed(stream),
        }
    }

    /// The response's close after its task was cancelled while reading it.
    pub fn cleanup_after_cancel(&self, stream: u32, task: &Task<'_>) {
        match self {
            Protocol::H2(c) => c.response_closed(stream),
            Protocol::H11(c) => c.cleanup_after_cancel(stream, task),
        }
    }

    fn is_available(&self) -> bool {
        match self {
            Protocol::H2(c) => c.is_available(),
            Protocol::H11(c) => c.is_available(),
        }
    }

    fn has_expired(&self) -> bool {
        match self {
            Protocol::H2(c) => c.has_expired(),
            Protocol::H11(c) => c.has_expired(),
        }
    }

    fn is_idle(&self) -> bool {
        match self {
            Protocol::H2(c) => c.is_idle(),
            Protocol::H11(c) => c.is_idle(),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Protocol::H2(c) => c.is_closed(),
            Protocol::H11(c) => c.is_closed(),
        }
    }

    fn begin_close(&self, reason: CloseReason) {
        match self {
            Protocol::H2(c) => {
                c.begin_close(reason);
            }
            Protocol::H11(c) => {
                c.begin_close(reason);
            }
        }
    }

    fn finish_close(&self) {
        match self {
            Protocol::H2(c) => c.finish_close(),
            Protocol::H11(c) => c.finish_close(),
        }
    }
}

/// How a connection's protocol is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiation {
    /// The pool offers `h2` in ALPN (`http2=True`).
    pub http2_offered: bool,
    /// The server selects `http/1.1` for this connection (always when `h2` is not offered).
    pub selects_http11: bool,
}

/// Why [`HttpConnection`]'s connect step raised: the error, and whether it came from the connect
/// this request ran (under `_request_lock`, `_connection` still `None`) rather than from its wait
/// for the lock.
struct ConnectedError {
    error: ReqError,
    in_connect: bool,
}

/// `AsyncHTTPConnection`: connects on first use, then delegates.
pub struct HttpConnection {
    id: u32,
    variant: Variant,
    config: ConnConfig,
    negotiation: Negotiation,
    net: Arc<Network>,
    connection: Plain<Option<Protocol>>,
    connect_failed: Plain<bool>,
    request_lock: Mutex<()>,
}

impl HttpConnection {
    /// `AsyncHTTPConnection.__init__` (connection.py 39-67): not connected yet.
    pub fn new(
        id: u32,
        variant: Variant,
        config: ConnConfig,
        negotiation: Negotiation,
        net: Arc<Network>,
    ) -> Self {
        probe(Event::ConnCreated { conn: id });
        probe_phase(id, ConnPhase::Connecting);
        HttpConnection {
            id,
            variant,
            config,
            negotiation,
            net,
            connection: Plain::new(None),
            connect_failed: Plain::new(false),
            request_lock: Mutex::new(
                format!("conn{id}._request_lock"),
                LockClass::blocking_ok("request"),
                (),
            ),
        }
    }

    /// The connection's number.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `handle_async_request` (connection.py 69-103): connect under `_request_lock` if needed
    /// (any exception or cancellation there sets `_connect_failed`), then delegate.
    pub fn handle_async_request(&self, task: &Task<'_>) -> Result<(Protocol, u32), ReqError> {
        let protocol = match self.connected(task) {
            Ok(p) => p,
            Err(ConnectedError { error, in_connect }) => {
                // fix own-connect-failure: only this request's own connect marks it failed.
                // 1.0.9 (99-101): the `except` around `async with self._request_lock` marks
                // the connection failed whatever raised, a wait for the lock included.
                if in_connect || !self.variant.has(Fix::OwnConnectFailure) {
                    self.connect_failed_with_nothing_open();
                }
                return Err(error);
            }
        };
        let stream = protocol.handle_async_request(task)?;
        Ok((protocol, stream))
    }

    /// connection.py 99-101: `self._connect_failed = True`. If no connection exists, the pool
    /// will drop this one as closed (`is_closed`): the probes say so now (model only).
    fn connect_failed_with_nothing_open(&self) {
        let first = !self.connect_failed.get();
        self.connect_failed.set(true);
        if first && self.connection.get().is_none() {
            self.probe_closed(CloseReason::Error);
        }
    }

    /// Probes: a connection that never connected is gone (model only).
    fn probe_closed(&self, reason: CloseReason) {
        probe(Event::ConnClosed {
            conn: self.id,
            reason,
        });
        probe_phase(self.id, ConnPhase::Closed);
    }

    /// connection.py 76-97: `async with self._request_lock`, connect and pick the protocol.
    fn connected(&self, task: &Task<'_>) -> Result<Protocol, ConnectedError> {
        let waiting = |error| ConnectedError {
            error,
            in_connect: false,
        };
        task.checkpoint("request-lock").map_err(waiting)?;
        let _g = self.request_lock.lock();
        if let Some(p) = self.connection.get() {
            return Ok(p);
        }
        task.checkpoint("connect").map_err(|error| ConnectedError {
            error,
            in_connect: true,
        })?;
        let http11 = self.negotiation.selects_http11;
        self.net.connect(self.id, http11);
        let protocol = if http11 {
            Protocol::H11(Arc::new(Http11Connection::new(
                self.id,
                self.variant,
                self.config,
                self.net.clone(),
            )))
        } else {
            Protocol::H2(Arc::new(Http2Connection::new(
                self.id,
                self.variant,
                self.config,
                self.net.clone(),
            )))
        };
        self.connection.set(Some(protocol.clone()));
        Ok(protocol)
    }

    /// `is_available` (connection.py 175-185): before it is connected, only if the pool offers
    /// HTTP/2 (it may multiplex) and the connect has not failed.
    pub fn is_available(&self) -> bool {
        match self.connection.get() {
            Some(p) => p.is_available(),
            None => self.negotiation.http2_offered && !self.connect_failed.get(),
        }
    }

    /// `has_expired` (connection.py 187-190).
    pub fn has_expired(&self) -> bool {
        self.connection
            .get()
            .map_or_else(|| self.connect_failed.get(), |p| p.has_expired())
    }

    /// `is_idle` (connection.py 192-195).
    pub fn is_idle(&self) -> bool {
        self.connection
            .get()
            .map_or_else(|| self.connect_failed.get(), |p| p.is_idle())
    }

    /// `is_closed` (connection.py 197-200).
    pub fn is_closed(&self) -> bool {
        self.connection
            .get()
            .map_or_else(|| self.connect_failed.get(), |p| p.is_closed())
    }

    /// No request ever started on it: still connecting, or an HTTP/1.1 connection still NEW
    /// (the orphans of encode/httpcore#1093, which no pool rule reclaims).
    pub fn is_unused(&self) -> bool {
        match self.connection.get() {
            None => !self.connect_failed.get(),
            Some(Protocol::H11(c)) => c.is_new(),
            Some(Protocol::H2(_)) => false,
        }
    }

    /// `aclose` (connection.py 170-173) up to its await: the protocol's `_state = CLOSED`.
    /// A connection never connected has nothing to close (`if self._connection is not None`).
    pub fn begin_close(&self, reason: CloseReason) {
        if let Some(p) = self.connection.get() {
            p.begin_close(reason);
        }
    }

    /// Fix `reclaim-orphaned-connection`: the pool drops a connection no request will use
    /// ([`HttpConnection::is_unused`]): a NEW HTTP/1.1 connection is closed, one still
    /// connecting counts as failed (`_connect_failed`, so that it reads as closed).
    pub fn reclaim(&self) {
        match self.connection.get() {
            Some(p) => p.begin_close(CloseReason::Owner),
            None => {
                self.connect_failed.set(true);
                self.probe_closed(CloseReason::Owner);
            }
        }
    }

    /// The rest of `aclose`: the network close.
    pub fn finish_close(&self) {
        if let Some(p) = self.connection.get() {
            p.finish_close();
        }
    }
}

#[cfg(test)]
#[path = "http_connection_tests.rs"]
mod tests;
