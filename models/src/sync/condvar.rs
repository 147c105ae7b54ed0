//! A condition variable over the execution's backend.

use super::backend::Backend;
use super::context::{exec, Exec};
use super::controlled::ControlledCond;
use super::footprint::Object;
use super::mutex::{GuardInner, MutexGuard};
use super::record::{RecordKind, WaitFor};
use std::sync::Arc;
use std::time::Duration;

/// The backend's own condition variable (none under shuttle and `dpor`, whose waits the facade
/// keeps).
enum Native {
    Std(std::sync::Condvar),
    Loom(loom::sync::Condvar),
}

/// A condition variable; waits and notifications are recorded with the model's description.
///
/// loom has no `wait_while`, and neither loom nor shuttle ever times a wait out: models loop
/// on their condition and express time with the logical clock.
///
/// A wait with a lock the backend owns uses the backend's condition variable; a wait the facade
/// keeps (every wait under shuttle and `dpor`, and a wait with a lock of a fair flavour under any
/// backend)
/// queues in `kept`, woken in the order the waits began (asyncio's and anyio's `Condition`).
pub struct Condvar {
    name: String,
    exec: Arc<Exec>,
    native: Option<Native>,
    kept: ControlledCond,
    object: usize,
}

impl Condvar {
    /// A new condition variable; `name` says what it signals (`cc.cond: stream slot freed`).
    pub fn new(name: impl Into<String>) -> Self {
        let exec = exec();
        let name = name.into();
        let native = match exec.backend() {
            Backend::Std => Some(Native::Std(std::sync::Condvar::new())),
            Backend::Loom => Some(Native::Loom(loom::sync::Condvar::new())),
            Backend::Shuttle | Backend::Dpor => None,
        };
        let object = exec.new_object();
        exec.name_object(Object::Cond(object), || name.clone());
        Condvar {
            name,
            exec,
            native,
            kept: ControlledCond::default(),
            object,
        }
    }

    /// Release the guard's lock, wait for a notification, re-acquire (a scheduling point).
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let lock = guard.lock;
        let me = self.exec.actor_of_current();
        self.exec
            .record(me, RecordKind::Wait(lock.id(), self.name.clone()));
        self.exec
            .set_waiting(me, Some(WaitFor::Condition(self.name.clone())));
        let raw = guard.inner.take().expect("guard in use");
        drop(guard);
        let raw = match &self.native {
            Some(native) if !lock.is_fair() => {
                self.fail_if_nobody_can_notify(me);
                self.exec.blocking_section(|| self.raw_wait(native, raw))
            }
            _ => self.kept_wait(lock, raw, me),
        };
        self.exec.set_waiting(me, None);
        self.exec.record(me, RecordKind::Woke(lock.id()));
        MutexGuard {
            lock,
            inner: Some(raw),
        }
    }

    /// A wait the facade keeps: queue, release the lock (waking or handing it to its waiters),
    /// park until notified, re-lock (a std or Go lock: the re-lock is a pending step; a fair lock: its
    /// acquire, as the original's `Condition.wait` ends with `await self.acquire()`).
    fn kept_wait<'a, T>(
        &self,
        lock: &'a super::Mutex<T>,
        raw: GuardInner<'a, T>,
        me: super::ActorId,
    ) -> GuardInner<'a, T> {
        self.exec.touch(Object::Cond(self.object), true);
        let notified = self.kept.enqueue(&self.exec, me);
        drop(raw);
        lock.release_kept();
        if !lock.is_fair() {
            // Once notified, the re-lock is what this actor waits to attempt.
            self.exec
                .set_pending(me, Some(super::footprint::Pending::Lock(lock.id())));
        }
        ControlledCond::park_until_notified(&self.exec, me, &notified);
        self.exec.touch(Object::Cond(self.object), true);
        if lock.is_fair() {
            lock.relock_fair()
        } else {
            lock.relock_controlled()
        }
    }

    fn raw_wait<'a, T>(&self, native: &Native, raw: GuardInner<'a, T>) -> GuardInner<'a, T> {
        match (native, raw) {
            (Native::Std(c), GuardInner::Std(g)) => GuardInner::Std(self.std_wait(c, g)),
            (Native::Loom(c), GuardInner::Loom(g)) => {
                GuardInner::Loom(c.wait(g).unwrap_or_else(|p| p.into_inner()))
            }
            _ => unreachable!("a condvar and a mutex of different backends in one execution"),
        }
    }

    /// std: a wait that no other actor can end (every other one has finished, is parked by the
    /// facade or joins) is a deadlock, reported at once as under shuttle, where the facade
    /// keeps the same wait. The std wait itself wakes every few milliseconds (for the abort), so
    /// without this the waiter would spin through waits until the step bound (issue 17: a
    /// semaphore that waited with permits free took seconds per unit test to fail). loom
    /// detects its deadlocks itself.
    fn fail_if_nobody_can_notify(&self, me: super::ActorId) {
        if self.exec.backend() == Backend::Std {
            self.exec.fail_if_deadlocked(me);
        }
    }

    /// std: wake periodically so that a thread stuck in a failed execution can be aborted.
    fn std_wait<'a, T>(
        &self,
        c: &std::sync::Condvar,
        g: std::sync::MutexGuard<'a, T>,
    ) -> std::sync::MutexGuard<'a, T> {
        let (g, _) = c
            .wait_timeout(g, Duration::from_millis(5))
            .unwrap_or_else(|p| p.into_inner());
        if self.exec.is_aborted() {
            drop(g);
            self.exec.check_aborted();
            unreachable!("check_aborted unwinds");
        }
        g
    }

    /// Wake one waiter.
    pub fn notify_one(&self) {
        self.note_notify();
        match &self.native {
            Some(Native::Std(c)) => c.notify_one(),
            Some(Native::Loom(c)) => c.notify_one(),
            None => {}
        }
        self.kept_notify(false);
    }

    /// Wake every waiter.
    pub fn notify_all(&self) {
        self.note_notify();
        match &self.native {
            Some(Native::Std(c)) => c.notify_all(),
            Some(Native::Loom(c)) => c.notify_all(),
            None => {}
        }
        self.kept_notify(true);
    }

    /// Wake the waits the facade keeps (not a scheduling point). A notification nobody waits for
    /// changes nothing: it only reads the queue (so two of them commute, and each still
    /// conflicts with a wait that would have caught it).
    fn kept_notify(&self, all: bool) {
        self.exec
            .touch(Object::Cond(self.object), self.kept.has_waiters());
        self.kept.notify(&self.exec, all);
    }

    fn note_notify(&self) {
        let me = self.exec.actor_of_current();
        self.exec.record(me, RecordKind::Notify(self.name.clone()));
    }
}
