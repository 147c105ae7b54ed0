//! A named, classed mutex over the execution's backend (std, loom or shuttle).

use super::backend::Backend;
use super::context::{exec, Exec};
use super::controlled::ControlledLock;
use super::footprint::{Object, Pending};
use super::record::{LockClass, LockId, LockInfo, RecordKind, WaitFor};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

enum Inner<T> {
    Std(std::sync::Mutex<T>),
    Loom(loom::sync::Mutex<T>),
    /// shuttle and `dpor`: the facade keeps the lock state (so it sees every block and every
    /// deadlock); the data's std mutex is never contended (one actor runs at a time).
    Controlled(ControlledLock, std::sync::Mutex<T>),
}

/// A mutual-exclusion lock with a name and a [`LockClass`], recorded in the ghost log.
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
    /// A new lock named `name` (shown in traces) of class `class`.
    pub fn new(name: impl Into<String>, class: LockClass, value: T) -> Self {
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

    /// Acquire the lock (a scheduling point; may block).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.exec.check_aborted();
        let me = self.exec.actor_of_current();
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
        };
        let me = self.exec.actor_of_current();
        self.exec.record(me, RecordKind::Lock(self.id));
        Some(MutexGuard {
            lock: self,
            inner: Some(inner),
        })
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

    /// Give the lock back (shuttle, `dpor`), waking its waiters.
    pub(crate) fn release_controlled(&self) {
        if self.exec.halted() {
            return;
        }
        if let Inner::Controlled(lock, _) = &self.inner {
            lock.release(&self.exec, self.object());
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

/// The data of a controlled lock that this actor now holds: nobody else can hold its std mutex.
fn uncontended<T>(data: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    data.lock().unwrap_or_else(|p| p.into_inner())
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
            self.lock.release_controlled();
        }
    }
}
