//! The state of a lock or semaphore of a fair flavour ([`Flavour::Asyncio`], [`Flavour::Anyio`]):
//! free units and a FIFO queue of waiters, kept by the facade under every backend.
//!
//! The state lives in std memory and is touched only by the running actor between scheduling
//! points, so taking, queueing and releasing add no scheduling point of the backend's; a waiter
//! blocks by parking ([`Exec::park`]) and is woken without a switch ([`Exec::wake`]). Under
//! `dpor` every operation writes the lock's or semaphore's object, so any two of them are
//! ordered; under loom each park and resumption touches the execution's token.

use super::context::Exec;
use super::controlled::Waiter;
use super::flavour::Flavour;
use super::footprint::Object;
use super::record::ActorId;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

/// A queued acquisition: who waits, and the flag its turn sets.
struct Ticket {
    waiter: Waiter,
    turn: Arc<AtomicBool>,
}

struct State {
    /// Units (a lock's one, a semaphore's permits) nobody holds or was handed.
    free: i64,
    /// Waiters in arrival order. An asyncio waiter whose turn came stays here until it runs (its
    /// future is still in `_waiters`), which is what keeps newcomers from barging.
    queue: VecDeque<Ticket>,
}

/// One fair lock or semaphore.
pub(crate) struct FairCore {
    flavour: Flavour,
    object: Object,
    state: StdMutex<State>,
}

impl FairCore {
    /// `units` free units, of flavour `flavour` (fair), touched as `object`.
    pub(crate) fn new(flavour: Flavour, object: Object, units: i64) -> Self {
        debug_assert!(flavour.is_fair());
        FairCore {
            flavour,
            object,
            state: StdMutex::new(State {
                free: units,
                queue: VecDeque::new(),
            }),
        }
    }

    pub(crate) fn flavour(&self) -> Flavour {
        self.flavour
    }

    fn state(&self) -> StdGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take a unit if one is free and nobody waits (asyncio's and anyio's uncontended path,
    /// anyio's `acquire_nowait`).
    pub(crate) fn try_take(&self, exec: &Exec) -> bool {
        exec.touch(self.object, true);
        let mut s = self.state();
        if s.free > 0 && s.queue.is_empty() {
            s.free -= 1;
            return true;
        }
        false
    }

    /// Queue behind the current waiters and park until it is `me`'s turn; on return `me` holds
    /// a unit (handed over by the releaser under anyio, taken now under asyncio).
    pub(crate) fn wait_turn(&self, exec: &Exec, me: ActorId) {
        exec.touch(self.object, true);
        let turn = Arc::new(AtomicBool::new(false));
        self.state().queue.push_back(Ticket {
            waiter: Waiter::current(exec.backend(), me),
            turn: turn.clone(),
        });
        exec.park_until(me, || turn.load(Ordering::SeqCst));
        exec.touch(self.object, true);
        if !self.flavour.hands_off_at_release() {
            let mut s = self.state();
            s.queue.retain(|t| !Arc::ptr_eq(&t.turn, &turn));
            s.free -= 1;
            debug_assert!(s.free >= 0, "a woken asyncio waiter always finds its unit");
        }
    }

    /// Give a unit back. anyio hands it to the first waiter, whose actor is returned (the
    /// caller records that actor's acquisition); asyncio frees it and wakes the first waiter
    /// whose turn has not come yet, which takes it when it runs.
    pub(crate) fn give_back(&self, exec: &Exec) -> Option<ActorId> {
        exec.touch(self.object, true);
        let mut s = self.state();
        if self.flavour.hands_off_at_release() {
            let Some(next) = s.queue.pop_front() else {
                s.free += 1;
                return None;
            };
            drop(s);
            next.turn.store(true, Ordering::SeqCst);
            let actor = next.waiter.actor();
            exec.wake(next.waiter);
            return Some(actor);
        }
        s.free += 1;
        let next = s.queue.iter().find(|t| !t.turn.load(Ordering::SeqCst));
        if let Some(t) = next {
            t.turn.store(true, Ordering::SeqCst);
            let waiter = t.waiter.clone();
            drop(s);
            exec.wake(waiter);
        }
        None
    }

    /// Free units now (reads the state).
    pub(crate) fn available(&self, exec: &Exec) -> i64 {
        exec.touch(self.object, false);
        self.state().free
    }
}

#[cfg(test)]
#[path = "fair_tests.rs"]
mod tests;
