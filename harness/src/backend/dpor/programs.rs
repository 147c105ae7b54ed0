//! Exploring a whole tree without stopping at the first violation: what the soundness tests
//! compare between the reduced and the unreduced search, for scenarios and for small programs
//! written directly against the facade.

use super::{DporScheduler, DporStats, Ended, Explorer, Reduction};
use crate::backend::execute::{execute_traced, take_ghost, GhostSlot};
use crate::backend::panic_hook::Exploring;
use crate::backend::Subject;
use crate::monitor::MonitorSet;
use poolcheck_models::sync::{
    install_traced, Backend, Ghost, Observer, Record, StepLog, Violation,
};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

/// How to explore.
#[derive(Clone, Copy, Debug)]
pub struct ExploreOptions {
    /// Reduced or not (or deliberately broken).
    pub reduction: Reduction,
    /// Preemptions per execution, if bounded.
    pub preemption_bound: Option<usize>,
    /// Executions at most.
    pub max_executions: u64,
    /// Scheduling steps per execution at most.
    pub step_bound: u64,
    /// Give every judged record the one ghost object (ignore what monitors say they read):
    /// the reference the monitors' finer objects are checked against.
    pub one_ghost_object: bool,
}

impl ExploreOptions {
    /// Unbounded, with `reduction`, at most a million executions of 10,000 steps.
    pub fn new(reduction: Reduction) -> Self {
        ExploreOptions {
            reduction,
            preemption_bound: None,
            max_executions: 1_000_000,
            step_bound: 10_000,
            one_ghost_object: false,
        }
    }
}

/// Everything one whole exploration reached.
#[derive(Debug, Default)]
pub struct Exploration {
    /// Executions, cut-offs, exhaustion.
    pub stats: DporStats,
    /// The Mazurkiewicz trace of every complete execution (see [`Explorer::trace_signature`]),
    /// with repetitions counted in `complete`.
    pub traces: BTreeSet<String>,
    /// Complete executions.
    pub complete: u64,
    /// Each complete execution's verdict and final ghost state (see `final_state`).
    pub outcomes: BTreeSet<(String, String)>,
}

/// Explore `subject` to the end, continuing past violations.
pub fn explore_subject(subject: &Subject, options: ExploreOptions) -> Exploration {
    let subject = subject.clone();
    if !options.one_ghost_object {
        return explore(options, move |slot, steps| {
            execute_traced(&subject, Backend::Dpor, slot, Some(steps))
        });
    }
    explore(options, move |slot, steps| {
        let monitors = OneGhostObject(subject.monitors());
        let (exec, _guard) = install_traced(
            Backend::Dpor,
            Box::new(monitors),
            subject.step_bound,
            "main",
            Some(steps),
        );
        slot.register(&exec);
        subject.run_program();
        exec.finish();
    })
}

/// The monitors with the observer's default ghost objects (one for every judged record).
struct OneGhostObject(MonitorSet);

impl Observer for OneGhostObject {
    fn on_record(&mut self, ghost: &Ghost, rec: &Record) -> Result<(), Violation> {
        self.0.on_record(ghost, rec)
    }
    fn at_end(&mut self, ghost: &Ghost) -> Result<(), Violation> {
        self.0.at_end(ghost)
    }
}

/// Explore `program`, which runs as the main actor of an execution with no invariants.
pub fn explore_program(
    options: ExploreOptions,
    program: impl Fn() + Send + Sync + 'static,
) -> Exploration {
    let bound = options.step_bound;
    explore(options, move |slot, steps| {
        let (exec, _guard) = install_traced(
            Backend::Dpor,
            Box::new(NoInvariants),
            bound,
            "main",
            Some(steps),
        );
        slot.register(&exec);
        program();
        exec.finish();
    })
}

fn explore(
    options: ExploreOptions,
    body: impl Fn(&GhostSlot, Arc<StepLog>) + Send + Sync + 'static,
) -> Exploration {
    let steps = Arc::new(StepLog::default());
    let stats = Rc::new(RefCell::new(DporStats::default()));
    let found = Rc::new(RefCell::new(Exploration::default()));
    let slot = GhostSlot::default();
    let hook = {
        let (found, slot) = (found.clone(), slot.clone());
        Box::new(move |explorer: &Explorer, how: Ended| {
            if how == Ended::Complete {
                let mut f = found.borrow_mut();
                f.complete += 1;
                f.traces.insert(explorer.trace_signature());
                if let Some(g) = take_ghost(&slot) {
                    f.outcomes.insert(final_state(&g));
                }
            }
        })
    };
    let scheduler = DporScheduler::new(
        Explorer::new(options.reduction, options.preemption_bound),
        steps.clone(),
        options.max_executions,
        stats.clone(),
    )
    .on_end(hook);
    let mut config = shuttle::Config::new();
    config.stack_size = 2 << 20;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    let runner = shuttle::Runner::new(scheduler, config);
    let run = {
        let slot = slot.clone();
        move || body(&slot, steps.clone())
    };
    let outcome = {
        let _quiet = Exploring::enter();
        catch_unwind(AssertUnwindSafe(|| {
            runner.run(run);
        }))
    };
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
    let mut out = std::mem::take(&mut *found.borrow_mut());
    out.stats = std::mem::take(&mut *stats.borrow_mut());
    out
}

/// A verdict and a final state that does not depend on the order of independent steps: the
/// first violated invariant (or `pass`), and each actor's own sequence of records.
pub fn final_state(g: &Ghost) -> (String, String) {
    let verdict = g
        .violation
        .as_ref()
        .map_or("pass".to_owned(), |v| v.invariant.clone());
    let mut per_actor = vec![Vec::new(); g.actors.len()];
    for r in &g.log {
        per_actor[r.actor].push(format!("{:?}", r.kind));
    }
    let state = per_actor
        .iter()
        .enumerate()
        .map(|(a, kinds)| format!("{a}: {}", kinds.join(" ")))
        .collect::<Vec<_>>()
        .join("\n");
    (verdict, state)
}

struct NoInvariants;

impl Observer for NoInvariants {
    fn on_record(&mut self, _: &Ghost, _: &Record) -> Result<(), Violation> {
        Ok(())
    }
    fn at_end(&mut self, _: &Ghost) -> Result<(), Violation> {
        Ok(())
    }
}
