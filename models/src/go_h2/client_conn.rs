//! `ClientConn` and `clientStream` (golang/net `http2/transport.go`): the locks, the state each
//! one guards, and the small operations on them (`idleState`, `ReserveNewRequest`,
//! `awaitOpenSlotForRequest`, `newStream`, `streamByID`, `closeForError`, HPACK encoding).
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f (lines 243-335 `ClientConn` and
//! `clientStream`; 761-851 `setGoAway`, `ReserveNewRequest`, `idleStateLocked`; 959-981
//! `closeForError`; 1289-1329 `awaitOpenSlotForRequest`; 1575-1808 `encodeHeaders`,
//! `encodeTrailers`, `writeHeader`; 1810-1855 `newStream`, `streamByID`), and before 978cfadd
//! (95888ee7) for the go-32388 variant.
//!
//! Locks, as after 978cfadd (order `reqHeaderMu` -> `wmu` -> `mu`):
//! - `mu` ([`ConnState`], class `non_blocking`): streams, reservations, stream ids, GOAWAY and
//!   close flags, flow control, peer settings. `cond` signals stream-slot and flow changes.
//! - `wmu` ([`WriteState`], class `blocking_ok`): the framer and writer (`werr`), and after
//!   978cfadd the HPACK encoder and `hbuf`.
//! - `reqHeaderMu` (a [`SlotLock`], `blocking_ok`): stream-id allocation through the HEADERS write.
//!
//! Where the model abstracts: `cc.henc` + `cc.hbuf` live in a [`Plain`] ([`Hpack`]) because
//! which lock guards them is what go-48340 changes (Go's race detector sees the same field under
//! `mu` and under `wmu`); the per-stream `cs.flow`, `cs.inflow` and `cs.didReset` ("guarded by
//! cc.mu") are [`Plain`] too, so that go-48491 can touch `cs.inflow` without `mu`, and every
//! other access in the model happens with `mu` held. Channels (`resc`, `peerReset`) and the
//! response body pipe are small lock + condition pairs of class `internal`.

use super::hpack::{render, Encoder, Field};
use super::net::{ClientFrame, ErrCode, Net};
use super::variant::Variant;
use crate::sync::{
    blocking, probe, BlockKind, Condvar, Event, LockClass, Mutex, MutexGuard, Plain, SlotLock,
};
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
        }
    }
}

/// Go's `bytes.Buffer` as `hbuf`: `Bytes()` returns a slice that aliases the backing array, so
/// a later `Reset` + write overwrites what an earlier caller still holds, unless the buffer had
/// to grow (a new array; the old slice keeps the old bytes).
#[derive(Default)]
pub struct GoBuffer {
    array: Vec<u8>,
    len: usize,
    generation: u32,
}

/// A slice returned by [`GoBuffer::bytes`].
#[derive(Clone)]
pub struct BufSlice {
    generation: u32,
    len: usize,
    old_array: Vec<u8>,
}

impl GoBuffer {
    /// `Reset`: length 0, capacity kept.
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// `Write`: grows to max(needed, 2 * capacity) when full, like `bytes.Buffer.grow`.
    pub fn write(&mut self, bytes: &[u8]) {
        let needed = self.len + bytes.len();
        if needed > self.array.len() {
            let cap = needed.max(2 * self.array.len());
            let mut array = vec![0; cap];
            array[..self.len].copy_from_slice(&self.array[..self.len]);
            self.array = array;
            self.generation += 1;
        }
        self.array[self.len..needed].copy_from_slice(bytes);
        self.len = needed;
    }

    /// `Bytes()`: a slice of the current contents.
    pub fn bytes(&self) -> BufSlice {
        BufSlice {
            generation: self.generation,
            len: self.len,
            old_array: self.array[..self.len].to_vec(),
        }
    }

    /// What `slice` holds now.
    pub fn read(&self, slice: &BufSlice) -> Vec<u8> {
        if slice.generation == self.generation {
            self.array[..slice.len].to_vec()
        } else {
            slice.old_array.clone()
        }
    }
}

/// `cc.henc` writing into `cc.hbuf`.
#[derive(Default)]
pub struct Hpack {
    /// The encoder.
    pub enc: Encoder,
    /// The buffer it writes into.
    pub hbuf: GoBuffer,
}

/// State guarded by `cc.mu`.
pub struct ConnState {
    /// `cc.streams`.
    pub streams: BTreeMap<u32, Arc<ClientStream>>,
    /// `cc.streamsReserved` (4e4d966f).
    pub streams_reserved: u32,
    /// `cc.nextStreamID`.
    pub next_stream_id: u32,
    /// `cc.pendingRequests`.
    pub pending_requests: u32,
    /// `cc.goAway`'s last-stream-id.
    pub go_away: Option<u32>,
    /// `cc.closed`.
    pub closed: bool,
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
    /// `cs.flow`: our send window (guarded by `cc.mu` in Go).
    pub flow: Plain<i64>,
    /// `cs.inflow`: the receive window we advertised (guarded by `cc.mu` in Go).
    pub inflow: Plain<i64>,
    /// `cs.didReset` (guarded by `cc.mu`).
    pub did_reset: Plain<bool>,
    /// `peerReset` was closed (read by `checkResetOrDone`).
    pub reset: Plain<bool>,
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
            flow: Plain::new(send_window),
            inflow: Plain::new(STREAM_FLOW),
            did_reset: Plain::new(false),
            reset: Plain::new(false),
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
        self.reset.set(true);
        self.chans.lock().peer_reset = Some(err);
        self.chans_changed.notify_all();
    }

    /// `roundTrip`'s select over `resc` and `peerReset` (resc first when both are ready).
    pub fn await_response(&self) -> Result<ResAndError, ReqErr> {
        let mut c = self.chans.lock();
        loop {
            if let Some(r) = c.resc.take() {
                return Ok(r);
            }
            if let Some(e) = c.peer_reset.clone() {
                return Err(e);
            }
            c = self.chans_changed.wait(c);
        }
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
    pub hpack: Plain<Hpack>,
    /// The connection.
    pub net: Arc<Net>,
}

impl ClientConn {
    /// `newClientConn`'s fields (the preface is written by [`super::pool`]'s dial).
    pub fn new(id: u32, host: &str, variant: Variant, net: Arc<Net>) -> Self {
        let state = ConnState {
            streams: BTreeMap::new(),
            streams_reserved: 0,
            next_stream_id: 1,
            pending_requests: 0,
            go_away: None,
            closed: false,
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
            hpack: Plain::new(Hpack::default()),
            net,
        }
    }

    // ---- availability (the pool's questions) -----------------------------------------------

    /// `idleStateLocked().canTakeNewRequest` (StrictMaxConcurrentStreams = false).
    pub fn can_take_locked(st: &ConnState) -> bool {
        let wanted = st.streams.len() as u64 + u64::from(st.streams_reserved) + 1;
        let max_ok = wanted <= u64::from(st.max_concurrent_streams);
        st.go_away.is_none() && !st.closed && !st.closing && max_ok && !st.do_not_reuse
    }

    /// `idleState()` (before 4e4d966f the pool's only question); a yes assigns request `req`
    /// (probed under `mu`, where the decision is made).
    pub fn idle_state(&self, req: u32) -> bool {
        let st = self.mu.lock();
        let yes = Self::can_take_locked(&st);
        if yes {
            self.assigned(req);
        }
        yes
    }

    /// `ReserveNewRequest` (4e4d966f); a yes assigns request `req`.
    pub fn reserve_new_request(&self, req: u32) -> bool {
        let mut st = self.mu.lock();
        if !Self::can_take_locked(&st) {
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

    /// `awaitOpenSlotForRequest`: with `mu` held, wait until a stream may be opened.
    pub fn await_open_slot<'a>(
        &'a self,
        mut st: MutexGuard<'a, ConnState>,
    ) -> Result<MutexGuard<'a, ConnState>, ReqErr> {
        loop {
            if st.closed || !Self::can_take_locked(&st) {
                return Err(ReqErr::ConnUnusable);
            }
            if (st.streams.len() as u64) < u64::from(st.max_concurrent_streams) {
                return Ok(st);
            }
            st.pending_requests += 1;
            st = self.cond.wait(st);
            st.pending_requests -= 1;
        }
    }

    /// `newStream` (requires `mu`).
    pub fn new_stream(&self, st: &mut ConnState, req: u32, has_body: bool) -> Arc<ClientStream> {
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

    /// `streamByID(id, andRemove)`.
    pub fn stream_by_id(&self, id: u32, and_remove: bool) -> Option<Arc<ClientStream>> {
        let mut st = self.mu.lock();
        let cs = st.streams.get(&id).cloned();
        if and_remove && cs.is_some() && !st.closed {
            st.streams.remove(&id);
            probe(Event::StreamClosed {
                conn: self.id,
                stream: id,
            });
            drop(st);
            self.cond.notify_all();
        }
        cs
    }

    /// `forgetStreamID`.
    pub fn forget_stream_id(&self, id: u32) {
        self.stream_by_id(id, true);
    }

    // ---- HPACK ------------------------------------------------------------------------------

    /// `encodeHeaders` / `encodeTrailers`: reset `hbuf`, write every field, return `hbuf.Bytes()`.
    /// The caller holds the lock its variant says guards the encoder.
    pub fn encode(&self, stream: u32, fields: &[Field]) -> BufSlice {
        probe(Event::EncoderEnter { conn: self.id });
        let slice = self.hpack.with(|h| {
            h.hbuf.reset();
            for (name, value) in fields {
                let bytes = h.enc.write_field(name, value);
                h.hbuf.write(&bytes);
            }
            h.hbuf.bytes()
        });
        probe(Event::HeaderBlockEncoded {
            conn: self.id,
            stream,
            headers: render(fields),
        });
        probe(Event::EncoderExit { conn: self.id });
        slice
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
        self.net.write(self.id, frames).map_err(|e| {
            w.werr = Some(e.0.clone());
            ReqErr::Write(e.0)
        })
    }

    /// `writeHeaders`: HEADERS carrying what `slice` holds *now* (+ flush).
    pub fn write_headers(
        &self,
        w: &mut WriteState,
        stream: u32,
        end_stream: bool,
        slice: &BufSlice,
        new_stream: bool,
    ) -> Result<(), ReqErr> {
        let block = self.hpack.with(|h| h.hbuf.read(slice));
        let frame = ClientFrame::Headers {
            stream,
            end_stream,
            block,
        };
        self.write_frames(w, vec![frame])?;
        if new_stream {
            probe(Event::HeadersSent {
                conn: self.id,
                stream,
            });
        }
        Ok(())
    }

    /// Write `frames` after a `mu` section `st`: with `mu` released first (978cfadd) or still
    /// held (before: go-32388). Nothing to write, nothing done.
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

    /// `closeForError` (also `Close`): fail every stream, then close the connection.
    pub fn close_for_error(&self, err: ReqErr) {
        let streams = {
            let mut st = self.mu.lock();
            st.closed = true;
            std::mem::take(&mut st.streams)
        };
        self.fail_streams(streams, &err);
        let st = self.mu.lock();
        self.net.close(self.id);
        drop(st);
        self.cond.notify_all();
    }

    /// Hand `err` to each stream (outside `mu`, as after 978cfadd).
    pub fn fail_streams(&self, streams: BTreeMap<u32, Arc<ClientStream>>, err: &ReqErr) {
        for (id, cs) in streams {
            probe(Event::StreamClosed {
                conn: self.id,
                stream: id,
            });
            cs.send_res(ResAndError::Err(err.clone()));
            cs.pipe_close(PipeEnd::Err(err.clone()));
        }
    }
}
