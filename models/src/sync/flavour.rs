//! Lock flavours: the fairness and suspension points of the runtime a model reimplements.
//!
//! A facade [`super::Mutex`] or [`super::Semaphore`] takes the flavour the execution has when it
//! is created ([`use_flavour`]; each model sets its runtime's once, `TypedModel::LOCK_FLAVOUR`),
//! or one given explicitly ([`super::Mutex::with_flavour`]). Locks of an internal class (the
//! network, a channel, a semaphore's count) are modelling devices, not the runtime's locks, and
//! always take [`Flavour::Std`].
//!
//! What each flavour allows (the tests in `harness/tests/flavours.rs` check every "never" under
//! dpor exhaustively and produce every "can"):
//!
//! | | std, Go | asyncio | anyio |
//! | --- | --- | --- | --- |
//! | scheduling point of an uncontended acquire | before taking | none | after taking |
//! | a released lock goes to | the first taker | the first waiter, as it runs | the first waiter |
//! | a newcomer takes a lock with waiters queued | can (barging) | never | never |
//! | free between release and the waiter's run | can | can (`locked()` false) | never |
//! | scheduling point at release | never (`dpor`) | never | never |

use super::context::exec;

/// The lock and semaphore semantics of one runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// No fairness guarantee, what `std::sync::Mutex` (and loom's and shuttle's) promise: a
    /// scheduling point before every acquisition, and a released lock goes to whichever actor
    /// takes it first, a newcomer included. Built on the backend's own mutex (under `dpor` on
    /// the facade's `controlled` lock, which wakes every waiter at a release).
    #[default]
    Std,
    /// Go's `sync.Mutex` (`src/sync/mutex.go`, go1.22 `Lock`, `Unlock`, `lockSlow`): in normal
    /// mode a woken waiter competes with newcomers, which usually win (barging), so the
    /// semantics and implementation are [`Flavour::Std`]'s. **Abstracted:** starvation mode,
    /// entered when a waiter has waited more than 1 ms (`starvationThresholdNs`), hands the lock
    /// to the first waiter; it depends on wall-clock time, which poolcheck never reads. Every
    /// hand-off is one of the orders barging allows, so the model can only over-approximate
    /// (explore more orders than a starving mutex has), never miss one.
    Go,
    /// CPython `asyncio.Lock` and `asyncio.Semaphore` (`Lib/asyncio/locks.py`; at the 3.4-era
    /// revision 0052b70e, `Lock.acquire` lines 85-103 and `Lock.release` 105-124, and
    /// `Semaphore.acquire`/`release`; the same shape at 4fb22415 (3.13), `Lock.acquire`,
    /// `Lock.release`, `Lock._wake_up_first`): an uncontended `acquire()` returns without
    /// suspending (no scheduling point at all); a contended one appends a future to
    /// `_waiters` and awaits it. `release()` marks the lock free and sets the first waiter's
    /// future, but the waiter takes the lock only when it runs (`self._locked = True` after its
    /// `await fut`): until then `locked()` is false, yet a newcomer cannot barge, because the
    /// woken waiter's future is still in `_waiters` and `acquire()` only takes a lock with no
    /// live waiter. A newcomer therefore never overtakes a waiter: "asyncio barging" does not
    /// exist for `Lock` in any of these revisions. It did for `Semaphore` between
    /// python/asyncio#271 (2015: a `while self._value <= 0` loop that a newcomer passes while
    /// the woken waiter has not run) and python/cpython#93222 (gh-90155, 2022); no model
    /// follows those revisions.
    /// **Abstracted:** cancellation of a task waiting in `acquire()` (at 0052b70e a woken
    /// waiter cancelled before it runs loses the wake-up; later revisions pass it on with
    /// `_wake_up_first`): facade waits are not
    /// cancellable, models cancel at their own awaits.
    Asyncio,
    /// anyio's `Lock` and `Semaphore` on the asyncio backend (agronholm/anyio 660a06d5,
    /// `src/anyio/_backends/_asyncio.py`, `Lock.acquire` lines 1889-1923 and `release`
    /// 1939-1955, `Semaphore.acquire` 1987-2016 and `release` 2024-2036): an uncontended
    /// acquire takes the lock or permit and then checkpoints while holding it
    /// (`cancel_shielded_checkpoint`, unless `fast_acquire`), so other tasks run while it is
    /// held; a contended one queues in FIFO order; `release()` hands the lock or permit straight
    /// to the first waiter (`self._owner_task = task; fut.set_result(None)`), never suspends,
    /// and a newcomer never takes what was handed to a waiter. **Abstracted:** cancellation of
    /// a queued waiter (anyio drops cancelled futures at release, and a waiter cancelled after
    /// the hand-off releases again): facade waits are not cancellable.
    Anyio,
}

impl Flavour {
    /// Every flavour, in documentation order.
    pub const ALL: &'static [Flavour] =
        &[Flavour::Std, Flavour::Go, Flavour::Asyncio, Flavour::Anyio];

    /// Is the lock state kept by the facade in FIFO order (`fair.rs`), rather than by the
    /// backend's own mutex?
    pub(crate) fn is_fair(self) -> bool {
        matches!(self, Flavour::Asyncio | Flavour::Anyio)
    }

    /// Does `release()` hand the lock to the first waiter at once (anyio), rather than wake it
    /// to take the lock when it runs (asyncio)?
    pub(crate) fn hands_off_at_release(self) -> bool {
        self == Flavour::Anyio
    }

    /// Does an uncontended acquire checkpoint (a scheduling point) after taking the lock?
    pub(crate) fn checkpoints_after_taking(self) -> bool {
        self == Flavour::Anyio
    }

    /// The name used in documentation and test output.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Std => "std",
            Flavour::Go => "go",
            Flavour::Asyncio => "asyncio",
            Flavour::Anyio => "anyio",
        }
    }
}

/// Give locks and semaphores created from now on in this execution the flavour `flavour`.
pub fn use_flavour(flavour: Flavour) {
    exec().set_flavour(flavour);
}
