//! One execution of a subject, the same for every backend, and the classification of how an
//! exploration stopped.

use super::DEADLINE_EVERY;
use super::{Coverage, CoverageSummary, RunResult, Verdict};
use crate::monitor::{CustomMonitor, MonitorSet};
use poolcheck_models::model::{Model, ScenarioSpec};
use poolcheck_models::sync::{
    deadlock_violation, install_traced, Backend, Exec, Ghost, Observer, Record, RecordKind,
    StepLog, Violation, ViolationPanic, SCHEDULER_DEADLOCK,
};
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// What is explored: a program (a model's scenario, or a closure), the invariants to check and
/// the step bound.
#[derive(Clone)]
pub struct Subject {
    /// What runs on the main actor of every execution.
    pub program: Program,
    /// The built-in invariants checked, by name (see [`crate::monitor::registry`]).
    pub invariants: Arc<Vec<String>>,
    /// Invariants defined outside poolcheck, checked after the built-in ones.
    pub custom: Arc<Vec<CustomMonitor>>,
    /// Scheduling steps allowed per execution.
    pub step_bound: u64,
}

/// What one execution runs on its main actor.
#[derive(Clone)]
pub enum Program {
    /// One variant of a model on a scenario's configuration and actors.
    Model {
        /// The model.
        model: &'static dyn Model,
        /// Configuration and actors.
        spec: Arc<ScenarioSpec>,
        /// The variant's name.
        variant: String,
    },
    /// A closure written against the sync facade (the library API: `poolcheck::Builder`).
    Closure(Arc<dyn Fn() + Send + Sync>),
}

impl Subject {
    /// `variant` of `model` on `spec`, checking the named built-in invariants.
    pub fn of_model(
        model: &'static dyn Model,
        spec: Arc<ScenarioSpec>,
        variant: &str,
        invariants: Arc<Vec<String>>,
        step_bound: u64,
    ) -> Self {
        Subject {
            program: Program::Model {
                model,
                spec,
                variant: variant.to_owned(),
            },
            invariants,
            custom: Arc::default(),
            step_bound,
        }
    }

    /// Run the program once on the current (main) actor of an installed execution.
    pub(crate) fn run_program(&self) {
        match &self.program {
            Program::Model {
                model,
                spec,
                variant,
            } => model.run(spec, variant),
            Program::Closure(body) => body(),
        }
    }

    /// Fresh monitors for one execution.
    pub(crate) fn monitors(&self) -> MonitorSet {
        MonitorSet::with_custom(&self.invariants, &self.custom)
    }
}

/// The latest execution's ghost state (kept outside the scheduler so it survives unwinding) and
/// a weak handle on the execution itself (so a watchdog can abort it without keeping scheduler
/// objects alive past their execution).
#[derive(Clone, Default)]
pub(crate) struct GhostSlot(
    Arc<Mutex<Option<SlotEntry>>>,
    Arc<Mutex<Coverage>>,
    Option<Instant>,
);

type SlotEntry = (Arc<Mutex<Ghost>>, Weak<Exec>, Arc<AtomicBool>);

/// Run one execution on the current thread, inside a scheduler's model closure.
pub(crate) fn execute_once(subject: &Subject, backend: Backend, slot: &GhostSlot) {
    execute_traced(subject, backend, slot, None);
}

/// [`execute_once`], reporting step footprints to `steps` (the `dpor` scheduler's input).
pub(crate) fn execute_traced(
    subject: &Subject,
    backend: Backend,
    slot: &GhostSlot,
    steps: Option<Arc<StepLog>>,
) {
    let monitors = subject.monitors();
    let observer: Box<dyn Observer> = match slot.2 {
        Some(deadline) => Box::new(Deadline::new(monitors, deadline)),
        None => Box::new(monitors),
    };
    let (exec, _guard) = install_traced(backend, observer, subject.step_bound, "main", steps);
    slot.register(&exec);
    subject.run_program();
    exec.finish();
    let ghost = exec.ghost();
    let ghost = ghost.lock().unwrap_or_else(|p| p.into_inner());
    slot.1.lock().unwrap_or_else(|p| p.into_inner()).add(&ghost);
}

/// The monitors, plus the exploration's wall-time bound checked inside the execution: every
/// [`DEADLINE_EVERY`] records the clock is compared with the deadline, and past it the
/// execution stops with `bound-hit`. The clock decides only *whether* to stop, never what a
/// monitor sees or how the schedule goes, so a run that finishes in time is unaffected.
struct Deadline {
    monitors: MonitorSet,
    deadline: Instant,
    records: u64,
    next_check: u64,
}

impl Deadline {
    fn new(monitors: MonitorSet, deadline: Instant) -> Self {
        Deadline {
            monitors,
            deadline,
            records: 0,
            next_check: DEADLINE_EVERY,
        }
    }
}

impl Observer for Deadline {
    fn ghost_objects(&self, kind: &RecordKind, touch: &mut dyn FnMut(u64)) {
        self.monitors.ghost_objects(kind, touch);
    }

    fn ghost_name(&self, k: u64) -> String {
        self.monitors.ghost_name(k)
    }

    fn on_record(&mut self, ghost: &Ghost, rec: &Record) -> Result<(), Violation> {
        self.records += 1;
        let due = self.records >= self.next_check;
        if due {
            self.next_check = self.records + DEADLINE_EVERY;
        }
        if due && Instant::now() >= self.deadline {
            return Err(Violation {
                invariant: "bound-hit".into(),
                message: format!(
                    "the wall-time bound ran out inside an execution, after {} records (raise \
                     --max-seconds, or lower the scenario's `step_bound` or budget)",
                    self.records
                ),
                actor: Some(rec.actor),
                seq: rec.seq,
            });
        }
        self.monitors.on_record(ghost, rec)
    }

    fn at_end(&mut self, ghost: &Ghost) -> Result<(), Violation> {
        self.monitors.at_end(ghost)
    }
}

impl GhostSlot {
    /// An empty slot whose executions stop with `bound-hit` once `deadline` has passed.
    pub(crate) fn with_deadline(deadline: Instant) -> Self {
        GhostSlot(Arc::default(), Arc::default(), Some(deadline))
    }

    /// Make `exec` the slot's current execution.
    pub(crate) fn register(&self, exec: &Arc<Exec>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((exec.ghost(), Arc::downgrade(exec), exec.abort_flag()));
    }

    /// Has the current execution found a violation (and asked the scheduler to stop)?
    pub(crate) fn stop_requested(&self) -> bool {
        let entry = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entry
            .as_ref()
            .is_some_and(|(_, _, flag)| flag.load(Ordering::SeqCst))
    }

    /// Scheduling steps the current execution has taken (0 before it starts).
    pub(crate) fn steps(&self) -> u64 {
        self.with_ghost(|g| g.steps).unwrap_or(0)
    }

    /// Look at the current execution's ghost state in place (`None` before it starts), without
    /// copying its log.
    pub(crate) fn with_ghost<R>(&self, look: impl FnOnce(&Ghost) -> R) -> Option<R> {
        let entry = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (g, _, _) = entry.as_ref()?;
        let ghost = g.lock().unwrap_or_else(|p| p.into_inner());
        Some(look(&ghost))
    }

    /// A fresh slot for another execution that adds to the same coverage.
    pub(crate) fn sharing_coverage(&self) -> Self {
        GhostSlot(Arc::default(), self.1.clone(), self.2)
    }
}

/// The race-window coverage of every completed execution so far.
pub(crate) fn coverage(slot: &GhostSlot) -> CoverageSummary {
    slot.1.lock().unwrap_or_else(|p| p.into_inner()).summary()
}

/// A copy of the latest execution's ghost state.
pub(crate) fn take_ghost(slot: &GhostSlot) -> Option<Ghost> {
    let (g, _, _) = slot.0.lock().unwrap_or_else(|p| p.into_inner()).clone()?;
    let ghost = g.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Some(ghost)
}

/// The execution in the slot, if it is still running.
pub(crate) fn current_exec(slot: &GhostSlot) -> Option<Arc<Exec>> {
    let (_, exec, _) = slot.0.lock().unwrap_or_else(|p| p.into_inner()).clone()?;
    exec.upgrade()
}

/// Turn a panic out of a scheduler into a verdict, using the ghost state of the failing execution.
pub(crate) fn classify_panic(payload: &(dyn Any + Send), ghost: Option<&Ghost>) -> Verdict {
    if let Some(v) = ghost.and_then(|g| g.violation.clone()) {
        return if v.invariant == "bound-hit" {
            Verdict::BoundHit(v.message)
        } else {
            Verdict::Violation(v)
        };
    }
    let text = panic_text(payload);
    if text.contains("deadlock") {
        return Verdict::Violation(deadlock_violation(ghost, SCHEDULER_DEADLOCK));
    }
    if text.contains("max_steps") || text.contains("step bound") {
        return Verdict::BoundHit(format!("scheduler step bound: {text}"));
    }
    if text.contains("exceeded maximum number of branches") || text.contains("max_branches") {
        return Verdict::BoundHit(format!("loom branch bound: {text}"));
    }
    if text.starts_with(DIVERGED) {
        return Verdict::InputError(format!(
            "{text} (the schedule does not fit this scenario: edited, or recorded before the \
             model changed)"
        ));
    }
    if text.contains("self.threads.len() < self.max()") {
        return Verdict::InputError(
            "loom runs at most 4 spawned actors per execution (5 threads with main): drop \
             [schedulers.loom] from this scenario or use fewer actors"
                .into(),
        );
    }
    if payload.is::<ViolationPanic>() {
        return Verdict::ModelPanic("violation raised without a recorded violation".into());
    }
    Verdict::ModelPanic(text)
}

/// How a replayed schedule's panic starts when it does not fit the execution.
pub(crate) const DIVERGED: &str = "schedule diverged";

/// The panic message, when there is one.
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Assemble a result.
pub(crate) fn result(
    verdict: Verdict,
    executions: u64,
    elapsed: Duration,
    ghost: Option<Ghost>,
) -> RunResult {
    let ghost = if matches!(verdict, Verdict::Pass) {
        None
    } else {
        ghost
    };
    RunResult {
        verdict,
        executions,
        elapsed,
        schedule: None,
        loom_checkpoint: None,
        simplest: None,
        ghost,
        coverage: CoverageSummary::default(),
        proof: None,
        races: None,
    }
}
