//! A condition variable over the execution's backend.

use super::backend::Backend;
use super::context::{exec, Exec};
use super::controlled::ControlledCond;
use super::footprint::Object;
use super::mutex::{GuardInner, MutexGuard};
use super::record::{RecordKind, WaitFor};
use std::sync::Arc;
use std::time::Duration;

enum Inner {
    Std(std::sync::Condvar),
    Loom(loom::sync::Condvar),
    /// shuttle and `dpor`: waiters kept by the facade, numbered as an object.
    Controlled(ControlledCond, usize),
}

/// A condition variable; waits and notifications are recorded with the model's description.
///
/// loom has no `wait_while`, and neither loom nor shuttle ever times a wait out: models loop
/// on their condition and express time with the logical clock.
pub struct Condvar {
    name: String,
    exec: Arc<Exec>,
    inner: Inner,
}

impl Condvar {
    /// A new condition variable; `name` says what it signals (`cc.cond: stream slot freed`).
    pub fn new(name: impl Into<String>) -> Self {
        let exec = exec();
        let name = name.into();
        let inner = match exec.backend() {
            Backend::Std => Inner::Std(std::sync::Condvar::new()),
            Backend::Loom => Inner::Loom(loom::sync::Condvar::new()),
            Backend::Shuttle | Backend::Dpor => {
                let id = exec.new_object();
                exec.name_object(Object::Cond(id), || name.clone());
                Inner::Controlled(ControlledCond::default(), id)
            }
        };
        Condvar { name, exec, inner }
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
        let raw = match &self.inner {
            Inner::Controlled(cond, id) => self.controlled_wait(cond, *id, lock, raw, me),
            _ => self.exec.blocking_section(|| self.raw_wait(raw)),
        };
        self.exec.set_waiting(me, None);
        self.exec.record(me, RecordKind::Woke(lock.id()));
        MutexGuard {
            lock,
            inner: Some(raw),
        }
    }

    /// shuttle, `dpor`: queue, release the lock (waking its waiters), park until notified, re-lock.
    fn controlled_wait<'a, T>(
        &self,
        cond: &ControlledCond,
        id: usize,
        lock: &'a super::Mutex<T>,
        raw: GuardInner<'a, T>,
        me: super::ActorId,
    ) -> GuardInner<'a, T> {
        self.exec.touch(Object::Cond(id), true);
        let notified = cond.enqueue(me);
        drop(raw);
        lock.release_controlled();
        // Once notified, the re-lock is what this actor waits to attempt.
        self.exec
            .set_pending(me, Some(super::footprint::Pending::Lock(lock.id())));
        ControlledCond::park_until_notified(&self.exec, me, &notified);
        self.exec.touch(Object::Cond(id), true);
        lock.relock_controlled()
    }

    fn raw_wait<'a, T>(&self, raw: GuardInner<'a, T>) -> GuardInner<'a, T> {
        match (&self.inner, raw) {
            (Inner::Std(c), GuardInner::Std(g)) => GuardInner::Std(self.std_wait(c, g)),
            (Inner::Loom(c), GuardInner::Loom(g)) => {
                GuardInner::Loom(c.wait(g).unwrap_or_else(|p| p.into_inner()))
            }
            _ => unreachable!("a condvar and a mutex of different backends in one execution"),
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
        match &self.inner {
            Inner::Std(c) => c.notify_one(),
            Inner::Loom(c) => c.notify_one(),
            Inner::Controlled(c, id) => self.controlled_notify(c, *id, false),
        }
    }

    /// Wake every waiter.
    pub fn notify_all(&self) {
        self.note_notify();
        match &self.inner {
            Inner::Std(c) => c.notify_all(),
            Inner::Loom(c) => c.notify_all(),
            Inner::Controlled(c, id) => self.controlled_notify(c, *id, true),
        }
    }

    /// A notification nobody waits for changes nothing: it only reads the queue (so two of them
    /// commute, and each still conflicts with a wait that would have caught it).
    fn controlled_notify(&self, cond: &ControlledCond, id: usize, all: bool) {
        self.exec.touch(Object::Cond(id), cond.has_waiters());
        cond.notify(&self.exec, all);
    }

    fn note_notify(&self) {
        let me = self.exec.actor_of_current();
        self.exec.record(me, RecordKind::Notify(self.name.clone()));
    }
}
