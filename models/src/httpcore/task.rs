//! A request's task on its way through the pool and a connection, and the awaits at which it
//! may be cancelled ([`crate::cancel`]: the scenario names one with `cancel_at`, or another
//! actor's `cancel target=...` lands wherever the scheduler puts it and the task observes it
//! at its next await).
//!
//! Two ways an await raises `CancelledError`, as anyio delivers it on asyncio:
//! - [`Task::checkpoint`]: before the await does its work: anyio's `Lock.acquire`,
//!   `Semaphore.acquire` and socket operations start with `checkpoint_if_cancelled()`, so a
//!   cancelled task raises there (one scheduling point, the checkpoint) without taking the lock
//!   or touching the socket;
//! - [`Task::resumed`]: after a wait the task was suspended in (`wait_for_connection`'s
//!   `event.wait()`): asyncio raises when the task resumes, even if the event was set meanwhile.
//!
//! Cleanups that upstream shields (`with AsyncShieldCancellation()`) simply ask nothing.
//! Abstractions: a `cancel` landing while the task is blocked in a lock, a permit or a network
//! read is observed at its next await, not inside that one (only `wait_for_connection` is woken
//! by it); a task another actor may cancel has one extra scheduling point before each
//! cancellation point ([`Task::checkpoint`]), where the code since its previous await becomes
//! visible to others a moment early (upstream runs it atomically with the checkpoint).

use super::connection::ReqError;
use crate::cancel::CancelBook;
use crate::sync::{yield_now, Plain};
use std::collections::{BTreeMap, BTreeSet};

/// The awaits of `request` a scenario may name in `cancel_at`, in the order a request reaches
/// them.
pub const POINTS: &[&str] = &[
    "wait",
    "request-lock",
    "connect",
    "state-lock",
    "init-lock",
    "permit",
    "write",
    "response",
    "body",
];

/// The cancellations of one execution.
pub struct Cancels {
    book: Plain<CancelBook>,
    /// Actors some `cancel` operation targets.
    targets: BTreeSet<String>,
    /// target actor -> the request it runs now.
    current: Plain<BTreeMap<String, u32>>,
}

impl Cancels {
    /// No request cancelled yet; `targets` are the actors a `cancel` operation may reach.
    pub fn new(targets: BTreeSet<String>) -> Self {
        Cancels {
            book: Plain::new(CancelBook::default()),
            targets,
            current: Plain::new(BTreeMap::new()),
        }
    }

    /// The task of `actor`'s request `req`, cancelled at `cancel_at` if the scenario says so.
    pub fn task(&self, actor: &str, req: u32, cancel_at: Option<&'static str>) -> Task<'_> {
        if let Some(point) = cancel_at {
            self.book.with(|b| b.cancel_at(req, point));
        }
        let targeted = self.targets.contains(actor);
        if targeted {
            self.current.with(|c| c.insert(actor.to_owned(), req));
        }
        Task {
            req,
            observes: cancel_at.is_some() || targeted,
            targeted,
            cancels: self,
        }
    }

    /// `cancel target=...`: cancel the request `target` runs now, if any. Whether one was.
    pub fn cancel(&self, target: &str) -> bool {
        let Some(req) = self.current.read(|c| c.get(target).copied()) else {
            return false;
        };
        self.book.with(|b| b.cancel(req));
        true
    }

    /// `actor`'s request `req` is over: a later `cancel` finds nothing to cancel.
    pub fn finished(&self, actor: &str, req: u32) {
        if self.targets.contains(actor) {
            self.current.with(|c| {
                if c.get(actor) == Some(&req) {
                    c.remove(actor);
                }
            });
        }
    }
}

/// A request's task: its number and whether it may be cancelled.
#[derive(Clone, Copy)]
pub struct Task<'a> {
    /// The request.
    pub req: u32,
    /// Something may cancel it (otherwise it never looks, so that it adds no footprint).
    observes: bool,
    /// Another actor may cancel it (`cancel target=...`).
    targeted: bool,
    cancels: &'a Cancels,
}

impl Task<'_> {
    /// Is the task cancelled when it reaches the await `point`?
    fn raises_at(&self, point: &'static str) -> bool {
        if !self.observes || !self.cancels.book.read(|b| b.raises_at(self.req, point)) {
            return false;
        }
        self.cancels.book.with(|b| b.reach(self.req, point))
    }

    /// The await `point` starts with anyio's `checkpoint_if_cancelled()`: a cancelled task
    /// raises there, before the await does anything. A task another actor may cancel gets a
    /// scheduling point first: anyio defers a cancellation that arrives while the task is
    /// ready to resume from its previous await to this checkpoint, and the model's previous
    /// await is a single step, so the canceller needs this moment to land there.
    pub fn checkpoint(&self, point: &'static str) -> Result<(), ReqError> {
        if self.targeted {
            yield_now("checkpoint_if_cancelled()");
        }
        if self.raises_at(point) {
            yield_now(point_label(point));
            return Err(ReqError::Cancelled);
        }
        Ok(())
    }

    /// The task is about to suspend in a wait: a cancellation delivered earlier raises now
    /// (the scenario's `cancel_at` for that wait fires only once the task is suspended there).
    pub fn pending(&self) -> Result<(), ReqError> {
        if self.observes && self.cancels.book.read(|b| b.is_cancelled(self.req)) {
            return Err(ReqError::Cancelled);
        }
        Ok(())
    }

    /// The task resumes from the await `point` it was suspended in: a cancellation delivered
    /// meanwhile raises now.
    pub fn resumed(&self, point: &'static str) -> Result<(), ReqError> {
        if self.raises_at(point) {
            return Err(ReqError::Cancelled);
        }
        Ok(())
    }
}

impl Task<'_> {
    /// The shielded cleanup after this task's cancellation reaches an await (`point`): a second
    /// `cancel` raises there once ([`CancelBook::interrupts_cleanup`]).
    pub fn cleanup_interrupted(&self, point: &'static str) -> bool {
        if !self.targeted {
            return false;
        }
        yield_now(point_label(point));
        if !self
            .cancels
            .book
            .read(|b| b.would_interrupt_cleanup(self.req))
        {
            return false;
        }
        self.cancels.book.with(|b| b.interrupts_cleanup(self.req))
    }
}

/// What a trace shows where the cancellation is raised.
fn point_label(point: &'static str) -> &'static str {
    match point {
        "wait" => "await wait_for_connection() -> CancelledError",
        "request-lock" => "async with _request_lock -> CancelledError",
        "connect" => "await _connect() -> CancelledError",
        "state-lock" => "async with _state_lock -> CancelledError",
        "init-lock" => "async with _init_lock -> CancelledError",
        "permit" => "await _max_streams_semaphore.acquire() -> CancelledError",
        "write" => "await network_stream.write() -> CancelledError",
        "response" => "await _receive_response() -> CancelledError",
        "body" => "await response.aread() -> CancelledError",
        "cleanup" => "shielded async with _state_lock (cleanup)",
        _ => "await -> CancelledError",
    }
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
