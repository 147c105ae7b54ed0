//! A counting semaphore built on the facade's Mutex + Condvar (none of the backends ships one).

use super::condvar::Condvar;
use super::context::exec;
use super::footprint::Object;
use super::mutex::Mutex;
use super::record::{BlockKind, LockClass, RecordKind, SemId, SemInfo, WaitFor};
use super::thread::blocking;

/// A counting semaphore whose counts are visible to monitors ([`super::Ghost::sems`]).
///
/// `acquire` declares [`BlockKind::PermitWait`] before it starts: waiting for a permit may block
/// indefinitely, so holding a lock that forbids it is a `lock-held-blocking` violation even in
/// schedules where a permit happens to be free.
pub struct Semaphore {
    id: SemId,
    name: String,
    permits: Mutex<i64>,
    freed: Condvar,
}

impl Semaphore {
    /// A semaphore named `name` with `permits` initial permits.
    pub fn new(name: impl Into<String>, permits: i64) -> Self {
        let name = name.into();
        let id = {
            let e = exec();
            e.touch(Object::Registry, true);
            let mut g = e.lock_ghost();
            g.sems.push(SemInfo {
                name: name.clone(),
                free: permits,
                held: 0,
                reserved: 0,
            });
            g.sems.len() - 1
        };
        let permits = Mutex::new(format!("{name}.count"), LockClass::internal("sem"), permits);
        let freed = Condvar::new(format!("{name}: permit released"));
        Semaphore {
            id,
            name,
            permits,
            freed,
        }
    }

    /// This semaphore's id in the ghost state.
    pub fn id(&self) -> SemId {
        self.id
    }

    /// Wait for a permit and take it.
    pub fn acquire(&self) {
        blocking(BlockKind::PermitWait, &self.name);
        let mut n = self.permits.lock();
        let e = exec();
        let me = e.actor_of_current();
        while *n <= 0 {
            e.set_waiting(me, Some(WaitFor::Permit(self.id)));
            n = self.freed.wait(n);
        }
        e.set_waiting(me, None);
        *n -= 1;
        e.record(me, RecordKind::Acquire(self.id));
    }

    /// Take a permit if one is free now.
    pub fn try_acquire(&self) -> bool {
        let mut n = self.permits.lock();
        if *n <= 0 {
            return false;
        }
        *n -= 1;
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Acquire(self.id));
        true
    }

    /// Give a permit back.
    pub fn release(&self) {
        let mut n = self.permits.lock();
        *n += 1;
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Release(self.id));
        drop(n);
        self.freed.notify_one();
    }

    /// [`Semaphore::acquire`] a permit that the structure keeps for itself (not a request's).
    pub fn acquire_reserved(&self) {
        self.acquire();
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Reserve(self.id, 1));
    }

    /// [`Semaphore::release`] a permit taken with [`Semaphore::acquire_reserved`].
    pub fn release_reserved(&self) {
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Reserve(self.id, -1));
        self.release();
    }

    /// [`Semaphore::try_acquire`] a permit that the structure keeps for itself.
    pub fn try_acquire_reserved(&self) -> bool {
        let taken = self.try_acquire();
        if taken {
            let e = exec();
            e.record(e.actor_of_current(), RecordKind::Reserve(self.id, 1));
        }
        taken
    }

    /// Keep a permit the current actor holds as the structure's own instead of releasing it
    /// (a connection retiring a stream slot after its peer lowered the limit). Not a scheduling
    /// point: the counts do not change, only who the permit belongs to.
    pub fn keep_reserved(&self) {
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Reserve(self.id, 1));
    }

    /// Permits free now (reads the real count, under its lock).
    pub fn available(&self) -> i64 {
        *self.permits.lock()
    }
}
