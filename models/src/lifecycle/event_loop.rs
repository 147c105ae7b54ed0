//! The asyncio event loop as far as the lifecycle needs it: a FIFO of ready callbacks
//! (`loop.call_soon`), the awaits of tasks, and task cancellation.
//!
//! asyncio runs one thing at a time: a task step (the code between two awaits) or a ready
//! callback. The model runs every task as a facade actor whose only scheduling points are its
//! awaits ([`Loop::await_point`]: one [`yield_now`] each). A callback never awaits, so it runs
//! atomically; the loop runs the callbacks that are ready when a task resumes from an await
//! ([`Loop::turn`], asyncio's `BaseEventLoop._run_once` taking the ready queue's current length)
//! and the main actor drains the queue at the end of an execution ([`Loop::drain`]), as a loop
//! that keeps running would. Callbacks run in FIFO order whoever drains them, so the order in
//! which protocol callbacks run is exactly the order the code scheduled them: what the
//! `callback-order` invariant judges.
//!
//! Under loom and shuttle only one actor runs between two scheduling points, which is asyncio's
//! single thread. Under the std backend actors really run in parallel, so every stretch of
//! code that touches transport state between two awaits, and every callback, runs inside
//! [`Loop::atomically`] (one std mutex, never held across a scheduling point): the std baseline
//! then keeps asyncio's atomicity too, and its verdicts stay comparable.
//!
//! Cancellation ([`Loop::cancel`]) is `Task.cancel()`: a flag the canceller sets while the target
//! has a cancellable operation under way; the target observes it at its next await and unwinds
//! with `CancelledError` ([`Cancelled`]), as asyncio delivers it.

use super::connect_pipe::{self, PipeTransport, PollChain};
use super::transport::SubprocessTransport;
use super::variant::Variant;
use crate::sync::{probe, yield_now, CallbackKind, Event, Plain};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// A callback in the loop's ready queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    /// A method of transport `.0`'s protocol: `connection_made` (Made), `pipe_data_received` /
    /// `data_received` (Data), `process_exited` / `pipe_connection_lost` / `eof_received`
    /// (Exited).
    Protocol(u32, CallbackKind),
    /// The transport's `_call_connection_lost`: the protocol's `connection_lost`.
    ConnectionLost(u32),
    /// A subprocess pipe `(transport, fd)` became readable (data or end of file).
    PipeReadable(u32, usize),
    /// The pipe transport of `(transport, fd)` runs its `_call_connection_lost`: the pipe's fd is
    /// closed and its `SubprocessPipeProto.connection_lost` runs.
    PipeClosed(u32, usize),
    /// The child watcher's callback: the transport's `_process_exited`.
    ProcessExited(u32),
    /// One attempt of the `connect_pipe` poll with this number that cancellation does not stop
    /// (7ffa2c5f's `call_later` chain, v3.4.2's worker thread).
    PollStep(u32),
}

/// A transport the loop knows, by number.
#[derive(Clone)]
pub enum Transport {
    /// A `BaseSubprocessTransport`.
    Subprocess(Arc<SubprocessTransport>),
    /// A `_ProactorDuplexPipeTransport` made by `create_pipe_connection`.
    Pipe(Arc<PipeTransport>),
}

impl Transport {
    /// `transport.close()`, called by a task.
    pub fn close(&self, lp: &Loop) {
        lp.atomically(|| match self {
            Transport::Subprocess(t) => t.close(lp),
            Transport::Pipe(t) => t.close(lp),
        });
    }

    /// Its number (shared by transports of both kinds; a pool connection has the same number).
    pub fn id(&self) -> u32 {
        match self {
            Transport::Subprocess(t) => t.id(),
            Transport::Pipe(t) => t.id(),
        }
    }

    /// Has its protocol seen the peer go away (`process_exited`, `eof_received` or
    /// `connection_lost`)? What a pool asks before reusing a connection.
    pub fn peer_gone(&self) -> bool {
        match self {
            Transport::Subprocess(t) => t.protocol().peer_gone(),
            Transport::Pipe(t) => t.protocol().peer_gone(),
        }
    }
}

/// What a protocol has been told so far (the application's view of its transport).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProtocolView {
    /// `connection_made` ran.
    pub made: bool,
    /// `process_exited`, `pipe_connection_lost` or `eof_received` ran.
    pub exited: bool,
    /// `connection_lost` ran.
    pub lost: bool,
}

impl ProtocolView {
    /// Run one callback: report it and remember it.
    pub fn run(&mut self, transport: u32, kind: CallbackKind) {
        probe(Event::Callback { transport, kind });
        match kind {
            CallbackKind::Made => self.made = true,
            CallbackKind::Data => {}
            CallbackKind::Exited => self.exited = true,
            CallbackKind::Lost => self.lost = true,
        }
    }

    /// The peer went away.
    pub fn peer_gone(&self) -> bool {
        self.exited || self.lost
    }
}

/// `CancelledError`, delivered at an await.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// Why a connection attempt (post-init, `connect_pipe`) ended without a transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// Its task was cancelled at an await.
    Cancelled,
    /// An await raised (`connect_read_pipe` failed: `BrokenPipeError`, `OSError`...).
    Failed,
}

impl From<Cancelled> for ConnectError {
    fn from(_: Cancelled) -> Self {
        ConnectError::Cancelled
    }
}

/// A cancellable operation under way (present in [`Loop`]'s map from its begin to its end).
#[derive(Clone, Copy, Debug, Default)]
struct CancelScope {
    /// `task.cancel()` was called during it.
    requested: bool,
    /// The code running now cannot see the cancellation (v3.4.2's `wait_for` inner task).
    unaware: bool,
}

/// The event loop, the transports it knows and the tasks' cancellation flags.
pub struct Loop {
    variant: Variant,
    gil: Plain<()>,
    ready: Plain<VecDeque<Ready>>,
    transports: Plain<Vec<Option<Transport>>>,
    polls: Plain<Vec<PollChain>>,
    cancels: Plain<BTreeMap<String, CancelScope>>,
}

/// Callbacks a drain may run before the model is declared runaway (a model bug, not a pool bug).
const DRAIN_LIMIT: usize = 10_000;

impl Loop {
    /// A loop with nothing scheduled.
    pub fn new(variant: Variant) -> Self {
        Loop {
            variant,
            gil: Plain::new(()),
            ready: Plain::new(VecDeque::new()),
            transports: Plain::new(Vec::new()),
            polls: Plain::new(Vec::new()),
            cancels: Plain::new(BTreeMap::new()),
        }
    }

    /// The variant under test.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Run `f` as one indivisible step of the single-threaded loop (see the module doc). `f`
    /// must not reach a scheduling point or call `atomically` again.
    pub fn atomically<R>(&self, f: impl FnOnce() -> R) -> R {
        self.gil.with(|()| f())
    }

    /// `loop.call_soon(callback)`.
    pub fn call_soon(&self, r: Ready) {
        self.ready.with(|q| q.push_back(r));
    }

    /// One `await` of the task run by actor `me`: a scheduling point; on resumption the loop runs
    /// what became ready, then a cancellation requested meanwhile is delivered.
    pub fn await_point(&self, me: &str, label: &'static str) -> Result<(), Cancelled> {
        yield_now(label);
        self.turn();
        if self.cancel_requested(me) {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// One `await` that cannot be cancelled (no cancellable operation is under way).
    pub fn await_plain(&self, label: &'static str) {
        yield_now(label);
        self.turn();
    }

    /// Run the callbacks ready now (those they schedule wait for the next turn).
    pub fn turn(&self) {
        let n = self.ready.with(|q| q.len());
        for _ in 0..n {
            if !self.run_next() {
                break;
            }
        }
    }

    /// Run callbacks until none is ready (the end of an execution: the loop keeps running).
    pub fn drain(&self) {
        for _ in 0..DRAIN_LIMIT {
            if !self.run_next() {
                return;
            }
        }
        panic!("the event loop did not go idle within {DRAIN_LIMIT} callbacks (model bug)");
    }

    /// Take the oldest ready callback and run it, as one step; false when none is ready.
    fn run_next(&self) -> bool {
        self.atomically(|| match self.ready.with(|q| q.pop_front()) {
            Some(r) => {
                self.run(r);
                true
            }
            None => false,
        })
    }

    fn run(&self, r: Ready) {
        match r {
            Ready::Protocol(t, kind) => self.with_transport(t, |x| match x {
                Transport::Subprocess(s) => s.run_protocol(kind),
                Transport::Pipe(p) => p.run_protocol(kind),
            }),
            Ready::ConnectionLost(t) => self.with_transport(t, |x| match x {
                Transport::Subprocess(s) => s.call_connection_lost(),
                Transport::Pipe(p) => p.call_connection_lost(),
            }),
            Ready::PipeReadable(t, fd) => self.with_transport(t, |x| match x {
                Transport::Subprocess(s) => s.pipe_readable(self, fd),
                Transport::Pipe(p) => p.readable(self),
            }),
            Ready::PipeClosed(t, fd) => self.with_subprocess(t, |s| s.pipe_closed(self, fd)),
            Ready::ProcessExited(t) => self.with_subprocess(t, |s| s.process_exited(self)),
            Ready::PollStep(id) => connect_pipe::poll_step(self, id),
        }
    }

    fn with_transport(&self, id: u32, f: impl FnOnce(&Transport)) {
        if let Some(t) = self.transport(id) {
            f(&t);
        }
    }

    fn with_subprocess(&self, id: u32, f: impl FnOnce(&SubprocessTransport)) {
        if let Some(Transport::Subprocess(s)) = self.transport(id) {
            f(&s);
        }
    }

    /// Number the transport a connection attempt starting now will create (1, 2, ... in the
    /// order attempts start, so that a pool connection and its transport share one number).
    pub fn reserve_transport_id(&self) -> u32 {
        self.transports.with(|v| {
            v.push(None);
            u32::try_from(v.len()).expect("few transports")
        })
    }

    /// Record the transport numbered `id` (from [`Loop::reserve_transport_id`]).
    pub fn register(&self, id: u32, t: Transport) {
        self.transports.with(|v| v[index(id)] = Some(t));
    }

    /// The transport numbered `id`, if it exists yet.
    pub fn transport(&self, id: u32) -> Option<Transport> {
        self.transports
            .with(|v| v.get(index(id)).cloned().flatten())
    }

    /// The `connect_pipe` polls.
    pub(crate) fn polls(&self) -> &Plain<Vec<PollChain>> {
        &self.polls
    }

    /// A cancellable operation of actor `me` starts.
    pub fn begin_cancellable(&self, me: &str) {
        self.cancels
            .with(|m| m.insert(me.to_owned(), CancelScope::default()));
    }

    /// Actor `me`'s cancellable operation ended (however it ended).
    pub fn end_cancellable(&self, me: &str) {
        self.cancels.with(|m| m.remove(me));
    }

    /// `task.cancel()` on `target`'s current operation; false when it has none now.
    pub fn cancel(&self, target: &str) -> bool {
        self.cancels.with(|m| match m.get_mut(target) {
            Some(s) => {
                s.requested = true;
                true
            }
            None => false,
        })
    }

    /// The cancellation of `me`'s operation was consumed without unwinding (a2118a14's
    /// `wait_for` returns the finished inner task's result instead of raising): its later awaits
    /// go on as if no cancellation had been requested, as the task's `_must_cancel` is spent.
    pub fn consume_cancel(&self, me: &str) {
        self.cancels.with(|m| {
            if let Some(s) = m.get_mut(me) {
                s.requested = false;
            }
        });
    }

    /// Has `me`'s current operation been cancelled (and can the code running now see it)?
    pub fn cancel_requested(&self, me: &str) -> bool {
        self.cancels
            .with(|m| m.get(me).is_some_and(|s| s.requested && !s.unaware))
    }

    /// Run `f`, part of `me`'s operation, as code a cancellation of that operation does not
    /// reach: v3.4.2's `wait_for` leaves its inner task running when it is cancelled. The
    /// cancellation is still recorded, and seen again once `f` returns.
    pub fn unaware_of_cancel<R>(&self, me: &str, f: impl FnOnce() -> R) -> R {
        self.set_unaware(me, true);
        let r = f();
        self.set_unaware(me, false);
        r
    }

    fn set_unaware(&self, me: &str, unaware: bool) {
        self.cancels.with(|m| {
            if let Some(s) = m.get_mut(me) {
                s.unaware = unaware;
            }
        });
    }
}

fn index(id: u32) -> usize {
    usize::try_from(id).map_or(usize::MAX, |i| i.wrapping_sub(1))
}

#[cfg(test)]
#[path = "event_loop_tests.rs"]
mod tests;
