//! `AsyncHTTP2Connection` (encode/httpcore 1.0.9, commit 9820975,
//! `httpcore/_async/http2.py`), with `HTTP2ConnectionByteStream` (the response body).
//!
//! An asyncio original: each method runs as one actor whose scheduling points are exactly its
//! `await`s, in order: `async with <lock>` is [`Mutex::lock`], `await semaphore.acquire()` is
//! [`Semaphore::acquire`], `await network_stream.read()/write()/aclose()` is one operation on the
//! [`Network`] lock. Locks and the semaphore have anyio's semantics
//! ([`crate::sync::Flavour::Anyio`]: hand-off to the first waiter, no scheduling point at
//! release), as httpcore's do. Everything the original keeps in plain attributes (`_state`,
//! `_expire_at`, `_events`, `_connection_terminated`...) is in [`Plain`], exactly as atomic as the
//! code between two awaits; `_state_lock` protects sections, not data (`aclose` and `is_idle` use
//! no lock).
//!
//! Abstractions: requests are GETs with no body (`_send_request_body` returns at once); `Trace`
//! context managers do not await without a trace extension and are left out; timeouts are not
//! modelled; the semaphore is created with `local_max_streams` permits (100 upstream) at
//! construction instead of at the first request, which no request can observe since every
//! request passes `_init_lock` first; `_request_count` is left out, since upstream reads it only
//! in `info()` and `__repr__` (http2.py 532-545), so no request can observe it. The named fixes are described in [`super::variant`]; each
//! site is marked `// fix <name>:` below, and with the fix off the code is 1.0.9's.

use super::h2state::{H2Error, H2Event, H2State};
use super::peer::{Network, ReadError};
use super::task::Task;
use super::variant::{Fix, Variant};
use crate::sync::BlockKind;
use crate::sync::{
    now, probe, probe_phase, CloseReason, ConnPhase, Event, LockClass, Mutex, Plain, Semaphore,
};
use crate::typed::{IllegalTransition, Transition};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// `HTTPConnectionState`, as `AsyncHTTP2Connection` moves it:
///
/// ```text
///            mark_active            mark_active (another request)
///   IDLE -----------------> ACTIVE <----+
///    ^  <-------------------  |  |      |
///    |    response_closed     |  +------+
///    |   (last stream, quiet) |
///    +--------+  +------------+
///       close |  | close
///             v  v
///            CLOSED  (close again: stays CLOSED; nothing else leaves it)
/// ```
///
/// Any other move is a bug in the model (an [`IllegalTransition`], reported as `model-panic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HttpState {
    /// `ACTIVE`.
    Active,
    /// `IDLE`.
    Idle,
    /// `CLOSED`.
    Closed,
}

impl HttpState {
    const MACHINE: &'static str = "httpcore connection";

    /// `_state = ACTIVE` (http2.py 100): from IDLE or ACTIVE; a CLOSED connection is refused
    /// before this is asked.
    fn activate(self) -> Result<Self, IllegalTransition> {
        match self {
            HttpState::Idle | HttpState::Active => Ok(HttpState::Active),
            HttpState::Closed => Err(IllegalTransition::new(Self::MACHINE, self, "activate")),
        }
    }

    /// `_state = IDLE` (`_response_closed`, http2.py 417): only an ACTIVE connection goes idle.
    fn idle(self) -> Result<Self, IllegalTransition> {
        match self {
            HttpState::Active => Ok(HttpState::Idle),
            _ => Err(IllegalTransition::new(Self::MACHINE, self, "go idle")),
        }
    }

    /// `_state = CLOSED` (`aclose`, http2.py 428): from any state, idempotent.
    fn close(self) -> Self {
        HttpState::Closed
    }
}

/// What a request on this connection raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReqError {
    /// `ConnectionNotAvailable`: the pool retries the request on another connection.
    ConnectionNotAvailable,
    /// `RemoteProtocolError` (stream reset, connection terminated, server disconnected).
    RemoteProtocol(String),
    /// `LocalProtocolError` (h2 refused an operation our own books allowed).
    LocalProtocol(String),
    /// A network error (`ClosedResourceError` on a connection closed under the request).
    Network(String),
    /// The task was cancelled.
    Cancelled,
}

/// Per-connection configuration.
#[derive(Clone, Copy, Debug)]
pub struct ConnConfig {
    /// `keepalive_expiry` in logical time units (`None`: idle connections never expire).
    pub keepalive_expiry: Option<u64>,
    /// `local_settings.max_concurrent_streams` (100 upstream).
    pub local_max_streams: u32,
    /// Stream ids the connection may use before `NoAvailableStreamIDError` (2^30 upstream).
    pub stream_ids: u32,
    /// The stream window the client advertises, in DATA frames (`None`: no body fills it).
    pub stream_window: Option<u32>,
}

/// `_state_lock`: protects the ACTIVE/IDLE decisions; nothing that waits may run under it.
const STATE_LOCK: LockClass = LockClass::non_blocking("state");
/// `_read_lock`: serialises readers; held across the network read by design, but waiting for
/// a permit under it deadlocks, since permits come back only through reads (httpx2#1219).
const READ_LOCK: LockClass = LockClass::forbidding("read", &[BlockKind::PermitWait]);
/// `_init_lock` and `_write_lock`: held across network writes by design.
const INIT_LOCK: LockClass = LockClass::blocking_ok("init");
const WRITE_LOCK: LockClass = LockClass::blocking_ok("write");

#[derive(Debug)]
struct Fields {
    state: HttpState,
    expire_at: Option<u64>,
    sent_connection_init: bool,
    used_all_stream_ids: bool,
    connection_error: bool,
    events: BTreeMap<u32, VecDeque<H2Event>>,
    connection_terminated: Option<u32>,
    read_exception: Option<String>,
    write_exception: Option<String>,
    max_streams: u32,
    /// Fix for #1062: requests between their ACTIVE mark and their stream registration.
    pending: u32,
    /// Fix for httpx2#1219: permits still to retire after the peer lowered the limit.
    debt: u32,
    /// Socket reads attempted so far (a model check, not upstream state: see
    /// [`Http2Connection::receive_stream_event`]).
    reads: u64,
}

/// One `AsyncHTTP2Connection`.
pub struct Http2Connection {
    id: u32,
    variant: Variant,
    config: ConnConfig,
    net: Arc<Network>,
    f: Plain<Fields>,
    h2: Plain<H2State>,
    init_lock: Mutex<()>,
    state_lock: Mutex<()>,
    read_lock: Mutex<()>,
    write_lock: Mutex<()>,
    sem: Semaphore,
}

impl Http2Connection {
    /// `__init__` (http2.py 46-83): state IDLE, no expiry, no streams.
    pub fn new(id: u32, variant: Variant, config: ConnConfig, net: Arc<Network>) -> Self {
        let name = |n: &str| format!("conn{id}.{n}");
        let c = Http2Connection {
            id,
            variant,
            config,
            net,
            f: Plain::new(Fields {
                state: HttpState::Idle,
                expire_at: None,
                sent_connection_init: false,
                used_all_stream_ids: false,
                connection_error: false,
                events: BTreeMap::new(),
                connection_terminated: None,
                read_exception: None,
                write_exception: None,
                max_streams: 0,
                pending: 0,
                debt: 0,
                reads: 0,
            }),
            h2: Plain::new(H2State::new(id, config.stream_ids, config.stream_window)),
            init_lock: Mutex::new(name("_init_lock"), INIT_LOCK, ()),
            state_lock: Mutex::new(name("_state_lock"), STATE_LOCK, ()),
            read_lock: Mutex::new(name("_read_lock"), READ_LOCK, ()),
            write_lock: Mutex::new(name("_write_lock"), WRITE_LOCK, ()),
            sem: Semaphore::new(
                name("_max_streams_semaphore"),
                i64::from(config.local_max_streams),
            ),
        };
        probe_phase(c.id, ConnPhase::Idle { expire_at: None });
        c
    }

    // ---- handle_async_request (http2.py 85-187) ----

    /// `handle_async_request` (http2.py 85-187): mark ACTIVE, send the preface once, take a permit, open a stream,
    /// send HEADERS, wait for the response HEADERS. Returns the stream id; the caller owns the
    /// response and must call [`Http2Connection::response_closed`] (via the body stream).
    pub fn handle_async_request(&self, task: &Task<'_>) -> Result<u32, ReqError> {
        // Before the section (http2.py 96): a cancellation here has nothing to undo.
        task.checkpoint("state-lock")?;
        self.mark_active()?;
        // Between the ACTIVE mark and the `try` of http2.py 141: nothing undoes the mark.
        self.outside_try(task.checkpoint("init-lock"))?;
        self.ensure_connection_init()?;
        self.outside_try(task.checkpoint("permit"))?;
        self.acquire_stream_permit();
        let stream = self.allocate_stream(task.req)?;
        match self.send_and_receive(stream, task) {
            Ok(()) => Ok(stream),
            Err(e) => {
                // `except BaseException`, shielded: close the stream's response, re-raise.
                self.response_closed(stream);
                Err(e)
            }
        }
    }

    /// http2.py 96-102: `async with self._state_lock` set ACTIVE (or refuse a CLOSED connection).
    fn mark_active(&self) -> Result<(), ReqError> {
        let _g = self.state_lock.lock();
        let ok = self.f.with(|f| {
            if f.state == HttpState::Closed {
                return false;
            }
            f.expire_at = None;
            f.state = f.state.activate().or_panic();
            f.pending += 1;
            true
        });
        if !ok {
            return Err(ReqError::ConnectionNotAvailable);
        }
        probe_phase(self.id, ConnPhase::Active);
        Ok(())
    }

    /// http2.py 104-129: under `_init_lock`, the first request sends the preface, then creates
    /// the semaphore with all but one permit taken until the server's SETTINGS arrive.
    fn ensure_connection_init(&self) -> Result<(), ReqError> {
        let _g = self.init_lock.lock();
        if self.f.with(|f| f.sent_connection_init) {
            return Ok(());
        }
        self.h2.with(H2State::initiate_connection);
        if let Err(e) = self.write_outgoing_data() {
            self.aclose(CloseReason::Error);
            return Err(e);
        }
        self.f.with(|f| {
            f.sent_connection_init = true;
            f.max_streams = 1;
        });
        for _ in 1..self.config.local_max_streams {
            self.sem.acquire_reserved();
        }
        self.report_permits();
        Ok(())
    }

    /// Probe: the semaphore and `_max_streams` (model only).
    fn report_permits(&self) {
        probe(Event::StreamPermits {
            conn: self.id,
            sem: self.sem.id(),
            limit: self.f.with(|f| f.max_streams),
        });
    }

    /// http2.py 131: `await self._max_streams_semaphore.acquire()`. Fixed (#1219): a permit
    /// taken while a lowered limit is still owed pays the debt and the request waits again, so
    /// no stream is allocated above a limit the client applied (the check and the allocation
    /// that follows have no await between them).
    fn acquire_stream_permit(&self) {
        loop {
            self.sem.acquire();
            if !self.pay_debt_with_permit() {
                return;
            }
        }
    }

    /// Keep a permit the current actor holds as the structure's own if a lowered limit is still
    /// owed (never in variant httpx2-1219, which has no debt). Returns whether it did.
    fn pay_debt_with_permit(&self) -> bool {
        let owed = self.f.with(|f| {
            let owed = f.debt > 0;
            if owed {
                f.debt -= 1;
                f.max_streams -= 1;
            }
            owed
        });
        if owed {
            self.sem.keep_reserved();
            self.report_permits();
        }
        owed
    }

    /// http2.py 133-139: take the next stream id and register `_events[stream_id]`.
    fn allocate_stream(&self, req: u32) -> Result<u32, ReqError> {
        // fix goaway-before-stream: refuse before allocating once GOAWAY is in; 1.0.9 allocates
        // and `send_headers` then raises `ProtocolError` ([`Self::send_request_headers`]).
        if self.variant.has(Fix::GoawayBeforeStream) {
            let goaway = self.f.with(|f| f.connection_terminated).is_some()
                || self.h2.with(|h| h.goaway_received()).is_some();
            if goaway {
                return Err(self.refuse_after_goaway());
            }
        }
        let next = self.h2.with(|h| h.get_next_available_stream_id());
        match next {
            Ok(stream) => {
                self.f.with(|f| {
                    f.events.insert(stream, VecDeque::new());
                    f.pending -= 1;
                });
                probe(Event::StreamOpened {
                    conn: self.id,
                    stream,
                    req,
                });
                Ok(stream)
            }
            Err(_) => {
                self.f.with(|f| {
                    f.used_all_stream_ids = true;
                    f.pending -= 1;
                });
                // fix release-on-id-exhaustion off (1.0.9, httpcore-1061): raises here with the permit still taken and the
                // connection ACTIVE. Fixed (httpx2#1012 plus the IDLE step): release, settle.
                if !self.variant.leaks_permit_on_exhaustion() {
                    self.sem.release();
                    let _g = self.state_lock.lock();
                    self.settle_locked();
                }
                Err(ReqError::ConnectionNotAvailable)
            }
        }
    }

    /// Fix `goaway-before-stream` (ours): a request that gets its permit after h2 received GOAWAY (the reader may
    /// still be dispatching the events before `ConnectionTerminated`) opens no stream; it gives
    /// the permit back and is retried (`ConnectionNotAvailable`). Upstream allocates a stream
    /// h2 refuses and fails with `RemoteProtocolError`, although the server never saw the
    /// request.
    fn refuse_after_goaway(&self) -> ReqError {
        self.f.with(|f| f.pending -= 1);
        self.sem.release();
        let _g = self.state_lock.lock();
        self.settle_locked();
        ReqError::ConnectionNotAvailable
    }

    /// A cancellation raised between the ACTIVE mark and the stream: leave without one.
    fn outside_try(&self, cancelled: Result<(), ReqError>) -> Result<(), ReqError> {
        if cancelled.is_err() {
            self.leave_without_stream();
        }
        cancelled
    }

    /// A request cancelled in `async with self._init_lock` (http2.py 104) or in `await
    /// self._max_streams_semaphore.acquire()` (http2.py 131), before it has a stream. 1.0.9
    /// raises straight out of them, outside the `try` of http2.py 141-187: the connection stays
    /// ACTIVE until some other stream's close finds `_events` empty, and for good if none
    /// does. Fix `undo-active-on-cancel` (ours): undo the ACTIVE mark under `_state_lock` (and
    /// `_request_count`, which the model leaves out). The `pending` count is `idle-counts-pending`'s own
    /// bookkeeping, not upstream state: it is undone either way.
    fn leave_without_stream(&self) {
        if !self.variant.has(Fix::UndoActiveOnCancel) {
            self.f.with(|f| f.pending -= 1);
            return;
        }
        let _g = self.state_lock.lock();
        self.f.with(|f| f.pending -= 1);
        self.settle_locked();
    }

    /// http2.py 141-153: send HEADERS, (no body: `_send_request_body` returns at once for a GET,
    /// 253-263, abstracted away), wait for the response HEADERS; a cancellation at `response`
    /// raises at the first await of `_receive_response`.
    fn send_and_receive(&self, stream: u32, task: &Task<'_>) -> Result<(), ReqError> {
        self.send_request_headers(stream, task)?;
        task.checkpoint("response")?;
        self.receive_response(stream)
    }

    /// `_send_request_headers` (http2.py 222-251): `send_headers`, then write. h2 refusing the
    /// stream raises `ProtocolError`, which the `except` at http2.py 171-185 turns into
    /// `RemoteProtocolError` once `_connection_terminated` is set and `LocalProtocolError`
    /// otherwise ("Max outbound streams is 100, 100 open", encode/httpcore#943). Upstream asks
    /// only `_connection_terminated`, not which refusal it was: once GOAWAY is in, h2 is closed
    /// and refuses with `ConnectionClosed` anyway.
    /// A cancellation at `write` raises at the write's first await (`async with
    /// self._write_lock`), after h2 queued the HEADERS.
    fn send_request_headers(&self, stream: u32, task: &Task<'_>) -> Result<(), ReqError> {
        let sent: Result<(), H2Error> = self.h2.with(|h| h.send_headers(stream));
        if let Err(e) = sent {
            return Err(match self.f.with(|f| f.connection_terminated) {
                Some(last) => terminated(last),
                None => ReqError::LocalProtocol(e.to_string()),
            });
        }
        task.checkpoint("write")?;
        probe(Event::HeadersSent {
            conn: self.id,
            stream,
        });
        self.write_outgoing_data()
    }

    /// `_receive_response` (http2.py 287-307): events until `ResponseReceived`.
    fn receive_response(&self, stream: u32) -> Result<(), ReqError> {
        loop {
            if let H2Event::ResponseReceived { .. } = self.receive_stream_event(stream)? {
                return Ok(());
            }
        }
    }

    /// `_receive_response_body` (http2.py 309-325), as `HTTP2ConnectionByteStream.__aiter__`
    /// consumes it: DATA is acknowledged with a write, `StreamEnded` ends it.
    pub fn receive_response_body(&self, stream: u32) -> Result<(), ReqError> {
        loop {
            match self.receive_stream_event(stream)? {
                H2Event::DataReceived { .. } => {
                    self.h2.with(|h| h.acknowledge_received_data(stream));
                    self.write_outgoing_data()?;
                }
                H2Event::StreamEnded { .. } => return Ok(()),
                _ => {}
            }
        }
    }

    /// `_receive_stream_event` (http2.py 327-340).
    ///
    /// `_receive_events` reads unless the stream has an event waiting (http2.py 363), and a
    /// read blocks until a frame arrives or fails, so each turn of this loop either finds an
    /// event or waits at a scheduling point. A turn that did neither would spin here without
    /// one (the judge hangs): the model stops and says so, a model bug (the check is the
    /// model's own, not upstream's; it reads only state the step already writes).
    fn receive_stream_event(&self, stream: u32) -> Result<H2Event, ReqError> {
        loop {
            let (next, reads) = self.f.with(|f| {
                let next = f.events.get_mut(&stream).and_then(VecDeque::pop_front);
                (next, f.reads)
            });
            match next {
                Some(H2Event::StreamReset { .. }) => {
                    return Err(ReqError::RemoteProtocol("StreamReset".into()))
                }
                Some(ev) => return Ok(ev),
                None => {
                    self.receive_events(Some(stream))?;
                    let stalled = self.f.read(|f| {
                        f.reads == reads && f.events.get(&stream).is_none_or(VecDeque::is_empty)
                    });
                    assert!(
                        !stalled,
                        "model bug: `_receive_events` returned without a read or an event for \
                         stream {stream}"
                    );
                }
            }
        }
    }

    /// `_receive_events` (http2.py 342-388): under `_read_lock`, read and dispatch events (the
    /// settings change runs *inside* the lock); then write (the SETTINGS ACK, WINDOW_UPDATEs).
    fn receive_events(&self, stream: Option<u32>) -> Result<(), ReqError> {
        {
            let _g = self.read_lock.lock();
            self.check_terminated(stream)?;
            let wanted = stream.is_none_or(|s| {
                self.f
                    .with(|f| f.events.get(&s).is_none_or(VecDeque::is_empty))
            });
            if wanted {
                for ev in self.read_incoming_data()? {
                    self.dispatch(ev);
                }
            }
        }
        self.write_outgoing_data()
    }

    /// http2.py 350-355: after `ConnectionTerminated`, a stream above the last-stream-id is
    /// retried (`ConnectionNotAvailable`), any other read raises `RemoteProtocolError`.
    fn check_terminated(&self, stream: Option<u32>) -> Result<(), ReqError> {
        let Some(last) = self.f.with(|f| f.connection_terminated) else {
            return Ok(());
        };
        // http2.py 350-355. 1.0.9 tests `if stream_id and last_stream_id and stream_id >
        // last_stream_id`, so a GOAWAY with last-stream-id 0 (the server processed nothing)
        // fails every in-flight request with RemoteProtocolError instead of retrying it. Fix
        // goaway-zero (ours): 0 is a limit like any other.
        let limit = last != 0 || self.variant.has(Fix::GoawayZero);
        match stream {
            Some(s) if limit && s > last => Err(ReqError::ConnectionNotAvailable),
            _ => Err(terminated(last)),
        }
    }

    /// http2.py 365-386: one event of a read, dispatched under `_read_lock`.
    fn dispatch(&self, ev: H2Event) {
        match ev {
            H2Event::RemoteSettingsChanged { max_streams } => {
                probe(Event::SettingsApplied {
                    conn: self.id,
                    max_streams,
                    header_table_size: None,
                });
                self.receive_remote_settings_change(max_streams);
            }
            H2Event::ConnectionTerminated { last_stream } => {
                probe(Event::GoawayReceived {
                    conn: self.id,
                    last_stream,
                });
                self.f.with(|f| f.connection_terminated = Some(last_stream));
            }
            _ => {
                let s = ev.stream().expect("stream event");
                self.f.with(|f| {
                    if let Some(q) = f.events.get_mut(&s) {
                        q.push_back(ev);
                    }
                });
            }
        }
    }

    /// `_receive_remote_settings_change` (http2.py 390-407).
    fn receive_remote_settings_change(&self, max_streams: Option<u32>) {
        let Some(value) = max_streams else {
            return;
        };
        if self.variant.waits_for_permits_under_read_lock() {
            self.change_limit_waiting(value.min(self.config.local_max_streams));
        } else {
            // Fixed: follow the limit h2 enforces now (the last SETTINGS of this read), so that
            // a later SETTINGS of the same read is never enforced by h2 before it is booked.
            let enforced = self.h2.with(|h| h.remote_max_streams()).unwrap_or(value);
            self.change_limit_without_waiting(enforced.min(self.config.local_max_streams));
        }
    }

    /// variant httpx2-1219 (upstream): `await release()` per step up, `await acquire()` per step
    /// down, the latter waiting for in-flight streams while `_read_lock` is held.
    fn change_limit_waiting(&self, new: u32) {
        let current = self.f.with(|f| f.max_streams);
        if new == 0 || new == current {
            return;
        }
        while new > self.f.with(|f| f.max_streams) {
            self.sem.release_reserved();
            self.f.with(|f| f.max_streams += 1);
            self.report_permits();
        }
        while new < self.f.with(|f| f.max_streams) {
            self.sem.acquire_reserved();
            self.f.with(|f| f.max_streams -= 1);
            self.report_permits();
        }
    }

    /// Fixed: the whole step down becomes a debt at once (atomically with h2 applying the new
    /// limit, so a refused stream always sees it), then free permits pay what they can without
    /// waiting; closing streams pay the rest ([`Http2Connection::response_closed`]).
    fn change_limit_without_waiting(&self, new: u32) {
        let (up, down) = self.f.with(|f| {
            let effective = f.max_streams - f.debt;
            if new == 0 {
                (0, 0)
            } else {
                (new.saturating_sub(effective), effective.saturating_sub(new))
            }
        });
        self.f.with(|f| f.debt += down);
        // Nothing awaits between the debt and these steps (taking a free permit does not), so
        // no closing stream can have paid one of them meanwhile: each free permit pays one.
        for _ in 0..down {
            if !self.sem.try_acquire_reserved() {
                break;
            }
            self.f.with(|f| {
                f.debt -= 1;
                f.max_streams -= 1;
            });
        }
        for _ in 0..up {
            let cancelled = self.f.with(|f| {
                let owed = f.debt > 0;
                if owed {
                    f.debt -= 1;
                }
                owed
            });
            if !cancelled {
                self.sem.release_reserved();
                self.f.with(|f| f.max_streams += 1);
            }
        }
        self.report_permits();
    }

    // ---- _response_closed (http2.py 409-422) ----

    /// `_response_closed` (http2.py 409-422): give the permit back, drop the stream's events, and under
    /// `_state_lock` go IDLE (or close) if nothing is in flight.
    pub fn response_closed(&self, stream: u32) {
        // fix reset-on-early-close off (1.0.9, httpcore-943) leaves a stream that has not ended open in h2. Fixed: reset it
        // first (the RST_STREAM goes out with the next write, as in encode/httpcore#1098).
        if !self.variant.skips_stream_reset() {
            self.h2.with(|h| {
                if h.is_open(stream) {
                    h.reset_stream(stream);
                }
            });
        }
        self.return_permit();
        // fix events-delete-in-lock off (1.0.9, httpcore-1062): the delete is here, before the lock.
        if self.variant.deletes_events_outside_lock() {
            self.forget_stream(stream);
        }
        let _g = self.state_lock.lock();
        if !self.variant.deletes_events_outside_lock() {
            self.forget_stream(stream);
        }
        self.settle_locked();
    }

    /// `await self._max_streams_semaphore.release()`, or (fixed #1219) keep the permit to pay
    /// a lowered limit's debt.
    fn return_permit(&self) {
        if !self.pay_debt_with_permit() {
            self.sem.release();
        }
    }

    /// `del self._events[stream_id]` (http2.py 411).
    fn forget_stream(&self, stream: u32) {
        if self.f.with(|f| f.events.remove(&stream).is_some()) {
            probe(Event::StreamClosed {
                conn: self.id,
                stream,
            });
        }
    }

    /// The body of `async with self._state_lock` in `_response_closed` (http2.py 413-422; the
    /// caller holds the lock).
    fn settle_locked(&self) {
        let events_only = self.variant.idles_on_events_only();
        let (quiet, terminated, active, used_all) = self.f.with(|f| {
            // fix idle-counts-pending off (1.0.9, httpcore-1062, httpx2-1013): `not self._events` alone.
            let quiet = f.events.is_empty() && (events_only || f.pending == 0);
            (
                quiet,
                f.connection_terminated.is_some(),
                f.state == HttpState::Active,
                f.used_all_stream_ids,
            )
        });
        if terminated && quiet {
            self.aclose(CloseReason::Terminated);
        } else if active && quiet {
            let expire_at = self.config.keepalive_expiry.map(|k| now() + k);
            self.f.with(|f| {
                f.state = f.state.idle().or_panic();
                f.expire_at = expire_at;
            });
            probe_phase(self.id, ConnPhase::Idle { expire_at });
            if used_all {
                self.aclose(CloseReason::Terminated);
            }
        }
    }

    // ---- aclose (http2.py 424-429) ----

    /// `aclose` (http2.py 424-429): no lock, as upstream. `reason` says who closes it (for the probes).
    pub fn aclose(&self, reason: CloseReason) {
        self.begin_close(reason);
        self.finish_close();
    }

    /// The part of `aclose` before its await (http2.py 427-428): `close_connection()`,
    /// `_state = CLOSED`.
    /// Returns false when the connection was already closed.
    pub fn begin_close(&self, reason: CloseReason) -> bool {
        let was_open = self.f.with(|f| {
            let was = f.state != HttpState::Closed;
            f.state = f.state.close();
            was
        });
        self.h2.with(H2State::close_connection);
        if was_open {
            probe(Event::ConnClosed {
                conn: self.id,
                reason,
            });
            probe_phase(self.id, ConnPhase::Closed);
        }
        was_open
    }

    /// `await self._network_stream.aclose()` (http2.py 429).
    pub fn finish_close(&self) {
        self.net.close(self.id);
    }

    // ---- network wrappers (http2.py 433-484) ----

    /// `_read_incoming_data` (http2.py 433-459; no timeout, one read returns every frame the
    /// server has sent so far): read, feed h2, return its events; a failed read is remembered.
    fn read_incoming_data(&self) -> Result<Vec<H2Event>, ReqError> {
        let failed = self.f.with(|f| {
            f.reads += 1;
            f.read_exception.clone()
        });
        if let Some(e) = failed {
            return Err(ReqError::RemoteProtocol(e));
        }
        match self.net.read(self.id) {
            Ok(frames) => Ok(self.h2.with(|h| h.receive_data(&frames))),
            Err(e) => {
                let msg = match e {
                    ReadError::Eof => "Server disconnected",
                    ReadError::Closed => "ClosedResourceError",
                };
                self.f.with(|f| {
                    f.read_exception = Some(msg.into());
                    f.connection_error = true;
                });
                Err(ReqError::RemoteProtocol(msg.into()))
            }
        }
    }

    /// `_write_outgoing_data` (http2.py 461-486): under `_write_lock`, write whatever h2 queued.
    fn write_outgoing_data(&self) -> Result<(), ReqError> {
        let _g = self.write_lock.lock();
        let data = self.h2.with(H2State::data_to_send);
        if let Some(e) = self.f.with(|f| f.write_exception.clone()) {
            return Err(ReqError::Network(e));
        }
        if self.net.write(self.id, &data).is_err() {
            let msg = "ClosedResourceError".to_owned();
            self.f.with(|f| {
                f.write_exception = Some(msg.clone());
                f.connection_error = true;
            });
            return Err(ReqError::Network(msg));
        }
        Ok(())
    }

    // ---- pool interface (http2.py 508-530) ----

    /// `is_available` (http2.py 511-520).
    pub fn is_available(&self) -> bool {
        let closed_h2 = self.h2.with(|h| h.is_closed());
        self.f.with(|f| {
            f.state != HttpState::Closed
                && !f.connection_error
                && !f.used_all_stream_ids
                && !closed_h2
        })
    }

    /// `has_expired` (http2.py 522-524): `_expire_at is not None and now > _expire_at`.
    pub fn has_expired(&self) -> bool {
        let t = now();
        self.f.with(|f| f.expire_at.is_some_and(|e| t > e))
    }

    /// `is_idle` (http2.py 526-527).
    pub fn is_idle(&self) -> bool {
        self.f.with(|f| f.state == HttpState::Idle)
    }

    /// `is_closed` (http2.py 529-530).
    pub fn is_closed(&self) -> bool {
        self.f.with(|f| f.state == HttpState::Closed)
    }
}

/// `RemoteProtocolError(self._connection_terminated)` (http2.py 182, 355).
fn terminated(last: u32) -> ReqError {
    ReqError::RemoteProtocol(format!("ConnectionTerminated(last_stream_id={last})"))
}

#[cfg(test)]
#[path = "connection_tests.rs"]
pub(super) mod tests;

#[cfg(test)]
mod state_tests {
    use super::HttpState::{Active, Closed, Idle};

    #[test]
    fn only_the_diagrams_moves_are_legal() {
        assert_eq!(Idle.activate(), Ok(Active));
        assert_eq!(Active.activate(), Ok(Active));
        assert!(Closed.activate().is_err());
        assert_eq!(Active.idle(), Ok(Idle));
        assert!(Idle.idle().is_err());
        assert!(Closed.idle().is_err());
        assert_eq!(Idle.close(), Closed);
        assert_eq!(Closed.close(), Closed);
    }
}
