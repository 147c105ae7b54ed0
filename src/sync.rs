//! Synchronisation primitives that mirror `std::sync`, backed by poolcheck's facade.
//!
//! A pool switches to these with one `use` line, the way tokio's `src/loom` does:
//!
//! ```ignore
//! #[cfg(poolcheck)]
//! use poolcheck::sync::{Arc, Condvar, Mutex};
//! #[cfg(not(poolcheck))]
//! use std::sync::{Arc, Condvar, Mutex};
//! ```
//!
//! Every type is a thin shell over the facade type of the same name in
//! `poolcheck_models::sync`, which picks loom, shuttle, dpor's controlled primitives or std at
//! run time and records each operation in the execution's ghost log. Locks and condition
//! variables are named after the line that created them (`pool.rs:42`) unless named explicitly;
//! the name is what traces show.
//!
//! Poisoning never happens: `lock` and `wait` always return `Ok` (a panic stops the whole
//! execution and is reported), so `.unwrap()` written for std keeps working.

use crate::naming::caller_name;
use poolcheck_models::sync as facade;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

pub use facade::{BlockKind, LockClass};
pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};

/// The class of a lock made with [`Mutex::new`] or [`Mutex::named`]: it forbids nothing, like a
/// std mutex. Give a lock a class that forbids blocking ([`Mutex::with_class`]) to have the
/// `lock-held-blocking` invariant judge what runs under it.
pub const PLAIN: LockClass = LockClass::blocking_ok("mutex");

/// A mutual-exclusion lock with the API of [`std::sync::Mutex`].
pub struct Mutex<T> {
    inner: facade::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex, named after the line that calls this.
    #[track_caller]
    pub fn new(value: T) -> Self {
        Self::named(caller_name(Location::caller()), value)
    }

    /// A new unlocked mutex named `name` in traces.
    pub fn named(name: impl Into<String>, value: T) -> Self {
        Self::with_class(name, PLAIN, value)
    }

    /// A new unlocked mutex named `name`, of class `class` (what may not block under it).
    pub fn with_class(name: impl Into<String>, class: LockClass, value: T) -> Self {
        Mutex {
            inner: facade::Mutex::new(name, class, value),
        }
    }

    /// Acquire the lock, blocking until it is free (a scheduling point). Never poisoned.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        Ok(MutexGuard {
            inner: self.inner.lock(),
        })
    }

    /// Acquire the lock if it is free now.
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        match self.inner.try_lock() {
            Some(inner) => Ok(MutexGuard { inner }),
            None => Err(TryLockError::WouldBlock),
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// The guard of a [`Mutex`]: the lock is released (and the release recorded) when it drops.
pub struct MutexGuard<'a, T> {
    inner: facade::MutexGuard<'a, T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

/// A condition variable with the API of [`std::sync::Condvar`], without timeouts (no scheduler
/// behind the facade times a wait out; see the crate's `# Limitations`).
pub struct Condvar {
    inner: facade::Condvar,
}

impl Condvar {
    /// A new condition variable, named after the line that calls this.
    #[track_caller]
    pub fn new() -> Self {
        Self::named(caller_name(Location::caller()))
    }

    /// A new condition variable; `name` says what it signals (shown where an actor waits).
    pub fn named(name: impl Into<String>) -> Self {
        Condvar {
            inner: facade::Condvar::new(name),
        }
    }

    /// Release the guard's lock, wait for a notification, re-acquire (a scheduling point).
    /// Like std's, it may wake without a notification only if the scheduler says so: loop on
    /// the condition, or use [`Condvar::wait_while`].
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        Ok(MutexGuard {
            inner: self.inner.wait(guard.inner),
        })
    }

    /// Wait while `condition` holds for the guarded value.
    pub fn wait_while<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockResult<MutexGuard<'a, T>> {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Wake one waiter.
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wake every waiter.
    pub fn notify_all(&self) {
        self.inner.notify_all();
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}
