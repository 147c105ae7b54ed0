//! Spawning, joining, yielding and declaring blocking operations.

use super::backend::Backend;
use super::context::{exec, set_current};
use super::footprint::Pending;
use super::record::{ActorId, BlockKind, RecordKind, WaitFor};

enum Inner<T> {
    Std(std::thread::JoinHandle<T>),
    Loom(loom::thread::JoinHandle<T>),
    Shuttle(shuttle::thread::JoinHandle<T>),
}

/// Handle to a spawned actor.
pub struct JoinHandle<T> {
    actor: ActorId,
    inner: Inner<T>,
}

/// Spawn a logical actor named `name` (the name appears as a column in traces).
///
/// loom allows at most 4 spawned threads per execution (5 with the main one).
pub fn spawn<F, T>(name: &str, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let e = exec();
    e.check_aborted();
    let parent = e.actor_of_current();
    let actor = e.new_actor(name);
    e.record(parent, RecordKind::Spawn(actor));
    let child_exec = e.clone();
    let body = move || {
        if child_exec.backend() == Backend::Std {
            set_current(child_exec.clone());
        }
        child_exec.bind_current_thread(actor);
        let _token = RunTokenGuard::take(&child_exec);
        child_exec.record(actor, RecordKind::Start);
        let out = f();
        child_exec.record(actor, RecordKind::Done);
        child_exec.finished(actor);
        if matches!(child_exec.backend(), Backend::Shuttle | Backend::Dpor) {
            // The last actor able to run may end with every other one blocked for ever.
            child_exec.fail_if_deadlocked(actor);
        }
        out
    };
    let inner = match e.backend() {
        Backend::Std => Inner::Std(std::thread::spawn(body)),
        Backend::Loom => Inner::Loom(loom::thread::spawn(body)),
        Backend::Shuttle | Backend::Dpor => Inner::Shuttle(shuttle::thread::spawn(body)),
    };
    if e.backend() == Backend::Dpor {
        // The child may run first, as under shuttle (whose spawn is a switch point).
        e.scheduling_point();
    }
    JoinHandle { actor, inner }
}

impl<T> JoinHandle<T> {
    /// The spawned actor's id.
    pub fn actor(&self) -> ActorId {
        self.actor
    }

    /// Wait for the actor to finish; a panic in it (a violation) continues in the joiner.
    pub fn join(self) -> T {
        let e = exec();
        let me = e.actor_of_current();
        e.set_waiting(me, Some(WaitFor::Join(self.actor)));
        if e.backend() == Backend::Dpor {
            // Joining is a step of its own, taken once the actor has finished.
            e.set_pending(me, Some(Pending::Join(self.actor)));
        }
        if matches!(e.backend(), Backend::Shuttle | Backend::Dpor) && !e.is_done(self.actor) {
            // Blocking on an actor that every other actor keeps from finishing is a deadlock,
            // seen here before shuttle's own detector would print and panic.
            e.fail_if_deadlocked(me);
        }
        if e.backend() == Backend::Dpor {
            e.scheduling_point();
            e.set_pending(me, None);
        }
        let result = e.blocking_section(|| match self.inner {
            Inner::Std(h) => h.join(),
            Inner::Loom(h) => h.join(),
            Inner::Shuttle(h) => h.join(),
        });
        e.set_waiting(me, None);
        match result {
            Ok(v) => {
                e.record(me, RecordKind::Joined(self.actor));
                v
            }
            // A violation, or `Aborted`, continues unwinding with the same payload.
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// One `await` of an async original: a scheduling point and nothing else.
///
/// `label` names the await in traces (`"semaphore.acquire"`, `"read_lock"`...).
pub fn yield_now(label: &'static str) {
    let e = exec();
    e.check_aborted();
    e.scheduling_point();
    e.record(e.actor_of_current(), RecordKind::Yield(label));
}

/// Declare that the current actor is about to perform an operation that may block indefinitely.
///
/// This is a scheduling point; the `lock-held-blocking` monitor judges it against the locks the
/// actor holds. The operation itself (waiting for the peer to read, for a permit...) follows in
/// the model, usually as a condition-variable wait.
pub fn blocking(kind: BlockKind, what: &str) {
    let e = exec();
    e.check_aborted();
    e.scheduling_point();
    e.record(
        e.actor_of_current(),
        RecordKind::Blocking(kind, what.to_owned()),
    );
}

/// Declare a possibly blocking operation without a scheduling point (a fair semaphore's
/// acquire: asyncio's and anyio's only suspend where the original awaits).
pub(crate) fn declare_blocking(kind: BlockKind, what: &str) {
    let e = exec();
    e.check_aborted();
    e.record(
        e.actor_of_current(),
        RecordKind::Blocking(kind, what.to_owned()),
    );
}

/// Holds a spawned std actor's run token for its whole life, released even when it unwinds.
struct RunTokenGuard<'a>(&'a super::context::Exec);

impl<'a> RunTokenGuard<'a> {
    fn take(exec: &'a super::context::Exec) -> Self {
        exec.take_run_token();
        RunTokenGuard(exec)
    }
}

impl Drop for RunTokenGuard<'_> {
    fn drop(&mut self) {
        self.0.release_run_token();
    }
}
