//! `BaseSubprocessTransport`: a child process and its pipes, whose protocol must see
//! `connection_made` first and `connection_lost` last, exactly once.
//!
//! Upstream: python/cpython `Lib/asyncio/base_subprocess.py`, class `BaseSubprocessTransport`,
//! as it stood just before 1b9763d0: the text of v3.4.2, identical to python/asyncio 942933b^
//! (the Tulip twin of 1b9763d0's parent; the line numbers are of that text):
//! `__init__` (12-40: `_pipes` holds `None` per requested pipe, `_pending_calls` a deque),
//! `close` (72-76), `_post_init` (99-124: one `yield from loop.connect_*_pipe(...)` per pipe,
//! each followed by `self._pipes[fd] = pipe`; then `call_soon(connection_made)`, the pending
//! calls, `_pending_calls = None`), `_call` (126-130), `_pipe_connection_lost` (132-134),
//! `_pipe_data_received` (136-137), `_process_exited` (139-147), `_try_finish` (149-156),
//! `_call_connection_lost` (158-164), and `WriteSubprocessPipeProto` (167-190: `connection_lost`
//! sets `disconnected` and calls `_pipe_connection_lost`). The child's exit is seen through
//! `_WindowsSubprocessTransport._start` (`windows_events.py` 612-624 at v3.4.2: a
//! `wait_for_handle` callback registered before post-init runs; on Unix the watcher is added
//! after post-init, `unix_events.py` 170-176, and the exit cannot be seen during it). The
//! creator is `_make_subprocess_transport` (`windows_events.py` 269-276 at v3.4.2; 4bf22e03 added
//! `try: ... except: transp.close(); raise` around `_post_init`).
//!
//! From 3.4.3 on (python/asyncio c92da15, bpo-23347) post-init is `_connect_pipes`, a task
//! `__init__` starts (3.4.3 `base_subprocess.py` 51, 145-179) whose end the creator awaits
//! through a waiter (3.4.3 `windows_events.py` 366-384): an exit can then be seen before
//! post-init's first step, the window 1b9763d0's message describes ("If the process exited
//! before the `_post_init()` method was called"). [`Variant::post_init_is_a_task`] decides
//! which; the functions above keep their awaits and callbacks in 3.8.
//!
//! Each `await` is one [`Loop::await_point`]. Abstractions, all deliberate:
//! - Post-init is run by the creating task itself, as in v3.4.2's `yield from
//!   transp._post_init()`; from 3.4.3 on, its first await stands for the creator's `await
//!   waiter` before the task's first step. Not modelled: in 3.4.3 and later a cancellation of
//!   the creator cancels the waiter, not the `_connect_pipes` task, which goes on connecting
//!   pipes after the creator has closed the transport; here the cancellation is delivered at
//!   post-init's next await and post-init stops there.
//! - A pipe is a numbered fd the child can write to or close; stdin/stdout/stderr are not told
//!   apart. Its pipe transport is read from the moment post-init stores it in `_pipes`: asyncio's
//!   `_add_reader` is scheduled at the pipe transport's creation, but its first read comes from a
//!   select that runs after the task wakeup already queued by the connect waiter.
//! - `connect_*_pipe` closes its own pipe transport when its await raises (as 3.8's
//!   `base_events.connect_read_pipe` does) in every variant.
//! - The child process is passive: the `exit` operation or `close()`'s kill ends it; its end of
//!   every pipe closes with it; the watcher's `_process_exited` is a loop callback.
//! - `close()` skips pipes still `None` (v3.4.2's `close` would raise `AttributeError` on one;
//!   only a transport whose post-init failed has one, and v3.4.2 never closes such a transport)
//!   and kills a live child (v3.4.2 `terminate()`s it; the same for the model). It does not
//!   `await transp._wait()` (3.8's creator does, after a failed post-init): that await only
//!   waits for the kill to be reaped.

use super::event_loop::{ConnectError, Loop, ProtocolView, Ready, Transport};
use super::variant::{Fix, Variant};
use crate::sync::{probe, CallbackKind, Event, Plain};
use crate::typed::{IllegalTransition, Transition};
use std::sync::Arc;

/// One pipe between the transport and the child.
#[derive(Clone, Copy, Debug, Default)]
struct Pipe {
    /// Its pipe transport exists and has not run `_call_connection_lost` (the fd is open).
    open: bool,
    /// The pipe transport is closing: it reads no more, its `_call_connection_lost` is scheduled.
    closing: bool,
    /// `_pipes[fd]` holds its protocol (stored after the connect await).
    stored: bool,
    /// Its `WriteSubprocessPipeProto.disconnected`.
    disconnected: bool,
    /// Chunks the child wrote that the pipe transport has not read.
    unread: u32,
    /// The child closed its end.
    eof: bool,
}

/// `_pending_calls`: a deque while `_connect_pipes` runs, `None` once it has called
/// `connection_made` and the queued calls (`_call` then goes straight to `call_soon`).
#[derive(Debug)]
enum PendingCalls {
    Queueing(Vec<Ready>),
    Flushed,
}

impl PendingCalls {
    const MACHINE: &'static str = "subprocess transport _pending_calls";

    /// `_call`: queued while post-init runs; once flushed, the call is handed back to run now.
    fn call(&mut self, r: Ready) -> Option<Ready> {
        match self {
            PendingCalls::Queueing(q) => {
                q.push(r);
                None
            }
            PendingCalls::Flushed => Some(r),
        }
    }

    /// The end of post-init takes the queued calls; it happens once.
    fn flush(&mut self) -> Result<Vec<Ready>, IllegalTransition> {
        match std::mem::replace(self, PendingCalls::Flushed) {
            PendingCalls::Queueing(q) => Ok(q),
            PendingCalls::Flushed => Err(IllegalTransition::new(
                Self::MACHINE,
                PendingCalls::Flushed,
                "finish post-init again",
            )),
        }
    }
}

/// The child's exit (`_returncode`) and `_finished`, as `_process_exited` and `_try_finish` move
/// them:
///
/// ```text
///   Running --_process_exited--> Exited --_try_finish (every pipe stored, disconnected)--+
///                                                                                       v
///                                                                                  Finished
/// ```
///
/// `_try_finish` before the exit or with a pipe still connected changes nothing; exiting twice
/// or finishing again is a bug in the model ([`IllegalTransition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Running,
    Exited(i32),
    Finished(i32),
}

impl Exit {
    const MACHINE: &'static str = "subprocess transport exit";

    /// `_process_exited(returncode)`.
    fn exited(self, returncode: i32) -> Result<Self, IllegalTransition> {
        match self {
            Exit::Running => Ok(Exit::Exited(returncode)),
            _ => Err(IllegalTransition::new(Self::MACHINE, self, "exit again")),
        }
    }

    /// `_try_finish`: `_finished` once the child has exited and `pipes_done`; whether it did.
    fn try_finish(self, pipes_done: bool) -> Result<(Self, bool), IllegalTransition> {
        match self {
            Exit::Exited(rc) if pipes_done => Ok((Exit::Finished(rc), true)),
            Exit::Running | Exit::Exited(_) => Ok((self, false)),
            Exit::Finished(_) => Err(IllegalTransition::new(Self::MACHINE, self, "finish again")),
        }
    }

    /// `self._returncode is not None`.
    fn has_exited(self) -> bool {
        self != Exit::Running
    }
}

#[derive(Debug)]
struct State {
    pipes: Vec<Pipe>,
    /// `_pending_calls`.
    pending: PendingCalls,
    /// `_returncode` and `_finished`.
    exit: Exit,
    /// `_closed`.
    closed: bool,
    /// The child process is running.
    child_alive: bool,
}

/// A subprocess transport.
pub struct SubprocessTransport {
    id: u32,
    variant: Variant,
    state: Plain<State>,
    protocol: Plain<ProtocolView>,
}

/// The pipe resource number of `(transport, fd)`.
pub fn pipe_resource(transport: u32, fd: usize) -> u32 {
    transport * 10 + u32::try_from(fd).unwrap_or(9)
}

impl SubprocessTransport {
    /// `_make_subprocess_transport` (windows_events.py / unix_events.py): create the transport
    /// numbered `id` (reserved by the caller), run its post-init, and close it if post-init
    /// fails or is cancelled (4bf22e03; not in [`Fix::CloseOnPostInitFailure`]).
    pub fn create(
        lp: &Loop,
        me: &str,
        id: u32,
        pipes: usize,
        fail_at: Option<usize>,
    ) -> Result<Transport, ConnectError> {
        let t = lp.atomically(|| {
            let t = Arc::new(Self::start(lp.variant(), id, pipes));
            lp.register(id, Transport::Subprocess(t.clone()));
            t
        });
        match t.post_init(lp, me, fail_at) {
            Ok(()) => Ok(Transport::Subprocess(t)),
            Err(e) => {
                if lp.variant().has(Fix::CloseOnPostInitFailure) {
                    // 4bf22e03: `except: transp.close(); raise`.
                    lp.atomically(|| t.close(lp));
                }
                Err(e)
            }
        }
    }

    /// `__init__` + `_start`: the child runs, `_pipes` has a `None` per pipe, calls are queued.
    fn start(variant: Variant, id: u32, pipes: usize) -> Self {
        probe(Event::ResourceOpened {
            kind: "transport",
            id,
        });
        SubprocessTransport {
            id,
            variant,
            state: Plain::new(State {
                pipes: vec![Pipe::default(); pipes],
                pending: PendingCalls::Queueing(Vec::new()),
                exit: Exit::Running,
                closed: false,
                child_alive: true,
            }),
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

    /// `_post_init` (`_connect_pipes` today): connect the pipes one await at a time, then
    /// schedule `connection_made` and the calls queued meanwhile.
    fn post_init(&self, lp: &Loop, me: &str, fail_at: Option<usize>) -> Result<(), ConnectError> {
        if self.variant.post_init_is_a_task() {
            lp.await_point(me, "await waiter: post-init starts")?;
        }
        for fd in 0..self.state.with(|s| s.pipes.len()) {
            lp.atomically(|| self.open_pipe(fd));
            let connected = match lp.await_point(me, "post-init: await loop.connect_*_pipe(...)") {
                Err(c) => Err(ConnectError::from(c)),
                Ok(()) if fail_at == Some(fd) => Err(ConnectError::Failed),
                Ok(()) => Ok(()),
            };
            if let Err(e) = connected {
                // connect_*_pipe: `except: transport.close(); raise`.
                lp.atomically(|| self.close_pipe(lp, fd));
                return Err(e);
            }
            lp.atomically(|| self.store_pipe(lp, fd));
        }
        lp.atomically(|| self.connected(lp));
        Ok(())
    }

    /// `connect_*_pipe` creates the pipe's protocol and transport (the fd is now open).
    fn open_pipe(&self, fd: usize) {
        self.state.with(|s| s.pipes[fd].open = true);
        probe(Event::ResourceOpened {
            kind: "pipe",
            id: pipe_resource(self.id, fd),
        });
    }

    /// `self._pipes[fd] = pipe`; what the child already wrote or closed is read from now on.
    fn store_pipe(&self, lp: &Loop, fd: usize) {
        let readable = self.state.with(|s| {
            let p = &mut s.pipes[fd];
            p.stored = true;
            p.unread > 0 || p.eof
        });
        if readable {
            lp.call_soon(Ready::PipeReadable(self.id, fd));
        }
    }

    /// The end of post-init: `connection_made`, then the pending calls, then no more queueing.
    fn connected(&self, lp: &Loop) {
        let pending = self.state.with(|s| s.pending.flush()).or_panic();
        lp.call_soon(Ready::Protocol(self.id, CallbackKind::Made));
        for r in pending {
            lp.call_soon(r);
        }
    }

    /// `_call`: queue until post-init finishes, then `call_soon`.
    fn call(&self, lp: &Loop, r: Ready) {
        if let Some(r) = self.state.with(|s| s.pending.call(r)) {
            lp.call_soon(r);
        }
    }

    /// A protocol method scheduled by `_call` / `call_soon` runs.
    pub fn run_protocol(&self, kind: CallbackKind) {
        self.protocol.with(|p| p.run(self.id, kind));
    }

    /// `_call_connection_lost`: `self._protocol.connection_lost(exc)`.
    pub fn call_connection_lost(&self) {
        self.protocol.with(|p| p.run(self.id, CallbackKind::Lost));
    }

    /// The pipe transport's `_read_ready`: data to `_pipe_data_received`; at end of file it
    /// closes and schedules its `_call_connection_lost`.
    pub fn pipe_readable(&self, lp: &Loop, fd: usize) {
        let (chunks, eof) = self.state.with(|s| {
            let p = &mut s.pipes[fd];
            if !p.open || p.closing {
                return (0, false);
            }
            let chunks = std::mem::take(&mut p.unread);
            p.closing |= p.eof;
            (chunks, p.eof)
        });
        for _ in 0..chunks {
            // `_pipe_data_received`.
            self.call(lp, Ready::Protocol(self.id, CallbackKind::Data));
        }
        if eof {
            lp.call_soon(Ready::PipeClosed(self.id, fd));
        }
    }

    /// The pipe transport's `_call_connection_lost`: the fd closes, then the pipe protocol's
    /// `connection_lost` marks it disconnected and calls `_pipe_connection_lost`.
    pub fn pipe_closed(&self, lp: &Loop, fd: usize) {
        let was_open = self.state.with(|s| {
            let p = &mut s.pipes[fd];
            p.disconnected = true;
            std::mem::replace(&mut p.open, false)
        });
        if was_open {
            probe(Event::ResourceClosed {
                kind: "pipe",
                id: pipe_resource(self.id, fd),
            });
        }
        // `_pipe_connection_lost`.
        self.call(lp, Ready::Protocol(self.id, CallbackKind::Exited));
        self.try_finish(lp);
    }

    /// `_process_exited`, called by the child watcher.
    pub fn process_exited(&self, lp: &Loop) {
        self.state.with(|s| s.exit = s.exit.exited(0).or_panic());
        self.call(lp, Ready::Protocol(self.id, CallbackKind::Exited));
        self.try_finish(lp);
    }

    /// `_try_finish`: once the child has exited and every pipe is stored and disconnected,
    /// `connection_lost` is due.
    fn try_finish(&self, lp: &Loop) {
        let finish = self.state.with(|s| {
            let pipes_done = s.pipes.iter().all(|p| p.stored && p.disconnected);
            let (exit, finished) = s.exit.try_finish(pipes_done).or_panic();
            s.exit = exit;
            finished
        });
        if !finish {
            return;
        }
        let lost = Ready::ConnectionLost(self.id);
        if !self.variant.has(Fix::LostViaPendingCalls) {
            // Before 1b9763d0: `self._loop.call_soon(self._call_connection_lost, None)`.
            lp.call_soon(lost);
        } else {
            // 1b9763d0: `self._call(self._call_connection_lost, None)`.
            self.call(lp, lost);
        }
    }

    /// `close()`: close the stored pipes' transports and kill a child that still runs (inside
    /// [`Loop::atomically`]; tasks call [`Transport::close`]).
    pub fn close(&self, lp: &Loop) {
        let stored: Option<Vec<usize>> = self.state.with(|s| {
            if std::mem::replace(&mut s.closed, true) {
                return None;
            }
            Some(
                (0..s.pipes.len())
                    .filter(|fd| s.pipes[*fd].stored)
                    .collect(),
            )
        });
        let Some(stored) = stored else { return };
        probe(Event::ResourceClosed {
            kind: "transport",
            id: self.id,
        });
        for fd in stored {
            self.close_pipe(lp, fd);
        }
        if self.state.with(|s| !s.exit.has_exited()) {
            // `self._proc.kill()`.
            self.child_exit(lp);
        }
    }

    /// A pipe transport's `close()`: stop reading, schedule `_call_connection_lost`.
    fn close_pipe(&self, lp: &Loop, fd: usize) {
        let now_closing = self.state.with(|s| {
            let p = &mut s.pipes[fd];
            let start = p.open && !p.closing;
            p.closing |= start;
            start
        });
        if now_closing {
            lp.call_soon(Ready::PipeClosed(self.id, fd));
        }
    }

    /// The child exits (by itself or killed): its pipe ends close, the watcher reports the exit.
    pub fn child_exit(&self, lp: &Loop) {
        let readable: Option<Vec<usize>> = self.state.with(|s| {
            if !std::mem::replace(&mut s.child_alive, false) {
                return None;
            }
            for p in &mut s.pipes {
                p.eof = true;
            }
            Some(
                (0..s.pipes.len())
                    .filter(|fd| s.pipes[*fd].stored && !s.pipes[*fd].closing)
                    .collect(),
            )
        });
        let Some(readable) = readable else { return };
        for fd in readable {
            lp.call_soon(Ready::PipeReadable(self.id, fd));
        }
        lp.call_soon(Ready::ProcessExited(self.id));
    }

    /// The child writes a chunk on pipe `fd` (nothing if it has exited or has no such pipe).
    pub fn child_write(&self, lp: &Loop, fd: usize) {
        self.child_pipe_event(lp, fd, |p| p.unread += 1);
    }

    /// The child closes its end of pipe `fd`.
    pub fn child_close(&self, lp: &Loop, fd: usize) {
        self.child_pipe_event(lp, fd, |p| p.eof = true);
    }

    fn child_pipe_event(&self, lp: &Loop, fd: usize, f: impl FnOnce(&mut Pipe)) {
        let readable = self.state.with(|s| {
            if !s.child_alive {
                return false;
            }
            match s.pipes.get_mut(fd) {
                Some(p) if !p.eof => {
                    f(p);
                    p.stored && !p.closing
                }
                _ => false,
            }
        });
        if readable {
            lp.call_soon(Ready::PipeReadable(self.id, fd));
        }
    }
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
