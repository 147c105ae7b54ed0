//! A one-slot lock that a waiter can abandon: Go's `reqHeaderMu chan struct{}` (capacity 1),
//! acquired by `select { case reqHeaderMu <- struct{}{}: ... case <-cancel: ... }`.

use super::condvar::Condvar;
use super::context::exec;
use super::footprint::Object;
use super::mutex::Mutex;
use super::record::{LockClass, LockId, LockInfo, RecordKind};
use std::collections::BTreeSet;

struct SlotState {
    taken: bool,
    abandoned: BTreeSet<u64>,
}

/// A lock that appears in held-lock sets like a [`super::Mutex`], but whose waiters can give up.
pub struct SlotLock {
    id: LockId,
    state: Mutex<SlotState>,
    changed: Condvar,
}

/// Holding the slot; dropping it releases the slot.
pub struct SlotGuard<'a> {
    slot: &'a SlotLock,
}

impl SlotLock {
    /// A new slot lock named `name` of class `class`.
    pub fn new(name: impl Into<String>, class: LockClass) -> Self {
        let name = name.into();
        let id = {
            let e = exec();
            e.touch(Object::Registry, true);
            let mut g = e.lock_ghost();
            g.locks.push(LockInfo {
                name: name.clone(),
                class,
                holder: None,
            });
            let id = g.locks.len() - 1;
            drop(g);
            e.name_object(Object::Lock(id), || name.clone());
            id
        };
        let state = Mutex::new(
            format!("{name}.chan"),
            LockClass::internal("chan"),
            SlotState {
                taken: false,
                abandoned: BTreeSet::new(),
            },
        );
        SlotLock {
            id,
            state,
            changed: Condvar::new(format!("{name}: slot freed or abandoned")),
        }
    }

    /// Take the slot, waiting as long as needed.
    pub fn acquire(&self) -> SlotGuard<'_> {
        self.acquire_unless(None)
            .expect("no ticket, cannot be abandoned")
    }

    /// Take the slot, or give up (returning `None`) once [`SlotLock::abandon`] is called with
    /// `ticket` (the request's cancellation).
    pub fn acquire_unless(&self, ticket: Option<u64>) -> Option<SlotGuard<'_>> {
        let mut s = self.state.lock();
        loop {
            if ticket.is_some_and(|t| s.abandoned.contains(&t)) {
                return None;
            }
            if !s.taken {
                s.taken = true;
                drop(s);
                let e = exec();
                e.record(e.actor_of_current(), RecordKind::Lock(self.id));
                return Some(SlotGuard { slot: self });
            }
            s = self.changed.wait(s);
        }
    }

    /// Make a waiter holding `ticket` give up (a cancelled request).
    pub fn abandon(&self, ticket: u64) {
        self.state.lock().abandoned.insert(ticket);
        self.changed.notify_all();
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let e = exec();
        if std::thread::panicking() || e.halted() {
            return;
        }
        e.record(e.actor_of_current(), RecordKind::Unlock(self.slot.id));
        self.slot.state.lock().taken = false;
        self.slot.changed.notify_all();
    }
}
