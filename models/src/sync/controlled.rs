//! Blocking that the facade implements itself, for the shuttle and `dpor` backends.
//!
//! Under loom a facade lock is loom's lock, and only loom knows whether an actor blocks. Under
//! shuttle (random, PCT, DFS, replay) and `dpor` the actors run on shuttle's execution engine,
//! but lock and condition-variable state is kept here, and the facade parks and unparks shuttle
//! tasks itself. The facade then knows exactly when an actor blocks, whom a release wakes, and
//! when every live actor is blocked: a deadlock, reported as `request-answered` naming who waits
//! for what ([`super::deadlock`]) before shuttle's own detector would print its message and
//! panic. A release or a notification is never a scheduling point (asyncio's and anyio's
//! `release()` never suspend; a Go `Unlock` hands off without a scheduling decision of its own),
//! so every shuttle scheduler and `dpor` explore the same steps.
//!
//! These locks are the std and Go flavours' ([`super::Flavour`]) and unfair: a released lock
//! wakes every waiter and whoever runs first takes it (the barging of Go's `sync.Mutex` and of
//! shuttle's own mutex). Condition variables wake waiters in the order they started waiting;
//! their queue also serves the waits on a lock of a fair flavour under every backend, and
//! [`Waiter`] parks and unparks threads of every backend (`fair.rs` uses it too).

use super::backend::Backend;
use super::context::Exec;
use super::footprint::Object;
use super::record::ActorId;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

/// A parked actor and the thread to unpark, under any backend (shuttle's and `dpor`'s own
/// blocking, and the fair flavours' queues under every backend).
#[derive(Clone)]
pub(crate) struct Waiter {
    actor: ActorId,
    thread: Parker,
}

#[derive(Clone)]
enum Parker {
    Std(std::thread::Thread),
    Loom(loom::thread::Thread),
    Shuttle(shuttle::thread::Thread),
}

impl Waiter {
    /// The actor running on this thread, to be unparked later.
    pub(crate) fn current(backend: Backend, actor: ActorId) -> Self {
        let thread = match backend {
            Backend::Std => Parker::Std(std::thread::current()),
            Backend::Loom => Parker::Loom(loom::thread::current()),
            Backend::Shuttle | Backend::Dpor => Parker::Shuttle(shuttle::thread::current()),
        };
        Waiter { actor, thread }
    }

    pub(crate) fn actor(&self) -> ActorId {
        self.actor
    }

    pub(crate) fn unpark(&self) {
        match &self.thread {
            Parker::Std(t) => t.unpark(),
            Parker::Loom(t) => t.unpark(),
            Parker::Shuttle(t) => t.unpark(),
        }
    }
}

fn locked<T>(m: &StdMutex<T>) -> StdGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct LockState {
    held: bool,
    waiters: Vec<Waiter>,
}

/// The state of one facade lock under shuttle and `dpor`.
#[derive(Default)]
pub(crate) struct ControlledLock(StdMutex<LockState>);

impl ControlledLock {
    /// Take the lock, parking until it is free (a wait of [`Exec::park_until`]'s, bounded).
    pub(crate) fn acquire(&self, exec: &Exec, me: ActorId, object: Object) {
        exec.park_until(me, || self.take_or_queue(exec, me, object));
    }

    /// One attempt: take the lock if it is free, else queue `me` for its release to wake. Every
    /// attempt writes the lock: whether it succeeds depends on the order of this step and the
    /// holder's release.
    fn take_or_queue(&self, exec: &Exec, me: ActorId, object: Object) -> bool {
        exec.touch(object, true);
        let mut s = locked(&self.0);
        if s.held {
            s.waiters.push(Waiter::current(Backend::Dpor, me));
            return false;
        }
        s.held = true;
        exec.lock_taken(me, object, true);
        true
    }

    /// Take the lock if it is free now.
    pub(crate) fn try_acquire(&self, exec: &Exec, object: Object) -> bool {
        exec.touch(object, true);
        let mut s = locked(&self.0);
        if s.held {
            return false;
        }
        s.held = true;
        drop(s);
        exec.lock_taken(exec.actor_of_current(), object, true);
        true
    }

    /// Release the lock and wake every waiter, without a scheduling point ([`Exec::wake`]).
    /// While unwinding nothing is woken: the execution has failed and shuttle tears it down.
    pub(crate) fn release(&self, exec: &Exec, object: Object) {
        exec.touch(object, true);
        let waiters = {
            let mut s = locked(&self.0);
            s.held = false;
            std::mem::take(&mut s.waiters)
        };
        exec.lock_taken(exec.actor_of_current(), object, false);
        waiters.into_iter().for_each(|w| exec.wake(w));
    }
}

/// The waiters of one condition variable whose waits the facade keeps: every wait under shuttle
/// and `dpor`, and under any backend a wait with a lock of a fair flavour.
#[derive(Default)]
pub(crate) struct ControlledCond(StdMutex<VecDeque<(Waiter, Arc<AtomicBool>)>>);

impl ControlledCond {
    /// Start waiting: returns the flag a notification sets. Called before the lock is released,
    /// so a notification between release and park is not lost.
    pub(crate) fn enqueue(&self, exec: &Exec, me: ActorId) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = Waiter::current(exec.backend(), me);
        locked(&self.0).push_back((waiter, flag.clone()));
        flag
    }

    /// Park until `flag` is set by a notification.
    pub(crate) fn park_until_notified(exec: &Exec, me: ActorId, flag: &AtomicBool) {
        exec.park_until(me, || flag.load(Ordering::SeqCst));
    }

    /// Does anyone wait?
    pub(crate) fn has_waiters(&self) -> bool {
        !locked(&self.0).is_empty()
    }

    /// Wake the longest waiter (`all`: every waiter).
    pub(crate) fn notify(&self, exec: &Exec, all: bool) {
        let woken: Vec<_> = {
            let mut q = locked(&self.0);
            let n = if all { q.len() } else { q.len().min(1) };
            q.drain(..n).collect()
        };
        for (waiter, flag) in woken {
            flag.store(true, Ordering::SeqCst);
            exec.wake(waiter);
        }
    }
}
