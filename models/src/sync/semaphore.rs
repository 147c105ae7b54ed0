//! A counting semaphore: of the std and Go flavours, built on the facade's Mutex + Condvar (none
//! of the backends ships one); of a fair flavour, the facade's FIFO state (`fair.rs`).

use super::condvar::Condvar;
use super::context::{exec, Exec};
use super::fair::FairCore;
use super::footprint::Object;
use super::mutex::Mutex;
use super::record::{BlockKind, LockClass, RecordKind, SemId, SemInfo, WaitFor};
use super::thread::{blocking, declare_blocking};
use std::sync::Arc;

/// A counting semaphore whose counts are visible to monitors ([`super::Ghost::sems`]).
///
/// `acquire` declares [`BlockKind::PermitWait`] before it starts: waiting for a permit may block
/// indefinitely, so holding a lock that forbids it is a `lock-held-blocking` violation even in
/// schedules where a permit happens to be free. Its [`super::Flavour`] is the execution's when
/// it is created ([`super::use_flavour`]).
pub struct Semaphore {
    id: SemId,
    name: String,
    inner: Inner,
}

enum Inner {
    /// [`super::Flavour::Std`], [`super::Flavour::Go`]: a count under an internal lock; a
    /// release wakes one waiter, and whoever takes the count's lock first gets the permit.
    Counted {
        permits: Box<Mutex<i64>>,
        freed: Condvar,
    },
    /// [`super::Flavour::Asyncio`], [`super::Flavour::Anyio`]: FIFO, kept by the facade.
    Fair(FairCore, Arc<Exec>),
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
        let e = exec();
        let flavour = e.flavour();
        let inner = if flavour.is_fair() {
            e.name_object(Object::Sem(id), || name.clone());
            Inner::Fair(FairCore::new(flavour, Object::Sem(id), permits), e)
        } else {
            Inner::Counted {
                permits: Box::new(Mutex::new(
                    format!("{name}.count"),
                    LockClass::internal("sem"),
                    permits,
                )),
                freed: Condvar::new(format!("{name}: permit released")),
            }
        };
        Semaphore { id, name, inner }
    }

    /// This semaphore's id in the ghost state.
    pub fn id(&self) -> SemId {
        self.id
    }

    /// Wait for a permit and take it.
    pub fn acquire(&self) {
        let (permits, freed) = match &self.inner {
            Inner::Fair(core, e) => return self.acquire_fair(core, e),
            Inner::Counted { permits, freed } => (permits, freed),
        };
        blocking(BlockKind::PermitWait, &self.name);
        let mut n = permits.lock();
        let e = exec();
        let me = e.actor_of_current();
        while *n <= 0 {
            e.set_waiting(me, Some(WaitFor::Permit(self.id)));
            n = freed.wait(n);
        }
        e.set_waiting(me, None);
        *n -= 1;
        e.record(me, RecordKind::Acquire(self.id));
    }

    /// A fair semaphore's acquire: declared as possibly blocking, without a scheduling point;
    /// a free permit with nobody queued is taken at once (then anyio checkpoints while holding
    /// it), else the actor queues; under anyio the releaser records the hand-off.
    fn acquire_fair(&self, core: &FairCore, e: &Exec) {
        declare_blocking(BlockKind::PermitWait, &self.name);
        let me = e.actor_of_current();
        if core.try_take(e) {
            e.record(me, RecordKind::Acquire(self.id));
            if core.flavour().checkpoints_after_taking() {
                e.scheduling_point();
            }
            return;
        }
        e.set_waiting(me, Some(WaitFor::Permit(self.id)));
        core.wait_turn(e, me);
        e.set_waiting(me, None);
        if !core.flavour().hands_off_at_release() {
            e.record(me, RecordKind::Acquire(self.id));
        }
    }

    /// Take a permit if one is free now (and, for a fair flavour, nobody is queued).
    pub fn try_acquire(&self) -> bool {
        let permits = match &self.inner {
            Inner::Fair(core, e) => {
                let taken = core.try_take(e);
                if taken {
                    e.record(e.actor_of_current(), RecordKind::Acquire(self.id));
                }
                return taken;
            }
            Inner::Counted { permits, .. } => permits,
        };
        let mut n = permits.lock();
        if *n <= 0 {
            return false;
        }
        *n -= 1;
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Acquire(self.id));
        true
    }

    /// Give a permit back (never a scheduling point for a fair flavour; anyio hands it to the
    /// first waiter, recorded as that waiter's acquisition).
    pub fn release(&self) {
        let (permits, freed) = match &self.inner {
            Inner::Fair(core, e) => {
                e.record(e.actor_of_current(), RecordKind::Release(self.id));
                if let Some(next) = core.give_back(e) {
                    e.record(next, RecordKind::Acquire(self.id));
                }
                return;
            }
            Inner::Counted { permits, freed } => (permits, freed),
        };
        let mut n = permits.lock();
        *n += 1;
        let e = exec();
        e.record(e.actor_of_current(), RecordKind::Release(self.id));
        drop(n);
        freed.notify_one();
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

    /// Permits free now (reads the real count, under its lock for the std and Go flavours).
    pub fn available(&self) -> i64 {
        match &self.inner {
            Inner::Fair(core, e) => core.available(e),
            Inner::Counted { permits, .. } => *permits.lock(),
        }
    }
}
