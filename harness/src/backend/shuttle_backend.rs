//! shuttle: random, PCT, DFS and replay. Every `Config` field is set here; nothing is read from
//! `SHUTTLE_*` variables, and shuttle's own failure persistence is off (we record schedules).

use super::execute::{classify_panic, execute_traced, result, take_ghost, GhostSlot};
use super::panic_hook::Exploring;
use super::schedule::{decode_schedule, encode_schedule, Choice, Recording, Replaying, Tape};
use super::{Bounds, RunResult, SchedulerSpec, Subject, Verdict};
use poolcheck_models::sync::{Backend, Ghost, StepLog, ViolationPanic};
use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler, Scheduler};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

/// Stack per shuttle task: the default (60 KiB) is too small for real protocol code and dies
/// with SIGSEGV and no message.
pub const STACK_SIZE: usize = 2 << 20;

pub(super) fn run(
    subject: &Subject,
    spec: &SchedulerSpec,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let (scheduler, budget) = match shuttle_scheduler(spec) {
        Ok(s) => s,
        Err(e) => return result(Verdict::InputError(e), 0, Default::default(), None),
    };
    let backend = match spec {
        SchedulerSpec::DporReplay { .. } => Backend::Dpor,
        _ => Backend::Shuttle,
    };
    let explored = explore(subject, scheduler, backend, None, bounds, slot);
    explored.into_result(slot, |executions| {
        if dfs_cut_short(spec, executions) {
            return Some(format!(
                "DFS stopped at its bound of {executions} executions before exhausting the schedules"
            ));
        }
        budget.filter(|b| executions < *b).map(|b| {
            format!(
                "wall-time bound of {:?} hit after {executions} of {b} executions",
                bounds.wall
            )
        })
    })
}

/// How a shuttle exploration ended, before it is judged.
pub(super) struct Explored {
    outcome: std::thread::Result<()>,
    executions: u64,
    elapsed: std::time::Duration,
    choices: Vec<super::Choice>,
    /// Ghost steps taken before each preemption of the last execution.
    pub(super) preempted_at: Vec<u64>,
}

/// Run `scheduler` over shuttle's engine with the facade on `backend` until it stops.
pub(super) fn explore<S: Scheduler + 'static>(
    subject: &Subject,
    scheduler: S,
    backend: Backend,
    steps: Option<Arc<StepLog>>,
    bounds: Bounds,
    slot: &GhostSlot,
) -> Explored {
    // The `dpor` facade always has a step log, also when a replay or the minimiser runs it: its
    // deadlock check counts an actor whose pending lock or join cannot complete as blocked, so
    // without the log a deadlock is seen one decision later than dpor saw it, past the end of
    // the recorded schedule, and the replay diverges.
    let steps = steps.or_else(|| (backend == Backend::Dpor).then(|| Arc::new(StepLog::default())));
    let tape = Tape::default();
    let runner = shuttle::Runner::new(
        Recording::watching(scheduler, tape.clone(), slot.clone()),
        config(subject, bounds),
    );
    let body = {
        let (subject, slot) = (subject.clone(), (*slot).clone());
        move || execute_traced(&subject, backend, &slot, steps.clone())
    };
    let start = Instant::now();
    let outcome = {
        let _quiet = Exploring::enter();
        catch_unwind(AssertUnwindSafe(|| {
            runner.run(body);
        }))
    };
    Explored {
        outcome,
        executions: tape.executions(),
        elapsed: start.elapsed(),
        choices: tape.choices(),
        preempted_at: tape.preempted_at(),
    }
}

impl Explored {
    /// The failure the last execution stopped at: its verdict, ghost state and schedule.
    pub(super) fn failure(&self, slot: &GhostSlot) -> Option<(Verdict, Ghost, Vec<Choice>)> {
        let ghost = take_ghost(slot)?;
        let verdict = match &self.outcome {
            Ok(()) if ghost.violation.is_some() => classify_panic(&ViolationPanic, Some(&ghost)),
            Ok(()) => return None,
            Err(payload) => classify_panic(payload.as_ref(), Some(&ghost)),
        };
        Some((verdict, ghost, self.choices.clone()))
    }

    /// The verdict: a violation or panic with its schedule, else `cut_short`'s bound, else pass.
    pub(super) fn into_result(
        self,
        slot: &GhostSlot,
        cut_short: impl FnOnce(u64) -> Option<String>,
    ) -> RunResult {
        let (executions, elapsed) = (self.executions, self.elapsed);
        let stopped_at_violation = take_ghost(slot).filter(|g| g.violation.is_some());
        let failed = |verdict, ghost| {
            let mut r = result(verdict, executions, elapsed, ghost);
            r.schedule = Some(encode_schedule(&self.choices));
            r
        };
        match self.outcome {
            Ok(()) if stopped_at_violation.is_some() => {
                let ghost = stopped_at_violation;
                failed(classify_panic(&ViolationPanic, ghost.as_ref()), ghost)
            }
            Ok(()) => match cut_short(executions) {
                Some(why) => result(Verdict::BoundHit(why), executions, elapsed, None),
                None => result(Verdict::Pass, executions, elapsed, None),
            },
            Err(payload) => {
                let ghost = take_ghost(slot);
                failed(classify_panic(payload.as_ref(), ghost.as_ref()), ghost)
            }
        }
    }
}

/// The shuttle scheduler of `spec` and the number of executions it should complete (None: as
/// many as it likes); an error for a scheduler that is not shuttle's or a schedule that does not
/// decode.
pub fn shuttle_scheduler(
    spec: &SchedulerSpec,
) -> Result<(Box<dyn Scheduler + Send>, Option<u64>), String> {
    Ok(match spec {
        SchedulerSpec::Random { seed, iterations } => (
            Box::new(RandomScheduler::new_from_seed(*seed, to_usize(*iterations))),
            Some(*iterations),
        ),
        SchedulerSpec::Pct {
            seed,
            depth,
            iterations,
        } => (
            Box::new(PctScheduler::new_from_seed(
                *seed,
                *depth,
                to_usize(*iterations),
            )),
            Some(*iterations),
        ),
        SchedulerSpec::Dfs { max_iterations } => (
            Box::new(DfsScheduler::new(Some(to_usize(*max_iterations)), false)),
            None,
        ),
        SchedulerSpec::Replay { schedule } | SchedulerSpec::DporReplay { schedule } => (
            Box::new(Replaying::new(decode_schedule(schedule)?)),
            Some(1),
        ),
        other => return Err(format!("{} is not a shuttle scheduler", other.name())),
    })
}

/// DFS is exhaustive: reaching its execution bound means it did not finish.
fn dfs_cut_short(spec: &SchedulerSpec, executions: u64) -> bool {
    matches!(spec, SchedulerSpec::Dfs { max_iterations } if executions >= *max_iterations)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn config(subject: &Subject, bounds: Bounds) -> shuttle::Config {
    // Our own step bound (in the facade) fires first with a clear report; this is a backstop
    // for steps taken outside the facade.
    shuttle_config(subject.step_bound.saturating_mul(4), Some(bounds.wall))
}

/// The shuttle configuration of every exploration, every field set in code: our stack size, no
/// failure persistence (we record schedules), at most `max_steps` steps per execution, the
/// wall-time bound, no warnings, no tracing spans.
pub fn shuttle_config(max_steps: u64, max_time: Option<std::time::Duration>) -> shuttle::Config {
    let mut c = shuttle::Config::new();
    c.stack_size = STACK_SIZE;
    c.failure_persistence = shuttle::FailurePersistence::None;
    c.max_steps = shuttle::MaxSteps::FailAfter(to_usize(max_steps));
    c.max_time = max_time;
    c.silence_warnings = true;
    c.record_steps_in_span = false;
    c
}
