//! Step footprints: which facade objects one step of an actor touched, and how.
//!
//! A *step* is what an actor runs from one facade scheduling point to the next. Under the `dpor`
//! backend every facade operation reports the objects it touches to the execution's [`StepLog`];
//! the scheduler takes the footprint of the step that just ended at every decision. Two steps are
//! *dependent* exactly when they touch a common object and at least one of them writes it.
//!
//! What counts as an access, and why:
//! - a lock acquisition, a failed attempt (it queues the actor) and a release write the lock;
//!   a fair semaphore's acquire, queueing, resumption and release write the semaphore;
//!   a condition-variable wait and a notification write the condition variable, except a
//!   notification nobody waits for, which only reads it;
//! - [`super::Plain::with`] writes its cell, [`super::Plain::get`] reads it;
//! - the logical clock: [`super::now`] reads it, [`super::advance_clock`] writes it;
//! - creating any object, or spawning an actor, writes the *registry*: identifiers are dense
//!   indices in creation order, so two creations do not commute (their ids would swap);
//! - spawning and finishing write the actor, its start and joining it read it (every step that
//!   enables another is a dependence of it: dpor does not reverse a race its later actor could
//!   not have started);
//! - **every record a monitor may judge** (a probe, a permit acquired, released or reserved, a
//!   clock change) writes the *ghost* objects the observer names for it
//!   ([`super::Observer::ghost_objects`]; by default one object shared by all such records).
//!   Monitors compare pieces of ghost state with each other (a connection's phase against the
//!   requests on it, permits against streams), so two records a stateful monitor reads must never
//!   be treated as commuting: an order the reduction skipped could be the only one whose
//!   intermediate state breaks an invariant. The harness names one object per stateful monitor
//!   that reads the record, plus the key of the world view the record changes (so the final
//!   state does not depend on the order). Records monitors read only for the acting actor's own
//!   state (`blocking` against the locks it holds) are not ghost accesses.
//!
//! Everything an actor does between two scheduling points and that is not listed here is private
//! to it (its locals, the data behind a lock it holds). That is the contract models keep by
//! touching shared state only through the facade.

use super::record::{ActorId, LockId, RecordKind, SemId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// A facade object, by identity within one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    /// A lock ([`super::Mutex`] or [`super::SlotLock`]).
    Lock(LockId),
    /// A semaphore of a fair flavour (its count and queue).
    Sem(SemId),
    /// A condition variable, numbered with the other unlocked objects.
    Cond(usize),
    /// A [`super::Plain`] cell.
    Plain(usize),
    /// The logical clock.
    Clock,
    /// A piece of ghost state monitors judge, numbered by the observer
    /// ([`super::Observer::ghost_objects`]; by default one object for all of it).
    Ghost(u64),
    /// Object and actor identifiers (creation order).
    Registry,
    /// An actor's life (finished or not).
    Actor(ActorId),
}

/// One access of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    /// What was touched.
    pub object: Object,
    /// Whether it was written (or only read).
    pub write: bool,
}

/// The accesses of one step, sorted by object, one entry per object (a write wins over a read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint(Vec<Access>);

impl Footprint {
    /// A footprint from any list of accesses.
    pub fn new(mut accesses: Vec<Access>) -> Self {
        accesses.sort_by(|a, b| a.object.cmp(&b.object).then(b.write.cmp(&a.write)));
        accesses.dedup_by(|later, kept| later.object == kept.object);
        Footprint(accesses)
    }

    /// The accesses, sorted by object.
    pub fn accesses(&self) -> &[Access] {
        &self.0
    }

    /// Do the two steps touch a common object, at least one of them writing it?
    pub fn conflicts(&self, other: &Footprint) -> bool {
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.object.cmp(&y.object) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal if x.write || y.write => return true,
                std::cmp::Ordering::Equal => {
                    a.next();
                    b.next();
                }
            }
        }
        false
    }

    /// The objects both steps touch, at least one of them writing (empty: they commute).
    pub fn conflicting_objects(&self, other: &Footprint) -> Vec<Object> {
        self.0
            .iter()
            .filter_map(|x| {
                let y = other.0.iter().find(|y| y.object == x.object)?;
                (x.write || y.write).then_some(x.object)
            })
            .collect()
    }

    /// Touches nothing shared.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the facade tells a footprint-driven scheduler about the step in progress.
///
/// Shared by the facade (which appends) and the scheduler (which takes a step's footprint at each
/// decision). loom and shuttle run every actor on the scheduler's OS thread, so the mutex is never
/// contended; it only makes the log `Sync`.
#[derive(Debug, Default)]
pub struct StepLog(Mutex<StepState>);

#[derive(Debug, Default)]
struct StepState {
    announced: bool,
    accesses: Vec<Access>,
    failed: bool,
    halted: bool,
    /// The blocking operation each actor will attempt when it next runs.
    pending: BTreeMap<ActorId, Pending>,
    held: BTreeSet<LockId>,
    finished: BTreeSet<ActorId>,
    /// What each object of this execution is called, for diagnostics ([`StepLog::name_of`]).
    names: BTreeMap<Object, String>,
}

/// A blocking operation an actor waits at a scheduling point to attempt. The scheduler runs the
/// actor only once the operation can complete, so a step never consists of a failed attempt
/// (blocking is a property of the state, not an event: the semantics loom and Nidhugg use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Acquiring this lock.
    Lock(LockId),
    /// Joining this actor.
    Join(ActorId),
}

/// A step as the scheduler receives it.
#[derive(Debug)]
pub struct Step {
    /// The actor reached a facade scheduling point (rather than a switch inside a primitive).
    pub at_scheduling_point: bool,
    /// What the step touched.
    pub footprint: Footprint,
}

impl StepLog {
    fn state(&self) -> std::sync::MutexGuard<'_, StepState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take the step that just ended and start a new one.
    pub fn take(&self) -> Step {
        let mut s = self.state();
        let accesses = std::mem::take(&mut s.accesses);
        Step {
            at_scheduling_point: std::mem::replace(&mut s.announced, false),
            footprint: Footprint::new(accesses),
        }
    }

    /// Has the running actor reached a facade scheduling point since the last [`StepLog::take`]?
    pub fn announced(&self) -> bool {
        self.state().announced
    }

    /// Can `actor` run its next step now (its pending operation, if any, would complete)?
    pub fn can_run(&self, actor: ActorId) -> bool {
        let s = self.state();
        match s.pending.get(&actor) {
            None => true,
            Some(Pending::Lock(l)) => !s.held.contains(l),
            Some(Pending::Join(a)) => s.finished.contains(a),
        }
    }

    /// The locks held now, in id order.
    pub fn held_locks(&self) -> Vec<LockId> {
        self.state().held.iter().copied().collect()
    }

    /// The blocking operation `actor` waits to attempt when it next runs, if any.
    pub fn pending_of(&self, actor: ActorId) -> Option<Pending> {
        self.state().pending.get(&actor).copied()
    }

    pub(crate) fn set_pending(&self, actor: ActorId, op: Option<Pending>) {
        let mut s = self.state();
        match op {
            Some(op) => s.pending.insert(actor, op),
            None => s.pending.remove(&actor),
        };
    }

    pub(crate) fn set_held(&self, lock: LockId, held: bool) {
        let mut s = self.state();
        if held {
            s.held.insert(lock);
        } else {
            s.held.remove(&lock);
        }
    }

    pub(crate) fn set_finished(&self, actor: ActorId) {
        self.state().finished.insert(actor);
    }

    /// Has the execution stopped at a violation (the scheduler ends it at the next switch)?
    pub fn failed(&self) -> bool {
        self.state().failed
    }

    pub(crate) fn fail(&self) {
        self.state().failed = true;
    }

    /// The scheduler ends this execution early (a cut-off or a violation): shuttle then tears
    /// the actors down, and the facade must not call back into it from their destructors.
    pub fn halt(&self) {
        self.state().halted = true;
    }

    /// See [`StepLog::halt`].
    pub fn halted(&self) -> bool {
        let s = self.state();
        s.halted || s.failed
    }

    /// Forget everything (a new execution starts).
    pub fn reset(&self) {
        *self.state() = StepState::default();
    }

    /// Name `object` for diagnostics, unless it has a name already (`name` is called only then).
    pub(crate) fn name(&self, object: Object, name: impl FnOnce() -> String) {
        self.state().names.entry(object).or_insert_with(name);
    }

    /// What `object` is, in words: its kind and the name its creator gave it (a lock's or
    /// condition variable's name, the source line that created a `Plain` cell, what a ghost
    /// object stands for). Only valid for objects of the current execution.
    pub fn name_of(&self, object: Object) -> String {
        let named = |kind: &str| match self.state().names.get(&object) {
            Some(name) => format!("{kind} {name}"),
            None => format!("{kind} {object:?}"),
        };
        match object {
            Object::Lock(_) => named("lock"),
            Object::Sem(_) => named("semaphore"),
            Object::Cond(_) => named("condvar"),
            Object::Plain(_) => named("plain"),
            Object::Ghost(_) => named("ghost"),
            Object::Clock => "clock".into(),
            Object::Registry => "registry (object and actor creation)".into(),
            Object::Actor(_) => "actor life (spawn, finish, join)".into(),
        }
    }

    pub(crate) fn touch(&self, object: Object, write: bool) {
        self.state().accesses.push(Access { object, write });
    }

    /// The next switch is a facade scheduling point: the scheduler may run another actor there.
    pub(crate) fn announce(&self) {
        self.state().announced = true;
    }
}

/// The accesses a ghost record stands for (see the module doc); condition variables and `Plain`
/// cells report theirs where they happen, since records do not name them.
pub(crate) fn record_accesses(
    kind: &RecordKind,
    actor: ActorId,
    mut touch: impl FnMut(Object, bool),
) {
    match kind {
        RecordKind::Spawn(child) => {
            touch(Object::Registry, true);
            touch(Object::Actor(*child), true);
        }
        // A spawn enables its child's first step, and every enabling must be a dependence
        // (the races of a blocked or unborn actor are not reversed: `dpor`'s race detection).
        RecordKind::Start => touch(Object::Actor(actor), false),
        RecordKind::Joined(child) => touch(Object::Actor(*child), false),
        RecordKind::Done => touch(Object::Actor(actor), true),
        RecordKind::Lock(l)
        | RecordKind::Unlock(l)
        | RecordKind::Wait(l, _)
        | RecordKind::Woke(l) => touch(Object::Lock(*l), true),
        RecordKind::Clock(_) => touch(Object::Clock, true),
        // Their ghost objects come from the observer (`is_judged`).
        RecordKind::Acquire(_)
        | RecordKind::Release(_)
        | RecordKind::Reserve(..)
        | RecordKind::Probe(_)
        | RecordKind::Notify(_)
        | RecordKind::Yield(_)
        | RecordKind::Blocking(..) => {}
    }
}

/// Records a monitor may judge against other actors' records: their ghost objects are named by
/// the observer.
pub(crate) fn is_judged(kind: &RecordKind) -> bool {
    matches!(
        kind,
        RecordKind::Acquire(_)
            | RecordKind::Release(_)
            | RecordKind::Reserve(..)
            | RecordKind::Probe(_)
            | RecordKind::Clock(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(list: &[(Object, bool)]) -> Footprint {
        Footprint::new(
            list.iter()
                .map(|&(object, write)| Access { object, write })
                .collect(),
        )
    }

    #[test]
    fn reads_commute_and_writes_do_not() {
        let read = fp(&[(Object::Plain(1), false)]);
        let write = fp(&[(Object::Plain(1), true)]);
        let other = fp(&[(Object::Plain(2), true)]);
        assert!(!read.conflicts(&read));
        assert!(read.conflicts(&write) && write.conflicts(&read) && write.conflicts(&write));
        assert!(!write.conflicts(&other));
        assert!(!Footprint::default().conflicts(&write));
        assert_eq!(read.conflicting_objects(&write), vec![Object::Plain(1)]);
        assert!(read.conflicting_objects(&read).is_empty());
    }

    #[test]
    fn a_write_wins_over_a_read_of_the_same_object() {
        let f = fp(&[
            (Object::Lock(3), false),
            (Object::Lock(3), true),
            (Object::Clock, false),
        ]);
        assert_eq!(f.accesses().len(), 2);
        assert!(f
            .accesses()
            .iter()
            .any(|a| a.object == Object::Lock(3) && a.write));
    }

    #[test]
    fn only_a_footprint_without_accesses_is_empty() {
        assert!(Footprint::default().is_empty());
        assert!(!fp(&[(Object::Clock, false)]).is_empty());
    }

    #[test]
    fn an_actor_can_run_once_its_pending_lock_is_free_or_its_joined_actor_finished() {
        let log = StepLog::default();
        assert!(log.can_run(1), "nothing pending");
        log.set_pending(1, Some(Pending::Lock(0)));
        log.set_held(0, true);
        assert!(!log.can_run(1), "its lock is held");
        log.set_held(0, false);
        assert!(log.can_run(1));
        log.set_pending(1, Some(Pending::Join(2)));
        assert!(!log.can_run(1), "actor 2 runs on");
        log.set_finished(2);
        assert!(log.can_run(1));
    }

    #[test]
    fn a_failed_or_halted_execution_is_halted() {
        let log = StepLog::default();
        assert!(!log.failed() && !log.halted());
        log.fail();
        assert!(log.failed() && log.halted());
        let log = StepLog::default();
        log.halt();
        assert!(log.halted() && !log.failed());
    }

    #[test]
    fn an_object_keeps_its_first_name_and_is_described_by_its_kind() {
        let log = StepLog::default();
        log.name(Object::Lock(0), || "pool".into());
        log.name(Object::Lock(0), || unreachable!("named already"));
        assert_eq!(log.name_of(Object::Lock(0)), "lock pool");
        assert_eq!(log.name_of(Object::Cond(2)), "condvar Cond(2)");
        assert_eq!(log.name_of(Object::Clock), "clock");
    }

    #[test]
    fn the_observer_names_the_ghost_objects_of_probes_permits_and_the_clock_only() {
        let probe = RecordKind::Probe(crate::sync::Event::PoolLimit { max_connections: 1 });
        for kind in [probe, RecordKind::Acquire(0), RecordKind::Clock(3)] {
            assert!(is_judged(&kind), "{kind:?}");
        }
        for kind in [
            RecordKind::Lock(0),
            RecordKind::Yield("await"),
            RecordKind::Done,
        ] {
            assert!(!is_judged(&kind), "{kind:?}");
        }
    }
}
