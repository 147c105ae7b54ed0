//! The ghost log: what happened in one execution, in order, with the locks each actor held.
//!
//! Everything here is plain data behind a std mutex owned by the execution context; reading or
//! writing it is never a scheduling point. Identifiers are dense indices assigned in creation
//! order, so the same schedule always produces the same identifiers and the same log.

use super::event::{Event, UserEvent};

/// A logical actor (model thread): index into [`Ghost::actors`]. Actor 0 is the execution's main.
pub type ActorId = usize;
/// A lock: index into [`Ghost::locks`].
pub type LockId = usize;
/// A semaphore: index into [`Ghost::sems`].
pub type SemId = usize;

/// The kinds of operation that may block indefinitely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlockKind {
    /// A network write (may stall when the peer stops reading).
    NetWrite,
    /// Flushing a buffered writer to the network.
    NetFlush,
    /// A network read.
    NetRead,
    /// Waiting for a semaphore permit or stream slot.
    PermitWait,
    /// Waiting for flow-control window.
    FlowControl,
    /// Closing a body or a transport (may wait for the peer).
    BodyClose,
    /// Waiting for another actor's progress (a condition, a channel).
    Wait,
}

impl BlockKind {
    /// Every kind, for classes that forbid all blocking.
    pub const ALL: &'static [BlockKind] = &[
        BlockKind::NetWrite,
        BlockKind::NetFlush,
        BlockKind::NetRead,
        BlockKind::PermitWait,
        BlockKind::FlowControl,
        BlockKind::BodyClose,
        BlockKind::Wait,
    ];

    /// The kebab-case name used in traces and reports.
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::NetWrite => "net-write",
            BlockKind::NetFlush => "net-flush",
            BlockKind::NetRead => "net-read",
            BlockKind::PermitWait => "permit-wait",
            BlockKind::FlowControl => "flow-control",
            BlockKind::BodyClose => "body-close",
            BlockKind::Wait => "wait",
        }
    }
}

/// What a lock protects, and which blocking operations must never run while it is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockClass {
    /// Short class name shown in reports (`state`, `write`, `pool`...).
    pub name: &'static str,
    /// Blocking operations forbidden while a lock of this class is held.
    pub forbids: &'static [BlockKind],
    /// Internal locks (inside a semaphore) are not shown in held-lock columns.
    pub internal: bool,
}

impl LockClass {
    /// A lock under which any blocking operation is a bug (a state lock, a pool lock).
    pub const fn non_blocking(name: &'static str) -> Self {
        LockClass {
            name,
            forbids: BlockKind::ALL,
            internal: false,
        }
    }

    /// A lock meant to be held across blocking operations (a write lock held across a write).
    pub const fn blocking_ok(name: &'static str) -> Self {
        LockClass {
            name,
            forbids: &[],
            internal: false,
        }
    }

    /// A lock under which only the listed kinds are forbidden.
    pub const fn forbidding(name: &'static str, forbids: &'static [BlockKind]) -> Self {
        LockClass {
            name,
            forbids,
            internal: false,
        }
    }

    pub(crate) const fn internal(name: &'static str) -> Self {
        LockClass {
            name,
            forbids: &[],
            internal: true,
        }
    }
}

/// What a blocked actor is waiting for (reported when an execution deadlocks or hangs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Acquiring a lock.
    Lock(LockId),
    /// A condition variable, with the model's description of the condition.
    Condition(String),
    /// A semaphore permit.
    Permit(SemId),
    /// Joining another actor.
    Join(ActorId),
}

/// One actor of the execution.
#[derive(Clone, Debug)]
pub struct ActorInfo {
    /// Name given at spawn (scenario actor name, or the model's name for an internal task).
    pub name: String,
    /// What it is blocked on right now, if anything.
    pub waiting: Option<WaitFor>,
    /// It has returned.
    pub done: bool,
    /// Locks it holds now (bit i = lock i).
    pub held: u128,
}

/// One lock of the execution.
#[derive(Clone, Debug)]
pub struct LockInfo {
    /// The model's name for it (`conn1._state_lock`).
    pub name: String,
    /// Its class.
    pub class: LockClass,
    /// Who holds it now.
    pub holder: Option<ActorId>,
}

/// One semaphore of the execution; its counts are visible to monitors.
#[derive(Clone, Debug)]
pub struct SemInfo {
    /// The model's name for it.
    pub name: String,
    /// Permits available now.
    pub free: i64,
    /// Permits acquired and not released.
    pub held: i64,
    /// Of `held`, permits the structure itself keeps (httpcore pre-acquires 99 of 100 until the
    /// server's SETTINGS arrive); `no-leak` expects `held == reserved` at the end.
    pub reserved: i64,
}

/// What one log record says happened.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordKind {
    /// The actor started running.
    Start,
    /// The actor spawned another.
    Spawn(ActorId),
    /// The actor joined another (which had finished).
    Joined(ActorId),
    /// The actor returned.
    Done,
    /// The actor acquired a lock.
    Lock(LockId),
    /// The actor released a lock.
    Unlock(LockId),
    /// The actor waits on a condition variable, releasing the lock.
    Wait(LockId, String),
    /// The actor woke up from a condition variable wait, holding the lock again.
    Woke(LockId),
    /// The actor notified a condition variable.
    Notify(String),
    /// One `await` of an async original.
    Yield(&'static str),
    /// An operation that may block indefinitely.
    Blocking(BlockKind, String),
    /// A semaphore permit was acquired.
    Acquire(SemId),
    /// A semaphore permit was released.
    Release(SemId),
    /// The structure itself took (+1) or gave back (-1) a permit it keeps (not a request's).
    Reserve(SemId, i64),
    /// The logical clock advanced to this time.
    Clock(u64),
    /// A ghost-state event from the model.
    Probe(Event),
}

impl RecordKind {
    /// The user's event, when this record is one (what a user's monitor usually matches).
    pub fn user_event(&self) -> Option<&UserEvent> {
        match self {
            RecordKind::Probe(Event::User(ev)) => Some(ev),
            _ => None,
        }
    }

    /// Is this record a scheduling point (counted against the step bound)?
    pub fn is_step(&self) -> bool {
        !matches!(
            self,
            RecordKind::Probe(_)
                | RecordKind::Unlock(_)
                | RecordKind::Notify(_)
                | RecordKind::Reserve(..)
        )
    }
}

/// One entry of the ghost log.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Position in the log (0-based, dense).
    pub seq: usize,
    /// Scheduling steps taken so far in this execution.
    pub step: u64,
    /// Who did it.
    pub actor: ActorId,
    /// Locks the actor held when it did it (bit i = lock i; the first 128 locks).
    pub held: u128,
    /// What happened.
    pub kind: RecordKind,
}

/// A violated invariant: the structured value that stops an execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's kebab-case name (`idle-while-active`).
    pub invariant: String,
    /// What went wrong, in words.
    pub message: String,
    /// The actor whose step revealed it.
    pub actor: Option<ActorId>,
    /// The log position of the revealing record (the last record when checked at the end).
    pub seq: usize,
}

/// All ghost state of one execution.
#[derive(Clone, Debug, Default)]
pub struct Ghost {
    /// Actors in spawn order.
    pub actors: Vec<ActorInfo>,
    /// Locks in creation order.
    pub locks: Vec<LockInfo>,
    /// Semaphores in creation order.
    pub sems: Vec<SemInfo>,
    /// The logical clock.
    pub clock: u64,
    /// Scheduling steps taken.
    pub steps: u64,
    /// The log.
    pub log: Vec<Record>,
    /// The first violation, once one is found.
    pub violation: Option<Violation>,
}

impl Ghost {
    /// Bit mask of the locks `actor` holds now.
    pub fn held_by(&self, actor: ActorId) -> u128 {
        self.actors.get(actor).map_or(0, |a| a.held)
    }

    /// The locks in a held mask, in id order.
    pub fn locks_in(&self, mask: u128) -> impl Iterator<Item = (LockId, &LockInfo)> {
        self.locks
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i < 128 && mask & (1u128 << i) != 0)
    }
}
