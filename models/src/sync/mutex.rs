//! A named, classed mutex over the execution's backend (std, loom or shuttle).

use super::backend::Backend;
use super::context::{exec, Exec};
use super::controlled::ControlledLock;
use super::fair::FairCore;
use super::flavour::Flavour;
use super::footprint::{Object, Pending};
use super::record::{ActorId, LockClass, LockId, LockInfo, RecordKind, WaitFor};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

enum Inner<T> {
    Std(std::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
    /// shuttle and `dpor`: the facade keeps the lock state (so it sees every block and every
    /// deadlock); the data's std mutex is never contended (one actor runs at a time).
    Controlled(ControlledLock, std::sync::Mutex<T>),
    /// A fair flavour (asyncio, anyio), any backend: the facade keeps the lock state and its
    /// FIFO queue; the data's std mutex is only ever locked by the lock's holder.
    Fair(FairCore, std::sync::Mutex<T>),
}

/// A mutual-exclusion lock with a name and a [`LockClass`], recorded in the ghost log, with the
/// fairness and suspension points of a runtime's locks (its [`Flavour`]).
///
/// Poisoning is dropped (as tokio's loom shim does): a violation unwinds through guards on
/// purpose, and the harness, not the model, decides what a panic means.
pub struct Mutex<T> {
    id: LockId,
    exec: Arc<Exec>,
    inner: Inner<T>,
}

pub(crate) enum GuardInner<'a, T> {
    Std(std::sync::MutexGuard<'a, T>),
    Loom(loom::sync::MutexGuard<'a, T>),
    Controlled(std::sync::MutexGuard<'a, T>),
}

/// Guard of a [`Mutex`]; releasing it is recorded.
pub struct MutexGuard<'a, T> {
    pub(crate) lock: &'a Mutex<T>,
    pub(crate) inner: Option<GuardInner<'a, T>>,
}

impl<T> Mutex<T> {
    /// A new lock named `name` (shown in traces) of class `class`, of the execution's flavour
    /// ([`super::use_flavour`]; an internal class is always [`Flavour::Std`]).
    pub fn new(name: impl Into<String>, class: LockClass, value: T) -> Self {
        let flavour = if class.internal {
            Flavour::Std
        } else {
            exec().flavour()
        };
        Self::with_flavour(name, class, flavour, value)
    }

    /// A new lock of flavour `flavour`, whatever the execution's.
    pub fn with_flavour(
        name: impl Into<String>,
        class: LockClass,
        flavour: Flavour,
        value: T,
    ) -> Self {
        let exec = exec();
        let name = name.into();
        let id = {
            let mut g = exec.lock_ghost();
            g.locks.push(LockInfo {
                name: name.clone(),
                class,
                holder: None,
            });
            g.locks.len() - 1
        };
        exec.touch(Object::Registry, true);
        exec.name_object(Object::Lock(id), || name);
        let inner = match exec.backend() {
            _ if flavour.is_fair() => Inner::Fair(
                FairCore::new(flavour, Object::Lock(id), 1),
                std::sync::Mutex::new(value),
            ),
            Backend::Std => Inner::Std(std::sync::Mutex::new(value)),
            Backend::Loom => Inner::Loom(loom::sync::Mutex::new(value)),
            Backend::Shuttle | Backend::Dpor => {
                Inner::Controlled(ControlledLock::default(), std::sync::Mutex::new(value))
            }
        };
        Mutex { id, exec, inner }
    }

    /// This lock's id in the ghost log.
    pub fn id(&self) -> LockId {
        self.id
    }

    /// Is the lock held? (asyncio's and anyio's `locked()`: under asyncio a lock released to a
    /// waiter that has not run yet is not held; under anyio it is, by the waiter.)
    pub fn locked(&self) -> bool {
        self.exec.touch(self.object(), false);
        self.exec.lock_ghost().locks[self.id].holder.is_some()
    }

    /// Acquire the lock (may block). Where the scheduling point is depends on the flavour:
    /// before taking ([`Flavour::Std`], [`Flavour::Go`]), after taking ([`Flavour::Anyio`]), or
    /// only if the lock is contended ([`Flavour::Asyncio`]).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.exec.check_aborted();
        let me = self.exec.actor_of_current();
        if let Inner::Fair(core, data) = &self.inner {
            self.lock_fair(core, me, true);
            return MutexGuard {
                lock: self,
                inner: Some(GuardInner::Controlled(uncontended(data))),
            };
        }
        self.exec.set_waiting(me, Some(WaitFor::Lock(self.id)));
        let inner = self.exec.blocking_section(|| self.raw_lock());
        self.exec.set_waiting(me, None);
        self.exec.record(me, RecordKind::Lock(self.id));
        MutexGuard {
            lock: self,
            inner: Some(inner),
        }
    }

    /// Acquire the lock if it is free now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.exec.check_aborted();
        let inner = match &self.inner {
            Inner::Std(m) => GuardInner::Std(match m.try_lock() {
                Ok(g) => g,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            }),
            Inner::Loom(m) => GuardInner::Loom(m.try_lock().ok()?),
            Inner::Controlled(lock, data) => {
                self.exec.scheduling_point();
                if !lock.try_acquire(&self.exec, self.object()) {
                    return None;
                }
                GuardInner::Controlled(uncontended(data))
            }
            Inner::Fair(core, data) => {
                if !core.try_take(&self.exec) {
                    return None;
                }
                GuardInner::Controlled(uncontended(data))
            }
        };
        let me = self.exec.actor_of_current();
        self.exec.record(me, RecordKind::Lock(self.id));
        Some(MutexGuard {
            lock: self,
            inner: Some(inner),
        })
    }

    /// Take a fair lock: at once if it is free and nobody waits (then anyio checkpoints while
    /// holding it), else in FIFO order. `record`: note the acquisition (a condition-variable
    /// re-lock records `Woke` instead). Under anyio the releaser notes a hand-off.
    fn lock_fair(&self, core: &FairCore, me: ActorId, record: bool) {
        if core.try_take(&self.exec) {
            if record {
                self.exec.record(me, RecordKind::Lock(self.id));
            }
            if core.flavour().checkpoints_after_taking() {
                self.exec.scheduling_point();
            }
            return;
        }
        self.exec.set_waiting(me, Some(WaitFor::Lock(self.id)));
        core.wait_turn(&self.exec, me);
        self.exec.set_waiting(me, None);
        if record && !core.flavour().hands_off_at_release() {
            self.exec.record(me, RecordKind::Lock(self.id));
        }
    }

    /// Re-take a fair lock after a condition-variable wait (the original's `await
    /// self.acquire()` in `Condition.wait`).
    pub(crate) fn relock_fair(&self) -> GuardInner<'_, T> {
        let Inner::Fair(core, data) = &self.inner else {
            unreachable!("only a fair lock re-locks through its queue");
        };
        self.lock_fair(core, self.exec.actor_of_current(), false);
        GuardInner::Controlled(uncontended(data))
    }

    /// Is this lock of a fair flavour (its waits kept by the facade under every backend)?
    pub(crate) fn is_fair(&self) -> bool {
        matches!(self.inner, Inner::Fair(..))
    }

    fn raw_lock(&self) -> GuardInner<'_, T> {
        match &self.inner {
            Inner::Std(m) => GuardInner::Std(self.std_lock(m)),
            Inner::Loom(m) => GuardInner::Loom(m.lock().unwrap_or_else(|p| p.into_inner())),
            Inner::Controlled(lock, data) => {
                let me = self.exec.actor_of_current();
                self.exec.set_pending(me, Some(Pending::Lock(self.id)));
                self.exec.scheduling_point();
                lock.acquire(&self.exec, me, self.object());
                GuardInner::Controlled(uncontended(data))
            }
            Inner::Fair(..) => unreachable!("a fair lock is taken by lock_fair"),
        }
    }

    /// Re-take the lock after a condition-variable wait (no scheduling point of its own: the
    /// wake-up was the decision).
    pub(crate) fn relock_controlled(&self) -> GuardInner<'_, T> {
        let Inner::Controlled(lock, data) = &self.inner else {
            unreachable!("only shuttle and dpor re-lock through the facade");
        };
        let me = self.exec.actor_of_current();
        self.exec.set_pending(me, Some(Pending::Lock(self.id)));
        lock.acquire(&self.exec, me, self.object());
        GuardInner::Controlled(uncontended(data))
    }

    /// Give a lock the facade keeps back (shuttle, `dpor`, or a fair flavour), waking its
    /// waiters; a fair lock handed to a waiter is recorded as that waiter's. Not a scheduling
    /// point.
    pub(crate) fn release_kept(&self) {
        if self.exec.halted() {
            return;
        }
        match &self.inner {
            Inner::Controlled(lock, _) => lock.release(&self.exec, self.object()),
            Inner::Fair(core, _) if !std::thread::panicking() => {
                if let Some(next) = core.give_back(&self.exec) {
                    self.exec.record(next, RecordKind::Lock(self.id));
                }
            }
            _ => {}
        }
    }

    fn object(&self) -> Object {
        Object::Lock(self.id)
    }

    /// std: poll so that a thread stuck behind a failed execution can be aborted.
    fn std_lock<'a>(&self, m: &'a std::sync::Mutex<T>) -> std::sync::MutexGuard<'a, T> {
        loop {
            match m.try_lock() {
                Ok(g) => return g,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    self.exec.check_aborted();
                    std::thread::yield_now();
                }
            }
        }
    }

    pub(crate) fn exec(&self) -> &Arc<Exec> {
        &self.exec
    }
}

/// The data of a lock the facade keeps, which this actor now holds: nobody else can hold its std
/// mutex. Another holder is a facade bug, which panics (`model-panic`) instead of blocking: under
/// shuttle every actor runs on one OS thread, which would wait for ever (issue 17:
/// `ControlledLock::acquire` replaced by nothing hung the mutation judge at 0% CPU).
fn uncontended<T>(data: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match data.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => {
            panic!("facade bug: a lock the facade keeps was given to a second holder")
        }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self.inner.as_ref().expect("guard in use") {
            GuardInner::Std(g) => g,
            GuardInner::Loom(g) => g,
            GuardInner::Controlled(g) => g,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.inner.as_mut().expect("guard in use") {
            GuardInner::Std(g) => &mut *g,
            GuardInner::Loom(g) => &mut *g,
            GuardInner::Controlled(g) => &mut *g,
        }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            // While unwinding the execution has already failed: release without recording, since
            // a second panic here would abort the process.
            if !std::thread::panicking() && !self.lock.exec().halted() {
                let exec = self.lock.exec();
                exec.record(exec.actor_of_current(), RecordKind::Unlock(self.lock.id));
            }
            self.inner = None;
            self.lock.release_kept();
        }
    }
}
