//! `ClientConn` and `clientStream` (golang/net `http2/transport.go`): the locks, the state each
//! one guards, and the small operations on them (`idleState`, `ReserveNewRequest`,
//! `awaitOpenSlotForRequest`, `newStream`, `streamByID`, `forgetStreamID`, `closeIfIdle`,
//! `closeForError`).
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f (lines 243-335 `ClientConn` and
//! `clientStream`; 761-851 `setGoAway`, `ReserveNewRequest`, `idleStateLocked`; 871-886
//! `closeIfIdle`; 888-892 `isDoNotReuseAndIdle`; 959-981 `closeForError`; 1289-1329
//! `awaitOpenSlotForRequest`; 1331-1357 `writeHeaders`; 1810-1849 `newStream`, `forgetStreamID`,
//! `streamByID`); at 95888ee7 `closeForError` 925-939 (streams failed and `tconn` closed with
//! `mu` held); d0c6ba3f's `forgetStreamID` 1995-2021 for the close after GOAWAY once idle.
//!
//! Locks, as after 978cfadd (order `reqHeaderMu` -> `wmu` -> `mu`):
//! - `mu` ([`ConnState`], class `non_blocking`): streams, reservations, stream ids, GOAWAY and
//!   close flags, flow control, peer settings. `cond` signals stream-slot and flow changes.
//! - `wmu` ([`WriteState`], class `blocking_ok`): the framer and writer (`werr`), and after
//!   978cfadd the HPACK encoder and `hbuf`.
//! - `reqHeaderMu` (a [`SlotLock`], `blocking_ok`): stream-id allocation through the HEADERS write.
//!
//! Where the model abstracts: `cc.henc` + `cc.hbuf` are an [`HpackCell`], whose every use says
//! which lock it holds, so that a use no lock excludes from another becomes explorable (see
//! [`super::encoder`]); the per-stream `cs.flow`, `cs.inflow` and `cs.didReset` ("guarded by
//! cc.mu") are [`Plain`] too, so that go-48491 can touch `cs.inflow` without `mu`, and every
//! other access in the model happens with `mu` held. Channels (`resc`, `peerReset`) and the
//! response body pipe are small lock + condition pairs of class `internal`.

use super::ctx::{Goroutines, ReqCtx, SlotWatch};
use super::encoder::{BufSlice, Held, HpackCell};
use super::field::GoField;
use super::hpack::Field;
use super::net::{ClientFrame, ErrCode, Wire, MIN_MAX_FRAME_SIZE};
use super::state::{ConnLife, StreamState};
use super::variant::Variant;
use crate::sync::{
    blocking, probe, BlockKind, CloseReason, Condvar, Event, LockClass, Mutex, MutexGuard, Plain,
    SlotLock,
};
use crate::typed::Transition;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `initialMaxConcurrentStreams`: the limit before the server's SETTINGS arrive.
pub const INITIAL_MAX_CONCURRENT_STREAMS: u32 = 100;
/// `defaultMaxConcurrentStreams`: when the first SETTINGS has no MAX_CONCURRENT_STREAMS.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 1000;
/// `transportDefaultConnFlow`.
pub const CONN_FLOW: i64 = 1 << 30;
/// `transportDefaultStreamFlow`.
pub const STREAM_FLOW: i64 = 4 << 20;
/// `transportDefaultStreamMinRefresh`.
pub const STREAM_MIN_REFRESH: i64 = 4 << 10;
/// `initialWindowSize` (RFC 7540 default).
pub const INITIAL_WINDOW: i64 = 65_535;
/// `maxFrameSize` default (16 KiB): request-body chunks are at most this.
pub const MAX_FRAME: u32 = 16 << 10;

/// Why a request failed, as Go's errors say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReqErr {
    /// `errClientConnUnusable`.
    ConnUnusable,
    /// `errClientConnGotGoAway`.
    GotGoAway,
    /// `GoAwayError`: the server sent GOAWAY and closed the connection.
    GoAwayClosed(u32),
    /// A `StreamError` from the peer's RST_STREAM.
    StreamReset(ErrCode),
    /// The connection closed (`io.ErrUnexpectedEOF`, `errClientConnClosed`, a forced close).
    ConnClosed(String),
    /// A write failed (`cc.werr`).
    Write(String),
    /// `ctx.Err()` of a cancelled request: `context.Canceled`.
    Canceled,
    /// `errStreamClosed`: the body writer found its stream forgotten (`cs.done` closed).
    StreamClosed,
    /// `errStopReqBodyWrite`: `roundTrip` stopped the body writer (a response came).
    StopReqBody,
    /// `errStopReqBodyWriteAndCancel`: `roundTrip` stopped the body writer and wants
    /// RST_STREAM(CANCEL).
    StopReqBodyAndCancel,
}

impl ReqErr {
    /// `canRetryError` at 4e4d966f.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ReqErr::ConnUnusable
                | ReqErr::GotGoAway
                | ReqErr::StreamReset(ErrCode::RefusedStream | ErrCode::Protocol)
        )
    }

    /// In words, for outcomes.
    pub fn describe(&self) -> String {
        match self {
            ReqErr::ConnUnusable => "http2: client conn not usable".into(),
            ReqErr::GotGoAway => {
                "http2: Transport received Server's graceful shutdown GOAWAY".into()
            }
            ReqErr::GoAwayClosed(last) => {
                format!("http2: server sent GOAWAY and closed the connection; LastStreamID={last}")
            }
            ReqErr::StreamReset(code) => format!("stream error: {code:?}"),
            ReqErr::ConnClosed(why) => format!("connection closed: {why}"),
            ReqErr::Write(why) => why.clone(),
            ReqErr::Canceled => "context canceled".into(),
            ReqErr::StreamClosed => "http2: stream closed".into(),
            ReqErr::StopReqBody => "http2: aborting request body write".into(),
            ReqErr::StopReqBodyAndCancel => "http2: canceling request".into(),
        }
    }
}

/// State guarded by `cc.mu`.
pub struct ConnState {
    /// `cc.streams`.
    pub streams: BTreeMap<u32, Arc<ClientStream>>,
    /// `cc.streamsReserved` (4e4d966f).
    pub streams_reserved: u32,
    /// `cc.nextStreamID`.
    pub next_stream_id: u32,
    /// `cc.goAway`'s last-stream-id.
    pub go_away: Option<u32>,
    /// `cc.closed`.
    pub life: ConnLife,
    /// `cc.closing`.
    pub closing: bool,
    /// `cc.doNotReuse`.
    pub do_not_reuse: bool,
    /// `cc.seenSettings`.
    pub seen_settings: bool,
    /// `cc.wantSettingsAck`.
    pub want_settings_ack: bool,
    /// `cc.maxConcurrentStreams`.
    pub max_concurrent_streams: u32,
    /// `cc.flow` (our send window).
    pub flow: i64,
    /// `cc.inflow` (the receive window we advertised).
    pub inflow: i64,
}

/// State guarded by `cc.wmu`.
#[derive(Default)]
pub struct WriteState {
    /// `cc.werr`: the first write error.
    pub werr: Option<String>,
}

/// What the read loop hands `roundTrip` on `cs.resc`.
#[derive(Clone, Debug)]
pub enum ResAndError {
    /// Response HEADERS; `true` when they carried END_STREAM.
    Response(bool),
    /// An error.
    Err(ReqErr),
}

#[derive(Default)]
struct Chans {
    resc: Option<ResAndError>,
    peer_reset: Option<ReqErr>,
    /// `bodyWriter.resc`: the body writer's result, not received yet.
    body_res: Option<Result<(), ReqErr>>,
}

/// What `roundTrip`'s select over its stream's channels (and `ctx.Done()`) received.
pub enum Selected {
    /// `re := <-readLoopResCh`.
    Response(ResAndError),
    /// `<-cs.peerReset`, with `cs.resetErr`.
    PeerReset(ReqErr),
    /// `err := <-bodyWriter.resc`.
    BodyWritten(Result<(), ReqErr>),
    /// `<-ctx.Done()`.
    Cancelled,
}

/// The end state of the response body pipe (`cs.bufPipe`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipeEnd {
    /// END_STREAM: `io.EOF`.
    Eof,
    /// Closed with an error.
    Err(ReqErr),
    /// `BreakWithError(errClosedResponseBody)`.
    Broken,
}

#[derive(Default)]
struct Pipe {
    buffered: i64,
    end: Option<PipeEnd>,
}

/// One request's stream (`clientStream`).
pub struct ClientStream {
    /// Stream id.
    pub id: u32,
    /// Request number.
    pub req: u32,
    /// The request has a body or trailers (`cs.req.Body != nil`).
    pub has_body: bool,
    /// The model's books on the stream ([`StreamState`]; changed with `cc.mu` held, except
    /// `headers_sent`, which `roundTrip` knows under `wmu`).
    pub state: Plain<StreamState>,
    /// `cs.flow`: our send window (guarded by `cc.mu` in Go).
    pub flow: Plain<i64>,
    /// `cs.inflow`: the receive window we advertised (guarded by `cc.mu` in Go).
    pub inflow: Plain<i64>,
    /// `cs.didReset` (guarded by `cc.mu`).
    pub did_reset: Plain<bool>,
    /// `cs.resetErr`, set when `peerReset` is closed (read by `checkResetOrDone`).
    pub reset: Plain<Option<ReqErr>>,
    /// `cs.stopReqBody` (guarded by `cc.mu`): if set, the body writer stops with it.
    pub stop_req_body: Plain<Option<ReqErr>>,
    chans: Mutex<Chans>,
    chans_changed: Condvar,
    pipe: Mutex<Pipe>,
    pipe_changed: Condvar,
}

impl ClientStream {
    fn new(id: u32, req: u32, has_body: bool, send_window: i64) -> Self {
        ClientStream {
            id,
            req,
            has_body,
            state: Plain::new(StreamState::Allocated),
            flow: Plain::new(send_window),
            inflow: Plain::new(STREAM_FLOW),
            did_reset: Plain::new(false),
            reset: Plain::new(None),
            stop_req_body: Plain::new(None),
            chans: Mutex::new(
                format!("cs{id}.chans"),
                LockClass::internal("chan"),
                Chans::default(),
            ),
            chans_changed: Condvar::new(format!("cs{id}: resc or peerReset")),
            pipe: Mutex::new(
                format!("cs{id}.bufPipe"),
                LockClass::internal("pipe"),
                Pipe::default(),
            ),
            pipe_changed: Condvar::new(format!("cs{id}.bufPipe: data or end")),
        }
    }

    /// Its HEADERS reached the wire.
    pub fn headers_sent(&self) {
        self.state.with(|s| *s = s.headers_sent().or_panic());
    }

    /// `select { case cs.resc <- v: default: }`.
    pub fn send_res(&self, v: ResAndError) {
        let mut c = self.chans.lock();
        if c.resc.is_none() {
            c.resc = Some(v);
        }
        drop(c);
        self.chans_changed.notify_all();
    }

    /// `close(cs.peerReset)` with `cs.resetErr`.
    pub fn peer_reset(&self, err: ReqErr) {
        self.reset.set(Some(err.clone()));
        self.chans.lock().peer_reset = Some(err);
        self.chans_changed.notify_all();
    }

    /// `roundTrip`'s select (4e4d966f 1255-1286) over `resc`, `peerReset`, `bodyWriter.resc`
    /// (when `body` is still being written) and, for a request with a context, `ctx.Done()`.
    /// When several are ready, Go picks one at random; the model takes them in this order.
    pub fn select(&self, body: bool, ctx: Option<&super::ctx::ReqCtx>) -> Selected {
        let mut c = self.chans.lock();
        loop {
            if let Some(r) = c.resc.take() {
                return Selected::Response(r);
            }
            if let Some(e) = c.peer_reset.clone() {
                return Selected::PeerReset(e);
            }
            if body {
                if let Some(r) = c.body_res.take() {
                    return Selected::BodyWritten(r);
                }
            }
            if ctx.is_some_and(|ctx| ctx.is_cancelled()) {
                return Selected::Cancelled;
            }
            c = self.chans_changed.wait(c);
        }
    }

    /// `<-bodyWriter.resc` alone (`handleReadLoopResponse` and `handleError` wait for the body
    /// writer to finish).
    pub fn await_body_written(&self) -> Result<(), ReqErr> {
        let mut c = self.chans.lock();
        loop {
            if let Some(r) = c.body_res.take() {
                return r;
            }
            c = self.chans_changed.wait(c);
        }
    }

    /// `resc <- cs.writeRequestBody(...)` (the channel has room for it).
    pub fn send_body_res(&self, r: Result<(), ReqErr>) {
        self.chans.lock().body_res = Some(r);
        self.chans_changed.notify_all();
    }

    /// Wake a select on the stream's channels (its request's context was cancelled).
    pub fn wake(&self) {
        drop(self.chans.lock());
        self.chans_changed.notify_all();
    }

    /// A response already on `resc`, without waiting (`select` with `default`).
    pub fn try_response(&self) -> Option<ResAndError> {
        self.chans.lock().resc.take()
    }

    /// `bufPipe.Write`.
    pub fn pipe_write(&self, n: u32) {
        let mut p = self.pipe.lock();
        if p.end.is_none() {
            p.buffered += i64::from(n);
        }
        drop(p);
        self.pipe_changed.notify_all();
    }

    /// `bufPipe.CloseWithError` (first close wins).
    pub fn pipe_close(&self, end: PipeEnd) {
        let mut p = self.pipe.lock();
        if p.end.is_none() {
            p.end = Some(end);
        }
        drop(p);
        self.pipe_changed.notify_all();
    }

    /// `BreakWithError`: drop buffered data too.
    pub fn pipe_break(&self) {
        let mut p = self.pipe.lock();
        p.buffered = 0;
        if p.end.is_none() {
            p.end = Some(PipeEnd::Broken);
        }
    }

    /// `bufPipe.Read`: wait for data or the end; returns octets read (all buffered) and, when
    /// nothing was buffered, the end.
    pub fn pipe_read(&self) -> (i64, Option<PipeEnd>) {
        let mut p = self.pipe.lock();
        loop {
            if p.buffered > 0 {
                return (std::mem::take(&mut p.buffered), None);
            }
            if let Some(end) = p.end.clone() {
                return (0, Some(end));
            }
            p = self.pipe_changed.wait(p);
        }
    }

    /// `bufPipe.Len()` and whether the end is `io.EOF`.
    pub fn pipe_state(&self) -> (i64, bool) {
        let p = self.pipe.lock();
        (p.buffered, p.end == Some(PipeEnd::Eof))
    }
}

/// One HTTP/2 client connection.
pub struct ClientConn {
    /// Connection number.
    pub id: u32,
    /// The `host:port` it serves.
    pub host: String,
    /// Which behaviour.
    pub variant: Variant,
    /// `cc.mu`.
    pub mu: Mutex<ConnState>,
    /// `cc.cond`.
    pub cond: Condvar,
    /// `cc.wmu`.
    pub wmu: Mutex<WriteState>,
    /// `cc.reqHeaderMu`.
    pub req_header_mu: SlotLock,
    /// `cc.henc` + `cc.hbuf`.
    pub hpack: HpackCell,
    /// `cc.maxFrameSize`: the peer's SETTINGS_MAX_FRAME_SIZE. Stored by `processSettings`
    /// under `mu` (and from 978cfadd under `wmu` too), loaded under `mu` or (`roundTrip`'s
    /// HEADERS, 4e4d966f 1178) `wmu` alone: a [`GoField`], whose every use names its locks.
    pub max_frame_size: GoField,
    /// `cc.tconn`: the connection (written through `cc.bw`, read by the read loop's `cc.br`).
    pub tconn: Arc<Wire>,
    /// The transport's goroutines (this connection's read loop, body writers, watchers).
    pub goroutines: Arc<Goroutines>,
    /// `writeRequestBody` runs in its own goroutine, as upstream (`[config] body_goroutine`);
    /// otherwise inline in the request, right after its HEADERS.
    pub body_goroutine: bool,
    /// `cc.t.StrictMaxConcurrentStreams` (`[config] strict_max_streams`).
    pub strict_max_streams: bool,
}

/// What [`ClientConn::new`] takes from the transport besides the connection.
pub struct ConnOptions {
    /// Which behaviour.
    pub variant: Variant,
    /// The transport's goroutines.
    pub goroutines: Arc<Goroutines>,
    /// See [`ClientConn::body_goroutine`].
    pub body_goroutine: bool,
    /// See [`ClientConn::strict_max_streams`].
    pub strict_max_streams: bool,
}

impl ClientConn {
    /// `newClientConn`'s fields (the preface is written by [`super::pool`]'s dial).
    pub fn new(host: &str, opts: &ConnOptions, tconn: Arc<Wire>) -> Self {
        let variant = opts.variant;
        let id = tconn.id();
        let state = ConnState {
            streams: BTreeMap::new(),
            streams_reserved: 0,
            next_stream_id: 1,
            go_away: None,
            life: ConnLife::Open,
            closing: false,
            do_not_reuse: false,
            seen_settings: false,
            want_settings_ack: true,
            max_concurrent_streams: INITIAL_MAX_CONCURRENT_STREAMS,
            flow: INITIAL_WINDOW,
            inflow: CONN_FLOW + INITIAL_WINDOW,
        };
        ClientConn {
            id,
            host: host.to_owned(),
            variant,
            mu: Mutex::new(format!("cc{id}.mu"), LockClass::non_blocking("mu"), state),
            cond: Condvar::new(format!("cc{id}.cond")),
            wmu: Mutex::new(
                format!("cc{id}.wmu"),
                LockClass::blocking_ok("wmu"),
                WriteState::default(),
            ),
            req_header_mu: SlotLock::new(
                format!("cc{id}.reqHeaderMu"),
                LockClass::blocking_ok("reqHeaderMu"),
            ),
            hpack: HpackCell::new(id),
            max_frame_size: GoField::new(id, "cc.maxFrameSize", MIN_MAX_FRAME_SIZE),
            tconn,
            goroutines: opts.goroutines.clone(),
            body_goroutine: opts.body_goroutine,
            strict_max_streams: opts.strict_max_streams,
        }
    }

    // ---- availability (the pool's questions) -----------------------------------------------

    /// `idleStateLocked().canTakeNewRequest` (823-846; `streamsReserved` counts from 4e4d966f,
    /// and is always 0 before it). With `StrictMaxConcurrentStreams` (828-833) a full
    /// connection still says yes, "to prevent the caller from dialing a new TCP connection,
    /// but then we'll block later before writing it": in `awaitOpenSlotForRequest`. Left out:
    /// the stream-ID clause (`nextStreamID + 2*pendingRequests < MaxInt32`, 840), which no
    /// execution comes near (2^30 streams), and with it `cc.pendingRequests`, which only that
    /// clause reads (`awaitOpenSlotForRequest` 1321-1323 counts the requests waiting).
    pub fn can_take_locked(&self, st: &ConnState) -> bool {
        let wanted = st.streams.len() as u64 + u64::from(st.streams_reserved) + 1;
        let max_ok = self.strict_max_streams || wanted <= u64::from(st.max_concurrent_streams);
        st.go_away.is_none() && !st.life.is_closed() && !st.closing && max_ok && !st.do_not_reuse
    }

    /// `idleState()` (817-821; before 4e4d966f the pool's only question); a yes assigns request
    /// `req` (probed under `mu`, where the decision is made).
    pub fn idle_state(&self, req: u32) -> bool {
        let st = self.mu.lock();
        let yes = self.can_take_locked(&st);
        if yes {
            self.assigned(req);
        }
        yes
    }

    /// `ReserveNewRequest` (4e4d966f, 800-808); a yes assigns request `req`.
    pub fn reserve_new_request(&self, req: u32) -> bool {
        let mut st = self.mu.lock();
        if !self.can_take_locked(&st) {
            return false;
        }
        st.streams_reserved += 1;
        self.assigned(req);
        true
    }

    /// The pool hands this connection to request `req`.
    pub fn assigned(&self, req: u32) {
        probe(Event::RequestAssigned { req, conn: self.id });
    }

    /// `awaitOpenSlotForRequest` (1289-1327): with `mu` held, wait until a stream may be
    /// opened. A request with a context starts, the first time it must wait, the goroutine
    /// that watches it ([`SlotWatch`]: `cc.cond` cannot be selected with `ctx.Done()`), and
    /// closes its `waitingForConn` when it leaves, admitted or (with 5f9ae10d, golang/go#24776:
    /// `fixed-without=close-watch-on-refusal` leaves it open, and the watcher blocked) refused;
    /// a cancellation the watcher reported is returned. A request waits here only when the
    /// pool handed it a full connection: with `StrictMaxConcurrentStreams`, or when SETTINGS
    /// lowered the limit between its reservation and this check. A
    /// refusal is `errClientConnUnusable`, with `mu` released; with our `goaway-idle-close`
    /// fix, a connection the refusal leaves idle after GOAWAY is closed.
    pub fn await_open_slot<'a>(
        self: &'a Arc<Self>,
        mut st: MutexGuard<'a, ConnState>,
        ctx: Option<&Arc<ReqCtx>>,
    ) -> Result<MutexGuard<'a, ConnState>, ReqErr> {
        let mut watch: Option<SlotWatch> = None;
        loop {
            if st.life.is_closed() || !self.can_take_locked(&st) {
                if self.variant.closes_watch_on_refusal() {
                    watch.as_ref().inspect(|w| w.close()); // 5f9ae10d (golang/go#24776)
                }
                let close = self.variant.closes_idle_on_goaway() && Self::goaway_idle(&mut st);
                drop(st);
                if close {
                    self.close_conn(CloseReason::Terminated);
                }
                return Err(ReqErr::ConnUnusable);
            }
            if (st.streams.len() as u64) < u64::from(st.max_concurrent_streams) {
                watch.as_ref().inspect(|w| w.close());
                return Ok(st);
            }
            if watch.is_none() {
                watch = ctx.map(|ctx| SlotWatch::start(ctx, self));
            }
            st = self.cond.wait(st);
            if let Some(err) = watch.as_ref().and_then(|w| w.err.get()) {
                drop(st);
                return Err(err);
            }
        }
    }

    /// `decrStreamReservations` (4e4d966f): a request that will not open its stream returns
    /// its reservation.
    pub fn decr_stream_reservations(&self) {
        if self.variant.reserves() {
            let mut st = self.mu.lock();
            st.streams_reserved = st.streams_reserved.saturating_sub(1);
        }
    }

    /// d0c6ba3f's `closeOnIdle && cc.streamsReserved == 0 && len(cc.streams) == 0` for a
    /// connection that received GOAWAY (an open one: closing is the caller's, after `mu`);
    /// marks it closed.
    pub fn goaway_idle(st: &mut ConnState) -> bool {
        let idle = st.go_away.is_some() && st.streams_reserved == 0 && st.streams.is_empty();
        let close = idle && !st.life.is_closed();
        if close {
            st.life = st.life.close();
        }
        close
    }

    /// `newStream` (1810-1825, requires `mu`).
    pub fn new_stream(&self, st: &mut ConnState, req: u32, has_body: bool) -> Arc<ClientStream> {
        st.life = st.life.admit_stream().or_panic();
        let id = st.next_stream_id;
        let cs = Arc::new(ClientStream::new(id, req, has_body, INITIAL_WINDOW));
        st.next_stream_id += 2;
        st.streams.insert(id, cs.clone());
        probe(Event::StreamOpened {
            conn: self.id,
            stream: id,
            req,
        });
        cs
    }

    /// `streamByID(id, andRemove)` (1831-1849): a closed connection's map is not touched.
    pub fn stream_by_id(&self, id: u32, and_remove: bool) -> Option<Arc<ClientStream>> {
        let mut st = self.mu.lock();
        let cs = st.streams.get(&id).cloned();
        if and_remove && cs.is_some() && !st.life.is_closed() {
            self.remove_locked(&mut st, id);
            drop(st);
            self.cond.notify_all();
        }
        cs
    }

    /// `delete(cc.streams, id)` and `close(cs.done)`, with `mu` held.
    fn remove_locked(&self, st: &mut ConnState, id: u32) {
        if let Some(cs) = st.streams.remove(&id) {
            cs.state.with(|s| *s = s.forget().or_panic());
            probe(Event::StreamClosed {
                conn: self.id,
                stream: id,
            });
        }
    }

    /// `forgetStreamID` (1827-1829: `streamByID(id, true)`). With d0c6ba3f's fix (its
    /// `forgetStreamID`, 1995-2021, carried onto this structure) a connection that received
    /// GOAWAY is closed, under the same `mu` section, once no stream and no reservation is
    /// left: `closeOnIdle && cc.streamsReserved == 0 && len(cc.streams) == 0`.
    pub fn forget_stream_id(&self, id: u32) {
        if !self.variant.closes_after_goaway_when_idle() {
            self.stream_by_id(id, true);
            return;
        }
        let mut st = self.mu.lock();
        if !st.life.is_closed() {
            self.remove_locked(&mut st, id);
        }
        let close = Self::goaway_idle(&mut st);
        drop(st);
        self.cond.notify_all();
        if close {
            self.close_conn(CloseReason::Terminated); // `defer cc.closeConn()`
        }
    }

    /// `cc.tconn.Close()`.
    pub fn close_conn(&self, reason: CloseReason) {
        self.tconn.close();
        probe(Event::ConnClosed {
            conn: self.id,
            reason,
        });
    }

    /// `closeIfIdle` (871-886): a connection without streams is closed (reservations are not
    /// asked); `tconn.Close()` after `mu` is released.
    pub fn close_if_idle(&self, reason: CloseReason) {
        let mut st = self.mu.lock();
        if !st.streams.is_empty() {
            return;
        }
        st.life = st.life.close();
        drop(st);
        self.close_conn(reason);
    }

    /// `isDoNotReuseAndIdle` (76eb614f; 888-892).
    pub fn is_do_not_reuse_and_idle(&self) -> bool {
        let st = self.mu.lock();
        st.do_not_reuse && st.streams.is_empty()
    }

    // ---- HPACK ------------------------------------------------------------------------------

    /// `encodeHeaders` / `encodeTrailers`, the caller holding `held`.
    pub fn encode(&self, held: Held, stream: u32, fields: &[Field]) -> BufSlice {
        self.hpack.encode(held, stream, fields)
    }

    // ---- writing (callers hold `wmu`) -------------------------------------------------------

    /// Write and flush `frames` with `wmu` held (and whatever else the variant holds); the
    /// write may stall. Sets the sticky `werr` on failure.
    pub fn write_frames(&self, w: &mut WriteState, frames: Vec<ClientFrame>) -> Result<(), ReqErr> {
        if let Some(e) = &w.werr {
            return Err(ReqErr::Write(e.clone()));
        }
        let what: Vec<String> = frames.iter().map(ClientFrame::describe).collect();
        blocking(
            BlockKind::NetWrite,
            &format!("cc{}: {}", self.id, what.join(" + ")),
        );
        self.tconn.write(frames).map_err(|e| {
            w.werr = Some(e.0.clone());
            ReqErr::Write(e.0)
        })
    }

    /// `writeHeaders` (1331-1357): the header block `slice` of `hbuf` holds *now*, in frames of
    /// at most `max_frame_size` octets (HEADERS, then CONTINUATION), written and flushed in one
    /// go; the caller holds `held` (`wmu` at least), so no other frame comes between them.
    pub fn write_headers(
        &self,
        w: &mut WriteState,
        held: Held,
        (cs, end_stream): (&ClientStream, bool),
        max_frame_size: u32,
        slice: &BufSlice,
    ) -> Result<(), ReqErr> {
        let block = self.hpack.read(held, slice);
        let frames = header_block_frames(cs.id, end_stream, max_frame_size, &block);
        self.write_frames(w, frames)
    }

    /// `writeStreamReset` (4e4d966f): RST_STREAM with `wmu` alone (a failed write is ignored:
    /// the sticky `werr` fails later writes).
    pub fn write_stream_reset(&self, stream: u32, code: ErrCode) {
        let mut w = self.wmu.lock();
        let _ = self.write_frames(&mut w, vec![ClientFrame::RstStream { stream, code }]);
    }

    /// Write `frames` after a `mu` section `st`: with `mu` released first (978cfadd) or still
    /// held (before: `wmu` taken inside `mu`). Nothing to write, nothing done.
    pub fn write_after_mu(&self, st: MutexGuard<'_, ConnState>, frames: Vec<ClientFrame>) {
        if frames.is_empty() {
            return;
        }
        let keep = self.variant.writes_under_mu().then_some(st);
        let mut w = self.wmu.lock();
        let _ = self.write_frames(&mut w, frames);
        drop(w);
        drop(keep);
    }

    // ---- closing ----------------------------------------------------------------------------

    /// `closeForError` (also `Close`), closing for `reason`. From 978cfadd (4e4d966f 959-981):
    /// take the streams under `mu`, fail them outside it, then `tconn.Close()` under `mu`. At
    /// 95888ee7 (925-939): fail every stream and close `tconn` all with `mu` held.
    pub fn close_for_error(&self, err: ReqErr, reason: CloseReason) {
        let mut st = self.mu.lock();
        let streams = self.take_streams_locked(&mut st);
        st.life = st.life.close();
        if self.variant.writes_under_mu() {
            self.fail_streams(streams, &err);
            self.close_conn(reason);
            drop(st);
        } else {
            drop(st);
            self.fail_streams(streams, &err);
            let st = self.mu.lock();
            self.close_conn(reason);
            drop(st);
        }
        self.cond.notify_all();
    }

    /// `streams := cc.streams; cc.streams = nil`, with `mu` held: each stream leaves the map.
    pub fn take_streams_locked(&self, st: &mut ConnState) -> Vec<Arc<ClientStream>> {
        let streams = std::mem::take(&mut st.streams);
        streams
            .into_values()
            .inspect(|cs| {
                cs.state.with(|s| *s = s.forget().or_panic());
                probe(Event::StreamClosed {
                    conn: self.id,
                    stream: cs.id,
                });
            })
            .collect()
    }

    /// Hand `err` to each stream: `cs.resc <- err` (if empty) and `cs.bufPipe.CloseWithError`.
    /// (`cleanup` closes the pipe first, `closeForError` sends first; nothing can observe the
    /// order, since the request reads `resc` before the pipe.)
    pub fn fail_streams(&self, streams: Vec<Arc<ClientStream>>, err: &ReqErr) {
        for cs in streams {
            cs.send_res(ResAndError::Err(err.clone()));
            cs.pipe_close(PipeEnd::Err(err.clone()));
        }
    }
}

/// `writeHeaders`' loop (1333-1350): `block` cut into chunks of at most `max_frame_size`
/// octets, the first a HEADERS frame (with END_STREAM when `end_stream`), the others
/// CONTINUATION; END_HEADERS on the last. An empty block is no frame at all, as upstream's
/// `for len(hdrs) > 0` (never the case: a request always has pseudo-headers).
fn header_block_frames(
    stream: u32,
    end_stream: bool,
    max_frame_size: u32,
    block: &[u8],
) -> Vec<ClientFrame> {
    let chunks: Vec<&[u8]> = block.chunks(max_frame_size as usize).collect();
    let last = chunks.len().saturating_sub(1);
    let frame = |(i, chunk): (usize, &[u8])| {
        let (end_headers, block) = (i == last, chunk.to_vec());
        if i == 0 {
            ClientFrame::Headers {
                stream,
                end_stream,
                end_headers,
                block,
            }
        } else {
            ClientFrame::Continuation {
                stream,
                end_headers,
                block,
            }
        }
    };
    chunks.into_iter().enumerate().map(frame).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(frames: &[ClientFrame]) -> Vec<(&'static str, usize, bool)> {
        frames
            .iter()
            .map(|f| match f {
                ClientFrame::Headers {
                    end_headers, block, ..
                } => ("HEADERS", block.len(), *end_headers),
                ClientFrame::Continuation {
                    end_headers, block, ..
                } => ("CONTINUATION", block.len(), *end_headers),
                _ => ("other", 0, false),
            })
            .collect()
    }

    #[test]
    fn a_header_block_is_cut_at_the_frame_size_with_end_headers_on_the_last() {
        let block: Vec<u8> = (0..10).collect();
        let frames = header_block_frames(1, true, 4, &block);
        let want = vec![
            ("HEADERS", 4, false),
            ("CONTINUATION", 4, false),
            ("CONTINUATION", 2, true),
        ];
        assert_eq!(shape(&frames), want);
        assert!(matches!(
            frames[0],
            ClientFrame::Headers {
                end_stream: true,
                ..
            }
        ));
        assert_eq!(shape(&header_block_frames(1, false, 5, &block)).len(), 2);
        assert_eq!(
            shape(&header_block_frames(1, false, 16, &block)),
            vec![("HEADERS", 10, true)]
        );
        assert!(header_block_frames(1, false, 16, &[]).is_empty());
    }

    #[test]
    fn the_body_writers_result_is_handed_over_as_it_was_sent() {
        let _exec = crate::sync::test_exec::StdExecution::install();
        let cs = ClientStream::new(1, 1, true, INITIAL_WINDOW);
        cs.send_body_res(Err(ReqErr::StreamClosed));
        assert_eq!(cs.await_body_written(), Err(ReqErr::StreamClosed));
    }

    #[test]
    fn the_flow_control_defaults_are_gos() {
        // golang/net http2/transport.go: transportDefaultConnFlow = 1 << 30,
        // transportDefaultStreamFlow = 4 << 20, transportDefaultStreamMinRefresh = 4 << 10;
        // frame.go: the initial SETTINGS_MAX_FRAME_SIZE, 1 << 14.
        let defaults = (CONN_FLOW, STREAM_FLOW, STREAM_MIN_REFRESH, MAX_FRAME);
        assert_eq!(defaults, (1_073_741_824, 4_194_304, 4_096, 16_384));
    }

    #[test]
    fn closing_for_an_error_fails_every_stream_with_it() {
        let _exec = crate::sync::test_exec::StdExecution::install();
        let (_net, cc) = super::super::round_trip::tests::connection("fixed", false);
        let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
        let err = ReqErr::ConnClosed("forced".into());
        cc.close_for_error(err.clone(), CloseReason::Error);
        let res = cs.try_response();
        assert!(
            matches!(&res, Some(ResAndError::Err(e)) if *e == err),
            "{res:?}"
        );
        assert_eq!(cs.pipe_read(), (0, Some(PipeEnd::Err(err))));
        let st = cc.mu.lock();
        assert!(st.life.is_closed() && st.streams.is_empty());
    }

    #[test]
    fn errors_read_as_gos_messages() {
        let closed = ReqErr::GoAwayClosed(3).describe();
        let says = "http2: server sent GOAWAY and closed the connection; LastStreamID=3";
        assert_eq!(closed, says);
        let reset = ReqErr::StreamReset(ErrCode::RefusedStream).describe();
        assert_eq!(reset, "stream error: RefusedStream");
    }
}
