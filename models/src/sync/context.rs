//! The per-execution context: backend, ghost state, observer, actor registry.
//!
//! The context lives in a thread-local slot. loom and shuttle run every model thread on the
//! OS thread that called them, so one slot serves the whole execution; under the std backend
//! [`super::spawn`] copies the context into each new OS thread.

use super::backend::{Backend, Tid, Token};
use super::controlled::Waiter;
use super::deadlock::{all_blocked, deadlock_violation, FACADE_DEADLOCK};
use super::event::{ConnPhase, Event};
use super::flavour::Flavour;
use super::footprint::{is_judged, record_accesses, Object, Pending, StepLog};
use super::record::{ActorId, ActorInfo, Ghost, Record, RecordKind, Violation, WaitFor};
use super::run_token::{Refused, RunToken};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

/// Judges every record of an execution; implemented by the harness's monitor set.
pub trait Observer: Send {
    /// Called after `rec` was appended to `ghost.log` and applied to the ghost state.
    fn on_record(&mut self, ghost: &Ghost, rec: &Record) -> Result<(), Violation>;
    /// What ghost object `k` stands for, in words (diagnostics only: `dpor`'s race counts).
    fn ghost_name(&self, k: u64) -> String {
        format!("#{k}")
    }
    /// The ghost objects (see [`super::Object::Ghost`]) a probe, permit or clock record writes,
    /// for the `dpor` scheduler: two such records with no object in common must be judged the
    /// same in either order. The default, one object for every such record, is always sound.
    fn ghost_objects(&self, _kind: &RecordKind, touch: &mut dyn FnMut(u64)) {
        touch(0);
    }
    /// Called once when the execution's main actor has joined every other actor.
    fn at_end(&mut self, ghost: &Ghost) -> Result<(), Violation>;
}

/// The wake-ups one wait may take ([`Exec::park_until`]) before it stops with `bound-hit`. Under
/// a model (shuttle, `dpor`, loom) an actor wakes only when another one releases or notifies,
/// which takes a step of the other's, and a scenario's step bound is at most 1,000,000; under
/// std a park also times out every 5 ms, so this is over 80 minutes of waiting. More wake-ups
/// are a wait whose park returns at once: issue 17's `Exec::park` replaced by nothing spun in
/// such a loop for ever, hanging the mutation judge, and now fails within a second or so.
const WAKE_BOUND: u64 = 1_000_000;

/// The panic payload that stops an execution at a violation; the violation itself is in
/// [`Exec::ghost`], so the harness never depends on the payload surviving a scheduler's unwinding.
#[derive(Debug)]
pub struct ViolationPanic;

/// The panic payload that stops the remaining std threads of an execution that already failed.
#[derive(Debug)]
pub struct Aborted;

/// One execution: backend, ghost state and observer.
pub struct Exec {
    backend: Backend,
    ghost: Arc<StdMutex<Ghost>>,
    observer: StdMutex<Box<dyn Observer>>,
    tids: StdMutex<Vec<(Tid, ActorId)>>,
    token: Token,
    step_bound: u64,
    aborted: Arc<AtomicBool>,
    /// The std backend's run token (its patience is set by the unit tests' std execution).
    pub(crate) run_token: RunToken,
    /// Where step footprints go (the `dpor` backend only).
    steps: Option<Arc<StepLog>>,
    /// Actors parked by the facade itself (the shuttle and `dpor` backends).
    parked: StdMutex<BTreeSet<ActorId>>,
    /// Numbers the unlocked objects (condition variables, `Plain` cells) in creation order.
    objects: AtomicUsize,
    /// The flavour of the locks and semaphores created next ([`super::use_flavour`]).
    flavour: StdMutex<Flavour>,
    /// Actors woken under shuttle but not yet unparked (see [`Exec::wake`]).
    deferred: StdMutex<Vec<Waiter>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Exec>>> = const { RefCell::new(None) };
}

/// Restores the thread-local slot when dropped (also on unwinding).
pub struct ExecGuard(Option<Arc<Exec>>);

impl Drop for ExecGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Install a new execution on this thread; the calling thread becomes actor 0, named `main`.
///
/// Must be called inside the scheduler's model closure (loom objects must be created there).
/// Returns the execution and a guard that uninstalls it.
pub fn install(
    backend: Backend,
    observer: Box<dyn Observer>,
    step_bound: u64,
    main: &str,
) -> (Arc<Exec>, ExecGuard) {
    install_traced(backend, observer, step_bound, main, None)
}

/// [`install`], reporting every step's footprint to `steps` (the `dpor` backend's scheduler).
pub fn install_traced(
    backend: Backend,
    observer: Box<dyn Observer>,
    step_bound: u64,
    main: &str,
    steps: Option<Arc<StepLog>>,
) -> (Arc<Exec>, ExecGuard) {
    let exec = Arc::new(Exec {
        backend,
        ghost: Arc::new(StdMutex::new(Ghost::default())),
        observer: StdMutex::new(observer),
        tids: StdMutex::new(Vec::new()),
        token: Token::new(backend),
        step_bound,
        aborted: Arc::new(AtomicBool::new(false)),
        run_token: RunToken::default(),
        steps,
        parked: StdMutex::new(BTreeSet::new()),
        objects: AtomicUsize::new(0),
        flavour: StdMutex::new(Flavour::Std),
        deferred: StdMutex::new(Vec::new()),
    });
    let previous = CURRENT.with(|c| c.borrow_mut().replace(exec.clone()));
    let main_id = exec.new_actor(main);
    exec.bind_current_thread(main_id);
    exec.take_run_token();
    exec.record(main_id, RecordKind::Start);
    (exec, ExecGuard(previous))
}

/// Remove the execution from this thread (the guard does this too).
pub fn uninstall() {
    CURRENT.with(|c| c.borrow_mut().take());
}

/// The execution running on this thread. Panics with a clear message outside one.
pub(crate) fn exec() -> Arc<Exec> {
    CURRENT.with(|c| c.borrow().clone()).expect(
        "poolcheck facade used outside an execution: run models through the harness \
         (poolcheck_harness::backend), which installs one",
    )
}

/// The execution running on this thread, if any.
pub(crate) fn try_exec() -> Option<Arc<Exec>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Set this OS thread's context (std backend threads).
pub(crate) fn set_current(exec: Arc<Exec>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(exec));
}

/// The logical actor running now.
pub fn current_actor() -> ActorId {
    exec().actor_of_current()
}

/// The logical actor running now, if an execution is installed and knows this thread.
pub fn try_current_actor() -> Option<ActorId> {
    CURRENT
        .with(|c| c.borrow().clone())
        .and_then(|e| e.try_actor_of_current())
}

/// Actors of the execution running on this thread so far: the id the next spawned one gets.
pub fn actor_count() -> usize {
    exec().lock_ghost().actors.len()
}

/// Record a ghost event for the current actor. Not a scheduling point.
pub fn probe(event: Event) {
    let exec = exec();
    let me = exec.actor_of_current();
    exec.record(me, RecordKind::Probe(event));
}

/// Record that connection `conn`'s own state field is now `phase` (every model's assignment of
/// its connection state goes through this, so the monitors see one event shape).
pub fn probe_phase(conn: u32, phase: ConnPhase) {
    probe(Event::ConnPhase { conn, phase });
}

impl Exec {
    /// The backend of this execution.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A snapshot-able handle on the ghost state (kept by the harness after the run).
    pub fn ghost(&self) -> Arc<StdMutex<Ghost>> {
        self.ghost.clone()
    }

    /// Lock the ghost state, ignoring poisoning (a violation may unwind while it is held).
    pub(crate) fn lock_ghost(&self) -> StdGuard<'_, Ghost> {
        self.ghost.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn new_actor(&self, name: &str) -> ActorId {
        let mut g = self.lock_ghost();
        g.actors.push(ActorInfo {
            name: name.to_owned(),
            waiting: None,
            done: false,
            held: 0,
        });
        g.actors.len() - 1
    }

    pub(crate) fn bind_current_thread(&self, actor: ActorId) {
        let tid = self.backend.current_tid();
        self.tids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((tid, actor));
    }

    fn try_actor_of_current(&self) -> Option<ActorId> {
        let tid = self.backend.current_tid();
        let tids = self.tids.lock().unwrap_or_else(|p| p.into_inner());
        tids.iter().rev().find(|(t, _)| *t == tid).map(|(_, a)| *a)
    }

    pub(crate) fn actor_of_current(&self) -> ActorId {
        self.try_actor_of_current()
            .expect("thread not spawned through poolcheck's sync::spawn")
    }

    /// One scheduling point: touch the shared token (loom, shuttle), or hand the run token to
    /// whichever std thread takes it next.
    pub(crate) fn scheduling_point(&self) {
        self.flush_wakes();
        if let Some(steps) = &self.steps {
            steps.announce();
        }
        if self.backend == Backend::Std {
            self.run_token.release();
            std::thread::yield_now();
            self.take_run_token();
        } else {
            self.token.touch();
        }
    }

    /// Run an operation that may block (a lock, a wait, a join) without holding the run token.
    pub(crate) fn blocking_section<R>(&self, op: impl FnOnce() -> R) -> R {
        self.flush_wakes();
        if self.backend != Backend::Std {
            self.loom_dependency();
            return op();
        }
        self.run_token.release();
        let out = op();
        self.take_run_token();
        out
    }

    /// Std backend: take the run token (unwinding with [`Aborted`] if the execution failed). A
    /// token held past the taker's patience stops the execution with `bound-hit`: an actor
    /// blocked or ended while holding it, and every other actor would wait for ever.
    pub(crate) fn take_run_token(&self) {
        if self.backend != Backend::Std {
            return;
        }
        match self.run_token.acquire(|| self.is_aborted()) {
            Ok(()) => {}
            Err(Refused::Aborted) => self.check_aborted(),
            Err(Refused::Exhausted) => self.fail(self.token_wait_violation()),
        }
    }

    fn token_wait_violation(&self) -> Violation {
        let g = self.lock_ghost();
        Violation {
            invariant: "bound-hit".into(),
            message: format!(
                "waited {} polls of 5 ms for the std backend's run token, which nobody gave \
                 back: the actor holding it blocked or ended with it (a facade bug)",
                self.run_token.patience()
            ),
            actor: self.try_actor_of_current(),
            seq: g.log.len().saturating_sub(1),
        }
    }

    /// Std backend: give the run token back (an actor that returned or unwound).
    pub(crate) fn release_run_token(&self) {
        if self.backend == Backend::Std {
            self.run_token.release();
        }
    }

    /// Under loom, make the next operation dependent on every other scheduling point.
    ///
    /// loom's partial-order reduction only reorders operations on the same loom object, but
    /// model state in [`super::Plain`] is invisible to it: without this, loom would never run
    /// another actor's lock between our await and our next plain access (it found the toy
    /// #1062 race only after this was added). shuttle has no such reduction, so nothing to do.
    pub(crate) fn loom_dependency(&self) {
        if self.backend == Backend::Loom {
            self.token.touch();
        }
    }

    /// The step log, when this execution reports footprints.
    pub(crate) fn step_log(&self) -> Option<&Arc<StepLog>> {
        self.steps.as_ref()
    }

    /// Report that the current step touched `object` (a no-op unless footprints are recorded).
    pub(crate) fn touch(&self, object: Object, write: bool) {
        if let Some(steps) = &self.steps {
            steps.touch(object, write);
        }
    }

    /// Name `object` for diagnostics (a no-op unless footprints are recorded).
    pub(crate) fn name_object(&self, object: Object, name: impl FnOnce() -> String) {
        if let Some(steps) = &self.steps {
            steps.name(object, name);
        }
    }

    /// Announce the blocking operation `me` attempts at its next step (None: it has none).
    pub(crate) fn set_pending(&self, me: ActorId, op: Option<Pending>) {
        if let Some(steps) = &self.steps {
            steps.set_pending(me, op);
        }
    }

    /// A controlled lock was taken (`true`) or released; a taker's pending attempt is over.
    pub(crate) fn lock_taken(&self, me: ActorId, object: Object, taken: bool) {
        let (Some(steps), Object::Lock(l)) = (&self.steps, object) else {
            return;
        };
        steps.set_held(l, taken);
        if taken {
            steps.set_pending(me, None);
        }
    }

    /// `actor` returned: joins of it can proceed.
    pub(crate) fn finished(&self, actor: ActorId) {
        self.flush_wakes();
        if let Some(steps) = &self.steps {
            steps.set_finished(actor);
        }
    }

    /// Is shuttle tearing this execution down (no more facade calls into it)? Under `dpor` the
    /// scheduler says so; under shuttle an execution ends only at a violation.
    pub(crate) fn halted(&self) -> bool {
        match &self.steps {
            Some(s) => s.halted(),
            None => self.backend == Backend::Shuttle && self.is_aborted(),
        }
    }

    /// Number a new unlocked object; creating it writes the registry (ids are creation order).
    pub(crate) fn new_object(&self) -> usize {
        self.touch(Object::Registry, true);
        self.objects.fetch_add(1, Ordering::SeqCst)
    }

    /// The flavour of the locks and semaphores created from now on.
    pub(crate) fn flavour(&self) -> Flavour {
        *self.flavour.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_flavour(&self, flavour: Flavour) {
        *self.flavour.lock().unwrap_or_else(|p| p.into_inner()) = flavour;
    }

    /// Park the current actor (any backend) until `ready` holds, each time until another actor
    /// unparks it;
    /// if every other live actor is blocked too, this is a deadlock and the execution stops with
    /// `request-answered`. `ready` is checked after the deferred wakes are flushed, since under
    /// shuttle an unpark is a switch in which others may run (and make `ready` hold). Under std
    /// the run token is given up while parked, and the park times out now and then so that an
    /// aborted execution ends. A wait woken [`WAKE_BOUND`] times without `ready` holding stops
    /// the execution with `bound-hit`.
    pub(crate) fn park_until(&self, me: ActorId, ready: impl Fn() -> bool) {
        for _ in 0..WAKE_BOUND {
            self.flush_wakes();
            if ready() {
                return;
            }
            self.park(me);
        }
        self.fail(self.wake_bound_violation(me));
    }

    fn wake_bound_violation(&self, me: ActorId) -> Violation {
        let g = self.lock_ghost();
        Violation {
            invariant: "bound-hit".into(),
            message: format!(
                "{} woke {WAKE_BOUND} times in one wait and what it waits for never came true: \
                 its park returns at once (a facade bug) or a livelock",
                g.actors[me].name
            ),
            actor: Some(me),
            seq: g.log.len().saturating_sub(1),
        }
    }

    /// Park once (see [`Exec::park_until`]; callers loop on their own condition).
    pub(crate) fn park(&self, me: ActorId) {
        self.lock_parked().insert(me);
        self.fail_if_deadlocked(me);
        match self.backend {
            Backend::Std => {
                self.run_token.release();
                std::thread::park_timeout(std::time::Duration::from_millis(5));
                self.take_run_token();
            }
            Backend::Loom => {
                self.loom_dependency();
                loom::thread::park();
            }
            Backend::Shuttle | Backend::Dpor => shuttle::thread::park(),
        }
        // park returns at once when an earlier unpark left its token: then nobody removed us.
        self.lock_parked().remove(&me);
        self.check_aborted();
    }

    /// Wake a parked actor without making this a scheduling point. shuttle's `unpark` is a
    /// switch point of its own, so under the shuttle backend the unpark waits for the waker's
    /// next scheduling point, block or end ([`Exec::flush_wakes`]); the woken actor could not
    /// run before then anyway. Under `dpor` the scheduler ignores switches that are not
    /// announced; loom's and std's unparks never switch. While unwinding nobody is woken: the
    /// execution has failed.
    pub(crate) fn wake(&self, waiter: Waiter) {
        if std::thread::panicking() {
            return;
        }
        self.lock_parked().remove(&waiter.actor());
        if self.backend == Backend::Shuttle {
            self.deferred
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(waiter);
        } else {
            waiter.unpark();
        }
    }

    /// Unpark the actors [`Exec::wake`] deferred.
    fn flush_wakes(&self) {
        let woken = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        woken.iter().for_each(Waiter::unpark);
    }

    /// Stop with a deadlock if `me` is about to block and no other live actor can run.
    pub(crate) fn fail_if_deadlocked(&self, me: ActorId) {
        let v = {
            let g = self.lock_ghost();
            let parked = self.lock_parked();
            let stuck = |a: ActorId| parked.contains(&a) || self.pending_blocked(a);
            if g.violation.is_some() || !all_blocked(&g, stuck, me) {
                return;
            }
            deadlock_violation(Some(&g), FACADE_DEADLOCK)
        };
        self.fail(v);
    }

    /// Has `actor` returned?
    pub(crate) fn is_done(&self, actor: ActorId) -> bool {
        self.lock_ghost().actors[actor].done
    }

    /// Is `actor` stuck at its scheduling point, its pending operation unable to complete?
    fn pending_blocked(&self, actor: ActorId) -> bool {
        self.steps.as_ref().is_some_and(|s| !s.can_run(actor))
    }

    fn lock_parked(&self) -> StdGuard<'_, BTreeSet<ActorId>> {
        self.parked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Has a violation (or abort) stopped this execution?
    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// The flag [`Exec::abort`] sets, for a scheduler that must stop when a violation is found.
    pub fn abort_flag(&self) -> Arc<AtomicBool> {
        self.aborted.clone()
    }

    /// Stop the remaining std threads at their next facade operation.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// Mark what `actor` waits for (None when it stops waiting).
    pub(crate) fn set_waiting(&self, actor: ActorId, waiting: Option<WaitFor>) {
        self.lock_ghost().actors[actor].waiting = waiting;
    }

    /// Append a record, apply it to the ghost state, run the observer; stop on a violation.
    pub(crate) fn record(&self, actor: ActorId, kind: RecordKind) {
        if let Some(v) = self.append(actor, kind) {
            self.fail(v);
        }
    }

    fn append(&self, actor: ActorId, kind: RecordKind) -> Option<Violation> {
        let mut g = self.lock_ghost();
        if g.violation.is_some() || std::thread::panicking() {
            return None;
        }
        if kind.is_step() {
            g.steps += 1;
        }
        if let Some(steps) = &self.steps {
            record_accesses(&kind, actor, |object, write| steps.touch(object, write));
            if is_judged(&kind) {
                let obs = self.observer.lock().unwrap_or_else(|p| p.into_inner());
                obs.ghost_objects(&kind, &mut |k| {
                    steps.name(Object::Ghost(k), || obs.ghost_name(k));
                    steps.touch(Object::Ghost(k), true);
                });
            }
        }
        apply(&mut g, actor, &kind);
        let rec = Record {
            seq: g.log.len(),
            step: g.steps,
            actor,
            held: g.held_by(actor),
            kind,
        };
        g.log.push(rec);
        if g.steps > self.step_bound {
            return Some(self.step_bound_violation(&g, actor));
        }
        let rec = g.log.last().expect("just pushed");
        let mut obs = self.observer.lock().unwrap_or_else(|p| p.into_inner());
        let verdict = obs.on_record(&g, rec);
        verdict.err()
    }

    fn step_bound_violation(&self, g: &Ghost, actor: ActorId) -> Violation {
        Violation {
            invariant: "bound-hit".into(),
            message: format!(
                "the execution exceeded its step bound of {} scheduling steps (a runaway model \
                 or a livelock); raise `step_bound` in the scenario if the model needs more",
                self.step_bound
            ),
            actor: Some(actor),
            seq: g.log.len() - 1,
        }
    }

    /// Store the violation and unwind the current actor.
    pub(crate) fn fail(&self, v: Violation) -> ! {
        {
            let mut g = self.lock_ghost();
            if g.violation.is_none() {
                g.violation = Some(v);
            }
        }
        self.abort();
        if let Some(steps) = &self.steps {
            steps.fail();
        }
        if matches!(self.backend, Backend::Shuttle | Backend::Dpor) && !std::thread::panicking() {
            // Stop quietly: shuttle prints a line for every task that panics, thousands per
            // exploration. The harness's scheduler sees the abort flag at this scheduling point
            // and ends the execution; the task is never resumed.
            loop {
                shuttle::thread::yield_now();
            }
        }
        std::panic::panic_any(ViolationPanic)
    }

    /// Run the end-of-execution checks (no-leak, request-answered); called by the harness from
    /// the main actor after every spawned actor has been joined.
    pub fn finish(&self) {
        let verdict = {
            let g = self.lock_ghost();
            if g.violation.is_some() {
                return;
            }
            let mut obs = self.observer.lock().unwrap_or_else(|p| p.into_inner());
            obs.at_end(&g)
        };
        if let Err(v) = verdict {
            self.fail(v);
        }
    }

    /// Unwind with [`Aborted`] if another thread already failed this execution (std backend).
    pub(crate) fn check_aborted(&self) {
        if self.backend == Backend::Std && self.is_aborted() && !std::thread::panicking() {
            std::panic::panic_any(Aborted);
        }
    }
}

/// Apply a record's effect on lock holders, actor state and semaphore counts.
fn apply(g: &mut Ghost, actor: ActorId, kind: &RecordKind) {
    match kind {
        RecordKind::Lock(l) | RecordKind::Woke(l) => {
            g.locks[*l].holder = Some(actor);
            g.actors[actor].held |= bit(*l);
        }
        RecordKind::Unlock(l) | RecordKind::Wait(l, _) => {
            g.locks[*l].holder = None;
            g.actors[actor].held &= !bit(*l);
        }
        RecordKind::Done => g.actors[actor].done = true,
        RecordKind::Acquire(s) => {
            g.sems[*s].free -= 1;
            g.sems[*s].held += 1;
        }
        RecordKind::Release(s) => {
            g.sems[*s].free += 1;
            g.sems[*s].held -= 1;
        }
        RecordKind::Reserve(s, d) => g.sems[*s].reserved += d,
        RecordKind::Clock(t) => g.clock = *t,
        _ => {}
    }
}

fn bit(l: usize) -> u128 {
    if l < 128 {
        1u128 << l
    } else {
        0
    }
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
