//! `dpor`: stateless model checking with dynamic partial-order reduction, on shuttle's engine.
//!
//! The facade runs on [`Backend::Dpor`]: it keeps lock and condition-variable state itself (so it
//! knows who is blocked) and reports every step's footprint to a [`StepLog`]. A step is what an
//! actor runs from one facade scheduling point to the next; shuttle's own switches inside a
//! primitive (an unpark, a join of a finished actor) are not decisions, so the scheduler keeps
//! running the current actor there. At each decision [`Explorer`] chooses among the actors that
//! are not parked, preferring the one that ran last (no preemption).
//!
//! Completeness: with no preemption bound the search covers every Mazurkiewicz trace of the
//! steps (every execution up to reordering independent steps), so a pass is `exhaustive`. With
//! a bound only executions with at most that many preemptions are run; DPOR's backtrack points
//! and a bound interact (Coons, Musuvathi, McKinley, OOPSLA 2013), so we add their conservative
//! backtrack points but claim no more than "every explored execution is within the bound":
//! such a pass is `bounded at preemption bound B`, never `exhaustive`.

mod explorer;
mod programs;
mod races;
mod tally;

pub use explorer::{Decision, DecisionState, Explorer, RaceSeen, Reduction};
pub use programs::{explore_program, explore_subject, Exploration, ExploreOptions};
pub use tally::{ObjectRaces, RaceTally};

use super::execute::GhostSlot;
use super::shuttle_backend::explore;
use super::{Bounds, Proof, RunResult, Subject};
use poolcheck_models::sync::{Backend, StepLog};
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// How one dpor exploration ended, beyond its verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DporStats {
    /// Executions started.
    pub executions: u64,
    /// Of those, stopped because every enabled actor slept (equivalent to an explored one).
    pub sleep_blocked: u64,
    /// Of those, stopped at the preemption bound.
    pub over_bound: u64,
    /// The tree was explored to the end.
    pub exhausted: bool,
    /// The bound dropped some backtrack point.
    pub pruned_by_bound: bool,
    /// Where the races were (see [`RaceTally`]).
    pub races: RaceTally,
}

/// Explore `subject` with dpor.
pub(super) fn run(
    subject: &Subject,
    bound: Option<usize>,
    max_executions: u64,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let steps = Arc::new(StepLog::default());
    let stats = Rc::new(RefCell::new(DporStats::default()));
    let scheduler = DporScheduler::new(
        Explorer::new(Reduction::Source, bound),
        steps.clone(),
        max_executions,
        stats.clone(),
    );
    let explored = explore(subject, scheduler, Backend::Dpor, Some(steps), bounds, slot);
    let stats = std::mem::take(&mut *stats.borrow_mut());
    let mut r = explored.into_result(slot, |n| cut_short(&stats, n, max_executions, bounds));
    r.proof = Some(
        match (bound, stats.pruned_by_bound || stats.over_bound > 0) {
            (Some(b), true) => Proof::Bounded(b),
            _ => Proof::Exhaustive,
        },
    );
    r.races = Some(stats.races);
    r
}

fn cut_short(stats: &DporStats, n: u64, max: u64, bounds: Bounds) -> Option<String> {
    if stats.exhausted {
        return None;
    }
    Some(if n >= max {
        format!("dpor stopped at its bound of {max} executions before exhausting the tree")
    } else {
        format!(
            "wall-time bound of {:?} hit after {n} dpor executions",
            bounds.wall
        )
    })
}

/// Called when an execution ends, with the explorer (its path and footprints are still there).
pub type EndHook = Box<dyn FnMut(&Explorer, Ended)>;

/// How an execution ended, for an [`EndHook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It ran to its end (possibly having failed at a violation).
    Complete,
    /// It was cut off: sleep-set blocked or over the preemption bound.
    CutOff,
}

/// The shuttle scheduler that drives an [`Explorer`] with the facade's step footprints.
pub struct DporScheduler {
    explorer: Explorer,
    steps: Arc<StepLog>,
    max_executions: u64,
    stats: Rc<RefCell<DporStats>>,
    running: bool,
    cut_off: bool,
    on_end: Option<EndHook>,
}

impl DporScheduler {
    /// Drive `explorer` with the footprints the facade writes to `steps`; stop after
    /// `max_executions`; report into `stats`.
    pub fn new(
        explorer: Explorer,
        steps: Arc<StepLog>,
        max_executions: u64,
        stats: Rc<RefCell<DporStats>>,
    ) -> Self {
        DporScheduler {
            explorer,
            steps,
            max_executions,
            stats,
            running: false,
            cut_off: false,
            on_end: None,
        }
    }

    /// Call `hook` at the end of every execution.
    pub fn on_end(mut self, hook: EndHook) -> Self {
        self.on_end = Some(hook);
        self
    }

    fn end_execution(&mut self) {
        // A cut-off happens at a decision, which has already closed the last step: taking the
        // log again would overwrite its footprint with the empty one of the step not taken.
        let last = (!self.cut_off).then(|| self.steps.take().footprint);
        let seen = self.explorer.end_execution(last);
        let steps = &self.steps;
        self.stats
            .borrow_mut()
            .races
            .add(&seen, |object| steps.name_of(object));
        if let Some(hook) = &mut self.on_end {
            let how = if self.cut_off {
                Ended::CutOff
            } else {
                Ended::Complete
            };
            hook(&self.explorer, how);
        }
    }

    /// The actors that can take a step: not parked, and their pending operation can complete.
    /// Shuttle's task ids are the facade's actor ids (both count spawns from main = 0). When
    /// none can, one runs anyway: its attempt parks it and the facade reports the deadlock.
    fn enabled(&self, runnable: &[&Task]) -> Vec<usize> {
        let unparked: Vec<usize> = runnable
            .iter()
            .filter(|t| t.runnable())
            .map(|t| usize::from(t.id()))
            .collect();
        let can: Vec<usize> = unparked
            .iter()
            .copied()
            .filter(|&a| self.steps.can_run(a))
            .collect();
        if can.is_empty() {
            unparked.into_iter().take(1).collect()
        } else {
            can
        }
    }

    fn decision_state(&self, enabled: &[usize]) -> DecisionState {
        DecisionState {
            held: self.steps.held_locks(),
            pending: enabled
                .iter()
                .filter_map(|&a| self.steps.pending_of(a).map(|p| (a, p)))
                .collect(),
        }
    }

    fn stop(&mut self, decision: &Decision) -> Option<TaskId> {
        self.cut_off = true;
        self.steps.halt();
        let mut s = self.stats.borrow_mut();
        match decision {
            Decision::SleepBlocked => s.sleep_blocked += 1,
            Decision::OverBound => s.over_bound += 1,
            Decision::Run(_) => unreachable!("not a stop"),
        }
        None
    }
}

impl Scheduler for DporScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        if std::mem::replace(&mut self.running, false) {
            self.end_execution();
            let more = self.explorer.next_execution();
            let mut s = self.stats.borrow_mut();
            s.pruned_by_bound = self.explorer.pruned_by_bound();
            if !more {
                s.exhausted = true;
                return None;
            }
            if s.executions >= self.max_executions {
                return None;
            }
        }
        self.stats.borrow_mut().executions += 1;
        self.explorer.restart();
        self.steps.reset();
        self.running = true;
        self.cut_off = false;
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        _yielding: bool,
    ) -> Option<TaskId> {
        let enabled = self.enabled(runnable);
        if self.steps.failed() {
            self.steps.halt();
            return None; // a violation: the execution ends here, the exploration goes on
        }
        let current = current.map(usize::from);
        let continues = current.filter(|c| enabled.contains(c));
        if continues.is_some() && !self.steps.announced() {
            return continues.map(TaskId::from);
        }
        let ended = current.map(|_| self.steps.take().footprint);
        let state = self.decision_state(&enabled);
        match self.explorer.decide(&enabled, ended, state) {
            Ok(Decision::Run(t)) => Some(TaskId::from(t)),
            Ok(stop) => self.stop(&stop),
            Err(nondeterminism) => {
                self.steps.halt();
                panic!("{nondeterminism}")
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        // Models draw no random values; a constant keeps any that do deterministic.
        0
    }
}
