//! `AsyncHTTP11Connection` (encode/httpcore 1.0.9, commit 9820975, `httpcore/_async/http11.py`)
//! with `HTTP11ConnectionByteStream` (the response body), over h11's client state machine.
//!
//! An asyncio original like [`super::connection`]: its scheduling points are exactly its awaits,
//! in order. `async with self._state_lock` is a facade [`Mutex`] with anyio's semantics,
//! `await self._network_stream.read()/write()/aclose()` one [`Network`] operation each;
//! `_state`, `_expire_at` and the h11 state are [`Plain`] fields, as atomic as the code between
//! two awaits; `_request_count` is left out, since upstream reads it only in `info()` and
//! `__repr__` (http11.py 294-307), so no request can observe it.
//!
//! One request/response cycle at a time: the connection is NEW until its first request, ACTIVE
//! from the `_state_lock` section of `handle_async_request` (http11.py 72-78) to
//! `_response_closed` (238-250), which makes it IDLE for the next cycle if both sides finished
//! their message (h11 `DONE`/`DONE`, `start_next_cycle`) and closes it otherwise. The pool may
//! hand an HTTP/1.1 connection to a request only while it is IDLE (`is_available`, 267-272): a
//! NEW one belongs to the request that created it.
//!
//! On the wire a cycle is a "stream" numbered 1, 2, 3... in order (request HEADERS out, response
//! HEADERS and DATA in), so that the peer's `respond`, `end-stream` and `disconnect` operations
//! and the monitors (`StreamOpened`/`StreamClosed` bracket the cycle) work as on HTTP/2.
//!
//! Abstractions: requests are GETs without a body, so `_send_request_body` sends only h11's
//! `EndOfMessage`, whose empty write returns without an await (`AnyIOStream.write`: `if not
//! buffer: return`); no `Trace`, no timeouts, no upgrades (status 101, CONNECT); `has_expired`
//! checks the keep-alive expiry only, not a readable socket on an IDLE connection (a server
//! that closed it), since peeking at the socket is not an await the model can take without
//! adding a scheduling point.

use super::connection::{ConnConfig, ReqError};
use super::h2state::{ClientFrame, ServerFrame};
use super::peer::{Network, ReadError};
use super::task::Task;
use super::variant::{Fix, Variant};
use crate::sync::{
    now, probe, probe_phase, CloseReason, ConnPhase, Event, LockClass, Mutex, Plain,
};
use crate::typed::{IllegalTransition, Transition};
use std::collections::VecDeque;
use std::sync::Arc;

/// `HTTPConnectionState`, as `AsyncHTTP11Connection` moves it:
///
/// ```text
///          activate             idle (both sides DONE)
///   NEW -------------> ACTIVE <--------------------> IDLE
///    |                   |          activate           |
///    +-------------------+---------------+-------------+
///                        close           v
///                                      CLOSED  (close again: stays CLOSED)
/// ```
///
/// Any other move is a bug in the model (an [`IllegalTransition`], reported as `model-panic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum H11State {
    /// `NEW`: connected, no request yet.
    New,
    /// `ACTIVE`.
    Active,
    /// `IDLE`.
    Idle,
    /// `CLOSED`.
    Closed,
}

impl H11State {
    const MACHINE: &'static str = "httpcore HTTP/1.1 connection";

    /// http11.py 73-76: `_state = ACTIVE`, only from NEW or IDLE (the caller refuses the others
    /// with `ConnectionNotAvailable` before asking).
    fn activate(self) -> Result<Self, IllegalTransition> {
        match self {
            H11State::New | H11State::Idle => Ok(H11State::Active),
            _ => Err(IllegalTransition::new(Self::MACHINE, self, "activate")),
        }
    }

    /// http11.py 244: `_state = IDLE`, only from ACTIVE.
    fn idle(self) -> Result<Self, IllegalTransition> {
        match self {
            H11State::Active => Ok(H11State::Idle),
            _ => Err(IllegalTransition::new(Self::MACHINE, self, "go idle")),
        }
    }
}

/// h11's view of the server's side of the current cycle (`their_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Theirs {
    /// `SEND_RESPONSE`: no response HEADERS yet.
    SendResponse,
    /// `SEND_BODY`: HEADERS received, the body has not ended.
    SendBody,
    /// `DONE`: the response ended.
    Done,
}

#[derive(Debug)]
struct Fields {
    state: H11State,
    expire_at: Option<u64>,
    /// The cycle number: the wire's "stream" of the current request (1, 2, 3...).
    cycle: u32,
    /// h11 `our_state is DONE`: the request went out completely.
    ours_done: bool,
    theirs: Theirs,
    /// Frames read from the socket and not consumed yet (h11's receive buffer).
    buffered: VecDeque<ServerFrame>,
    /// Events taken so far (a model check, not h11 state: see
    /// [`Http11Connection::receive_while`]).
    taken: u64,
}

impl Fields {
    /// h11's `start_next_cycle` (python-hyper/h11 0.16.0, commit 1c5b075, `_connection.py`
    /// 235-253 and `_state.py` 356-365): both sides DONE start the next cycle on the same
    /// connection; any other state raises `LocalProtocolError("not in a reusable state")`,
    /// which httpcore's own check before the call (http11.py 240-245) never lets happen, so
    /// here it is a bug in the model.
    fn start_next_cycle(&mut self) -> Result<(), IllegalTransition> {
        match (self.ours_done, self.theirs) {
            (true, Theirs::Done) => {
                self.cycle += 1;
                self.ours_done = false;
                self.theirs = Theirs::SendResponse;
                Ok(())
            }
            states => Err(IllegalTransition::new(
                "h11 connection (ours DONE, theirs)",
                states,
                "start the next cycle",
            )),
        }
    }
}

/// `_state_lock`: protects the state decisions; held across the `aclose` of
/// `_response_closed` by upstream (a network close, which does not block in the model).
const STATE_LOCK: LockClass = LockClass::non_blocking("state");

/// One `AsyncHTTP11Connection`.
pub struct Http11Connection {
    id: u32,
    variant: Variant,
    config: ConnConfig,
    net: Arc<Network>,
    f: Plain<Fields>,
    state_lock: Mutex<()>,
}

impl Http11Connection {
    /// `__init__` (http11.py 47-63): NEW, no expiry, the first cycle.
    pub fn new(id: u32, variant: Variant, config: ConnConfig, net: Arc<Network>) -> Self {
        Http11Connection {
            id,
            variant,
            config,
            net,
            f: Plain::new(Fields {
                state: H11State::New,
                expire_at: None,
                cycle: 1,
                ours_done: false,
                theirs: Theirs::SendResponse,
                buffered: VecDeque::new(),
                taken: 0,
            }),
            state_lock: Mutex::new(format!("conn{id}._state_lock"), STATE_LOCK, ()),
        }
    }

    /// `handle_async_request` (http11.py 65-136): mark ACTIVE under `_state_lock` (or refuse
    /// with `ConnectionNotAvailable`), send the request, read the response HEADERS. Returns the
    /// cycle's wire number; the caller owns the response and must call
    /// [`Http11Connection::response_closed`]. A failure after the ACTIVE mark runs the
    /// shielded `_response_closed` (http11.py 132-136), which closes the connection since the
    /// cycle did not finish.
    pub fn handle_async_request(&self, task: &Task<'_>) -> Result<u32, ReqError> {
        // Outside any `try` (http11.py 72, connection.py 75): a cancellation here leaves the
        // connection NEW (or IDLE) and undone.
        task.checkpoint("state-lock")?;
        let cycle = self.mark_active(task.req)?;
        match self.send_and_receive(task, cycle) {
            Ok(()) => Ok(cycle),
            Err(ReqError::Cancelled) => {
                self.cleanup_after_cancel(cycle, task);
                Err(ReqError::Cancelled)
            }
            Err(e) => {
                self.response_closed(cycle);
                Err(e)
            }
        }
    }

    /// The shielded `_response_closed` after a cancellation (http11.py 132-136, and
    /// `HTTP11ConnectionByteStream.__aiter__`'s `except`, 336-342, whose `aclose` sets `_closed`
    /// before it awaits). A second `Task.cancel()` passes anyio's shield and raises at
    /// `async with self._state_lock` (encode/httpx#3782): in 1.0.9 the cleanup is lost and the
    /// connection stays ACTIVE for good, since every later `aclose` sees `_closed` set. Fix
    /// `retry-cleanup-on-cancel` (after encode/httpcore#1116): the cleanup completes anyway.
    pub fn cleanup_after_cancel(&self, cycle: u32, task: &Task<'_>) {
        if task.cleanup_interrupted("cleanup") && !self.variant.has(Fix::RetryCleanupOnCancel) {
            return;
        }
        self.response_closed(cycle);
    }

    /// http11.py 72-78: `async with self._state_lock`, NEW or IDLE becomes ACTIVE.
    fn mark_active(&self, req: u32) -> Result<u32, ReqError> {
        let _g = self.state_lock.lock();
        let cycle = self.f.with(|f| {
            if !matches!(f.state, H11State::New | H11State::Idle) {
                return None;
            }
            f.state = f.state.activate().or_panic();
            f.expire_at = None;
            Some(f.cycle)
        });
        let cycle = cycle.ok_or(ReqError::ConnectionNotAvailable)?;
        probe_phase(self.id, ConnPhase::Active);
        probe(Event::StreamOpened {
            conn: self.id,
            stream: cycle,
            req,
        });
        Ok(cycle)
    }

    /// http11.py 80-105: send the request (a `WriteError` is suppressed, 89-95: the server may
    /// have answered before it stopped reading), then read the response HEADERS.
    fn send_and_receive(&self, task: &Task<'_>, cycle: u32) -> Result<(), ReqError> {
        task.checkpoint("write")?;
        let sent = self
            .net
            .write(self.id, &[ClientFrame::Headers { stream: cycle }]);
        // `_send_request_body`: h11's EndOfMessage; its empty write does not await.
        self.f.with(|f| f.ours_done = true);
        if sent.is_ok() {
            probe(Event::HeadersSent {
                conn: self.id,
                stream: cycle,
            });
        }
        task.checkpoint("response")?;
        self.receive_response_headers()
    }

    /// `_receive_response_headers` (http11.py 170-194): events until the response.
    fn receive_response_headers(&self) -> Result<(), ReqError> {
        self.receive_while(|theirs| theirs == Theirs::SendResponse)
    }

    /// `_receive_response_body` (http11.py 196-207), as `HTTP11ConnectionByteStream.__aiter__`
    /// consumes it: DATA until `EndOfMessage`.
    pub fn receive_response_body(&self) -> Result<(), ReqError> {
        self.receive_while(|theirs| theirs != Theirs::Done)
    }

    /// The `while True: event = await self._receive_event()` loops of the two above, as h11's
    /// `their_state` tells when the part of the response they wait for is in.
    ///
    /// Each `_receive_event` takes one event, reading first when none is buffered, and a read
    /// blocks until a frame arrives or fails: a call that took none would make this loop spin
    /// without a scheduling point (the judge hangs), so the model stops and says so, a model
    /// bug (the check is the model's own, not upstream's; it reads only state the step already
    /// writes).
    fn receive_while(&self, more: impl Fn(Theirs) -> bool) -> Result<(), ReqError> {
        loop {
            let (theirs, taken) = self.f.read(|f| (f.theirs, f.taken));
            if !more(theirs) {
                return Ok(());
            }
            self.receive_event()?;
            assert_eq!(
                self.f.read(|f| f.taken),
                taken + 1,
                "model bug: `_receive_event` returned without an event"
            );
        }
    }

    /// `_receive_event` (http11.py 209-236): take one event h11 has buffered, reading from the
    /// socket first when it needs data (`NEED_DATA`).
    fn receive_event(&self) -> Result<(), ReqError> {
        if self.f.read(|f| f.buffered.is_empty()) {
            let frames = self.read()?;
            self.f.with(|f| f.buffered.extend(frames));
        }
        self.f.with(|f| {
            // A read returns frames or fails, never nothing: a model that broke this would
            // spin here without a scheduling point, so it stops and says so.
            let frame = f
                .buffered
                .pop_front()
                .expect("model bug: a read returned no frame");
            consume(f, frame);
        });
        Ok(())
    }

    /// `await self._network_stream.read()` (http11.py 217-231); the end of the transport
    /// before the response is "Server disconnected without sending a response.".
    fn read(&self) -> Result<Vec<ServerFrame>, ReqError> {
        match self.net.read(self.id) {
            Ok(frames) => Ok(frames),
            Err(ReadError::Eof) => Err(ReqError::RemoteProtocol(
                match self.f.read(|f| f.theirs) {
                    Theirs::SendResponse => "Server disconnected without sending a response.",
                    _ => "peer closed connection without sending complete message body",
                }
                .into(),
            )),
            Err(ReadError::Closed) => Err(ReqError::Network("ReadError".into())),
        }
    }

    /// `_response_closed` (http11.py 238-250), also `HTTP11ConnectionByteStream.aclose`
    /// (344-348): under `_state_lock`, IDLE for the next cycle if both sides are DONE, else
    /// `await self.aclose()` (still under the lock).
    ///
    /// Abstraction: upstream sets IDLE (http11.py 240-244) without looking at `_state`, so a
    /// connection the pool closed under a response already read to its end (`pool.aclose()`
    /// before the response's `aclose()`) reads IDLE again, its socket closed. The model leaves
    /// it CLOSED: the pool removed it before closing it, so nothing asks it again.
    pub fn response_closed(&self, cycle: u32) {
        let _g = self.state_lock.lock();
        let reusable = self.f.read(|f| f.ours_done && f.theirs == Theirs::Done);
        probe(Event::StreamClosed {
            conn: self.id,
            stream: cycle,
        });
        if !reusable {
            self.aclose(CloseReason::Owner);
            return;
        }
        if self.is_closed() {
            return;
        }
        let expire_at = self.config.keepalive_expiry.map(|k| now() + k);
        self.f.with(|f| {
            f.state = f.state.idle().or_panic();
            f.start_next_cycle().or_panic();
            f.expire_at = expire_at;
        });
        probe_phase(self.id, ConnPhase::Idle { expire_at });
    }

    /// `aclose` (http11.py 254-258): `_state = CLOSED` with no lock, then the network close.
    pub fn aclose(&self, reason: CloseReason) {
        self.begin_close(reason);
        self.finish_close();
    }

    /// The part of `aclose` before its await: `_state = CLOSED`. False if already closed.
    pub fn begin_close(&self, reason: CloseReason) -> bool {
        let was_open = self.f.with(|f| {
            let was = f.state != H11State::Closed;
            f.state = H11State::Closed;
            was
        });
        if was_open {
            probe(Event::ConnClosed {
                conn: self.id,
                reason,
            });
            probe_phase(self.id, ConnPhase::Closed);
        }
        was_open
    }

    /// `await self._network_stream.aclose()` (http11.py 258).
    pub fn finish_close(&self) {
        self.net.close(self.id);
    }

    // ---- pool interface (http11.py 267-292) ----

    /// `is_available` (http11.py 267-272): IDLE only; a NEW connection belongs to the request
    /// that created it.
    pub fn is_available(&self) -> bool {
        self.is_idle()
    }

    /// `has_expired` (http11.py 274-286), the keep-alive part.
    pub fn has_expired(&self) -> bool {
        let t = now();
        self.f.read(|f| f.expire_at.is_some_and(|e| t > e))
    }

    /// `is_idle` (http11.py 288-289).
    pub fn is_idle(&self) -> bool {
        self.f.read(|f| f.state == H11State::Idle)
    }

    /// `is_closed` (http11.py 291-292).
    pub fn is_closed(&self) -> bool {
        self.f.read(|f| f.state == H11State::Closed)
    }

    /// Still NEW: connected, but no request ever marked it ACTIVE.
    pub fn is_new(&self) -> bool {
        self.f.read(|f| f.state == H11State::New)
    }
}

/// h11 `next_event()` on one frame of the current cycle: response HEADERS, then DATA until the
/// end of the message. Frames of HTTP/2 only (SETTINGS, RST_STREAM, GOAWAY) never reach an
/// HTTP/1.1 connection (the scenario check refuses them).
fn consume(f: &mut Fields, frame: ServerFrame) {
    f.taken += 1;
    let ended = match frame {
        ServerFrame::Headers { end_stream, .. } => end_stream,
        ServerFrame::Data { end_stream, .. } => end_stream,
        _ => false,
    };
    f.theirs = if ended {
        Theirs::Done
    } else {
        Theirs::SendBody
    };
}

#[cfg(test)]
#[path = "http11_tests.rs"]
mod tests;

#[cfg(test)]
mod state_tests {
    use super::H11State::{Active, Closed, Idle, New};
    use super::{Fields, Theirs};
    use std::collections::VecDeque;

    fn cycle_with(ours_done: bool, theirs: Theirs) -> Fields {
        Fields {
            state: Active,
            expire_at: None,
            cycle: 1,
            ours_done,
            theirs,
            buffered: VecDeque::new(),
            taken: 0,
        }
    }

    #[test]
    fn only_a_cycle_both_sides_finished_starts_the_next() {
        let mut done = cycle_with(true, Theirs::Done);
        assert_eq!(done.start_next_cycle(), Ok(()));
        assert_eq!(
            (done.cycle, done.ours_done, done.theirs),
            (2, false, Theirs::SendResponse)
        );
        for (ours_done, theirs) in [
            (true, Theirs::SendBody),
            (true, Theirs::SendResponse),
            (false, Theirs::Done),
        ] {
            let mut f = cycle_with(ours_done, theirs);
            assert!(f.start_next_cycle().is_err(), "{ours_done} {theirs:?}");
            assert_eq!(f.cycle, 1, "a refused cycle stays the current one");
        }
    }

    #[test]
    fn only_the_diagrams_moves_are_legal() {
        assert_eq!(New.activate(), Ok(Active));
        assert_eq!(Idle.activate(), Ok(Active));
        assert!(Active.activate().is_err());
        assert!(Closed.activate().is_err());
        assert_eq!(Active.idle(), Ok(Idle));
        assert!(New.idle().is_err());
        assert!(Idle.idle().is_err());
    }
}
