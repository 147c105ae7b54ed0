//! `IocpProactor.connect_pipe()` and the duplex pipe transport that
//! `ProactorEventLoop.create_pipe_connection()` builds on the pipe it returns.
//!
//! Upstream: python/cpython `Lib/asyncio/windows_events.py`, three shapes ([`PipeConnect`]); the
//! line numbers are of the Tulip twin of each commit (python/asyncio, the same file text):
//! - v3.4.2 (python/asyncio tag 3.4.2): `connect_pipe` (410-427) calls
//!   `ov.WaitNamedPipeAndConnect(address, self._iocp, ov.address)`, which queues
//!   `WaitNamedPipeAndConnectInThread` (`overlapped.c`) to the Windows thread pool: it loops over
//!   `WaitNamedPipe` and `CreateFile` and posts the handle to the completion port. It returns
//!   `self._register(ov, None, finish_connect_pipe, wait_for_post=True)`, an
//!   `_OverlappedFuture`. Cancelling it does nothing to the worker (`Overlapped_cancel` returns
//!   at once for `TYPE_WAIT_NAMED_PIPE_AND_CONNECT`), and when the completion arrives `_poll`
//!   (518-566) skips the callback of a done future (558: `elif not f.done():`): the handle the
//!   worker opened is never wrapped nor closed.
//! - 7ffa2c5f (2015-01-22, "Issue #23293, asyncio: Rewrite IocpProactor.connect_pipe()"; twin
//!   8f386cd5): `connect_pipe(address)` (522-525) creates `fut` and calls
//!   `_connect_pipe(fut, address, CONNECT_PIPE_INIT_DELAY)` (504-521) at once: `handle =
//!   _overlapped.ConnectPipe(address)`; on `ERROR_PIPE_BUSY` it re-arms with
//!   `self._loop.call_later(delay, self._connect_pipe, fut, address, delay)`; otherwise
//!   `fut.set_result(PipeHandle(handle))`, which raises `InvalidStateError` on a cancelled
//!   future. Nothing in the chain looks at `fut.cancelled()`.
//! - e0fd157b (2015-01-26, "Rewrite IocpProactor.connect_pipe() as a coroutine"; twin 34214f46,
//!   521-539; the shape 3.8 keeps): `connect_pipe` loops: `ConnectPipe(address)`; on
//!   `ERROR_PIPE_BUSY`, `delay = min(delay * 2, CONNECT_PIPE_MAX_DELAY)` and `yield from
//!   tasks.sleep(delay)` (537); otherwise return `PipeHandle(handle)`. Cancelling the task
//!   raises `CancelledError` in that sleep, ending the poll.
//! - `ProactorEventLoop.create_pipe_connection` (222-228 at v3.4.2, 310-316 at 7ffa2c5f): `pipe
//!   = yield from f` (the `connect_pipe` result), then `_make_duplex_pipe_transport(pipe,
//!   protocol)`, whose `__init__` (`proactor_events.py`, `_ProactorBasePipeTransport.__init__`,
//!   line 39 at v3.4.2) does `self._loop.call_soon(self._protocol.connection_made, self)`;
//!   `close()` schedules `_call_connection_lost` (97-), which calls `connection_lost` and closes
//!   the pipe handle.
//!
//! Abstractions: the server side is a count of `busy` attempts that find every pipe instance
//! busy before one connects; delays are not modelled (a `call_later` re-arm is a `call_soon`, a
//! sleep is one await). The v3.4.2 worker thread is the same chain of attempts, each one loop
//! turn (its progress reaches the loop only through `GetQueuedCompletionStatus` in `_poll`, once
//! per turn), with no attempt before `connect_pipe` returns. Resources: `poll-task` `n` is the
//! `n`-th `connect_pipe` call's polling (the worker thread, the chain or the coroutine), open
//! until it stops; `pipe` `1000 + n` is the handle it opens.

use super::event_loop::{Cancelled, ConnectError, Loop, ProtocolView, Ready, Transport};
use super::variant::PipeConnect;
use crate::sync::{probe, CallbackKind, Event, Plain};
use crate::typed::{IllegalTransition, Transition};
use std::sync::Arc;

/// The future a 7ffa2c5f poll chain or a v3.4.2 worker completes (an `asyncio.Future`, `Lib/asyncio/futures.py`
/// `set_result`, `cancel`, `result`), as the chain and its awaiting task move it:
///
/// ```text
///   Pending --set_result(h)--> Done(h) --result read by the awaiting task--> Taken
///      |                          |
///      +--cancel--> Cancelled     +--cancel: no effect (`cancel()` of a done future is False)
///                   set_result: InvalidStateError, the handle leaks (the bug, upstream's move)
/// ```
///
/// Any other move (completing twice, reading the result twice or after a cancellation, cancelling
/// a task that has returned) is a bug in the model: an [`IllegalTransition`] (`model-panic`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fut {
    Pending,
    Done(u32),
    Cancelled,
    Taken,
}

impl Fut {
    const MACHINE: &'static str = "connect_pipe future";

    /// `fut.set_result(handle)` from the poll chain, which stops polling once connected.
    fn set_result(self, handle: u32) -> Result<Self, IllegalTransition> {
        match self {
            Fut::Pending => Ok(Fut::Done(handle)),
            // `InvalidStateError`: the handle is never closed.
            Fut::Cancelled => Ok(Fut::Cancelled),
            Fut::Done(_) | Fut::Taken => Err(IllegalTransition::new(
                Self::MACHINE,
                self,
                "complete again",
            )),
        }
    }

    /// `fut.cancel()`, from `Task.cancel()` of the task awaiting it.
    fn cancel(self) -> Result<Self, IllegalTransition> {
        match self {
            Fut::Pending | Fut::Cancelled => Ok(Fut::Cancelled),
            Fut::Done(_) => Ok(self),
            Fut::Taken => Err(IllegalTransition::new(
                Self::MACHINE,
                self,
                "be cancelled after its task returned",
            )),
        }
    }

    /// The awaiting task resumes: the handle once the future is done, `None` while pending.
    fn take(self) -> Result<(Self, Option<u32>), IllegalTransition> {
        match self {
            Fut::Pending => Ok((self, None)),
            Fut::Done(h) => Ok((Fut::Taken, Some(h))),
            Fut::Cancelled | Fut::Taken => Err(IllegalTransition::new(
                Self::MACHINE,
                self,
                "hand its result to a task that is gone",
            )),
        }
    }
}

/// One `connect_pipe` call's poll (the `call_later` chain of 7ffa2c5f, the worker of v3.4.2).
#[derive(Clone, Copy, Debug)]
pub struct PollChain {
    busy_left: u32,
    fut: Fut,
}

/// The handle resource number of the `n`-th `connect_pipe` call.
fn handle_resource(poll: u32) -> u32 {
    1000 + poll
}

/// `create_pipe_connection`: connect to the pipe, then wrap it in a duplex pipe transport
/// numbered `id` (reserved by the caller).
pub fn create_pipe_connection(
    lp: &Loop,
    me: &str,
    id: u32,
    busy: u32,
) -> Result<Transport, ConnectError> {
    let handle = connect_pipe(lp, me, busy)?;
    let t = lp.atomically(|| {
        let t = Arc::new(PipeTransport::new(lp, id, handle));
        lp.register(id, Transport::Pipe(t.clone()));
        t
    });
    Ok(Transport::Pipe(t))
}

/// `IocpProactor.connect_pipe(address)`: poll until the server has a free pipe instance.
pub fn connect_pipe(lp: &Loop, me: &str, busy: u32) -> Result<u32, Cancelled> {
    let poll = lp.atomically(|| {
        let poll = lp.polls().with(|v| {
            v.push(PollChain {
                busy_left: busy,
                fut: Fut::Pending,
            });
            u32::try_from(v.len()).expect("few polls")
        });
        probe(Event::ResourceOpened {
            kind: "poll-task",
            id: poll,
        });
        poll
    });
    match lp.variant().pipe_connect() {
        PipeConnect::Coroutine => connect_pipe_coroutine(lp, me, poll),
        PipeConnect::CallLaterPoll => {
            // `self._connect_pipe(fut, address, CONNECT_PIPE_INIT_DELAY)`: the first attempt now.
            lp.atomically(|| poll_step(lp, poll));
            await_connect_future(lp, me, poll)
        }
        PipeConnect::WorkerThread => {
            // `QueueUserWorkItem(WaitNamedPipeAndConnectInThread, ...)`: the worker's attempts
            // reach the loop from its next turn on.
            lp.call_soon(Ready::PollStep(poll));
            await_connect_future(lp, me, poll)
        }
    }
}

/// e0fd157b: the poll is the caller's own coroutine; a cancellation ends it in its sleep.
fn connect_pipe_coroutine(lp: &Loop, me: &str, poll: u32) -> Result<u32, Cancelled> {
    loop {
        let connected = lp.atomically(|| {
            let handle = attempt(lp, poll);
            if handle.is_some() {
                stop_polling(poll);
            }
            handle
        });
        if let Some(handle) = connected {
            return Ok(handle);
        }
        if let Err(c) = lp.await_point(me, "connect_pipe: await tasks.sleep(delay)") {
            lp.atomically(|| stop_polling(poll));
            return Err(c);
        }
    }
}

/// `pipe = yield from f` in `create_pipe_connection` (7ffa2c5f and v3.4.2): the caller awaits the
/// future the chain or the worker completes. Cancelling the caller cancels the future and
/// nothing else.
fn await_connect_future(lp: &Loop, me: &str, poll: u32) -> Result<u32, Cancelled> {
    loop {
        if let Some(handle) = lp.atomically(|| take_result(lp, poll)) {
            return Ok(handle);
        }
        if let Err(c) = lp.await_point(me, "create_pipe_connection: await connect_pipe future") {
            // `Task.cancel()` cancels the awaited future; a result already set is dropped with
            // the task's `CancelledError`: its handle is never closed.
            lp.atomically(|| {
                lp.polls().with(|v| {
                    let f = &mut v[slot(poll)].fut;
                    *f = f.cancel().or_panic();
                })
            });
            return Err(c);
        }
    }
}

/// One step of the 7ffa2c5f chain (also its first attempt) or of the v3.4.2 worker: try to
/// connect; if busy, re-arm (try again); if connected, complete the future, even a cancelled one
/// (7ffa2c5f: `set_result` raises `InvalidStateError`; v3.4.2: `_poll` skips the callback of a
/// done future), and the handle leaks.
pub fn poll_step(lp: &Loop, poll: u32) {
    match attempt(lp, poll) {
        None => lp.call_soon(Ready::PollStep(poll)),
        Some(handle) => {
            stop_polling(poll);
            lp.polls().with(|v| {
                let f = &mut v[slot(poll)].fut;
                *f = f.set_result(handle).or_panic();
            });
        }
    }
}

/// `_overlapped.ConnectPipe(address)`: a handle, or `None` for `ERROR_PIPE_BUSY`.
fn attempt(lp: &Loop, poll: u32) -> Option<u32> {
    let busy = lp.polls().with(|v| {
        let c = &mut v[slot(poll)];
        let busy = c.busy_left > 0;
        c.busy_left = c.busy_left.saturating_sub(1);
        busy
    });
    if busy {
        return None;
    }
    let handle = handle_resource(poll);
    probe(Event::ResourceOpened {
        kind: "pipe",
        id: handle,
    });
    Some(handle)
}

fn take_result(lp: &Loop, poll: u32) -> Option<u32> {
    lp.polls().with(|v| {
        let f = &mut v[slot(poll)].fut;
        let (next, handle) = f.take().or_panic();
        *f = next;
        handle
    })
}

fn stop_polling(poll: u32) {
    probe(Event::ResourceClosed {
        kind: "poll-task",
        id: poll,
    });
}

fn slot(poll: u32) -> usize {
    usize::try_from(poll).expect("small") - 1
}

#[derive(Clone, Copy, Debug, Default)]
struct PipeState {
    /// `_closing`.
    closing: bool,
    /// Chunks the server wrote that were not read.
    unread: u32,
    /// The server closed its end.
    eof: bool,
}

/// `_ProactorDuplexPipeTransport` over a connected pipe handle.
pub struct PipeTransport {
    id: u32,
    handle: u32,
    state: Plain<PipeState>,
    protocol: Plain<ProtocolView>,
}

impl PipeTransport {
    /// `_make_duplex_pipe_transport`: `connection_made` is scheduled at once.
    fn new(lp: &Loop, id: u32, handle: u32) -> Self {
        probe(Event::ResourceOpened {
            kind: "transport",
            id,
        });
        lp.call_soon(Ready::Protocol(id, CallbackKind::Made));
        PipeTransport {
            id,
            handle,
            state: Plain::new(PipeState::default()),
            protocol: Plain::new(ProtocolView::default()),
        }
    }

    /// Its number.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// What its protocol has been told.
    pub fn protocol(&self) -> ProtocolView {
        self.protocol.get()
    }

    /// A protocol method scheduled with `call_soon` runs.
    pub fn run_protocol(&self, kind: CallbackKind) {
        self.protocol.with(|p| p.run(self.id, kind));
    }

    /// `_loop_reading` completed: `data_received` per chunk; at end of file `eof_received`,
    /// then `close()`.
    pub fn readable(&self, lp: &Loop) {
        let (chunks, eof) = self.state.with(|s| {
            if s.closing {
                return (0, false);
            }
            (std::mem::take(&mut s.unread), s.eof)
        });
        for _ in 0..chunks {
            self.run_protocol(CallbackKind::Data);
        }
        if eof {
            self.run_protocol(CallbackKind::Exited);
            self.close(lp);
        }
    }

    /// `close()`: schedule `_call_connection_lost` once.
    pub fn close(&self, lp: &Loop) {
        if self.state.with(|s| std::mem::replace(&mut s.closing, true)) {
            return;
        }
        probe(Event::ResourceClosed {
            kind: "transport",
            id: self.id,
        });
        lp.call_soon(Ready::ConnectionLost(self.id));
    }

    /// `_call_connection_lost`: `connection_lost`, then the pipe handle closes.
    pub fn call_connection_lost(&self) {
        self.run_protocol(CallbackKind::Lost);
        probe(Event::ResourceClosed {
            kind: "pipe",
            id: self.handle,
        });
    }

    /// The server writes a chunk.
    pub fn peer_write(&self, lp: &Loop) {
        self.peer_event(lp, |s| s.unread += 1);
    }

    /// The server closes its end (or goes away).
    pub fn peer_close(&self, lp: &Loop) {
        self.peer_event(lp, |s| s.eof = true);
    }

    fn peer_event(&self, lp: &Loop, f: impl FnOnce(&mut PipeState)) {
        let readable = self.state.with(|s| {
            if s.eof || s.closing {
                return false;
            }
            f(s);
            true
        });
        if readable {
            lp.call_soon(Ready::PipeReadable(self.id, 0));
        }
    }
}

#[cfg(test)]
#[path = "connect_pipe_tests.rs"]
mod tests;
