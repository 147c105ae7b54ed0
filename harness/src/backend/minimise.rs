//! The simplest counterexample: before a counterexample is reported, look for one that violates
//! the same invariant with fewer preemptions, then fewer steps.
//!
//! A **preemption** is a switch away from a task that could have continued (it neither blocked,
//! yielded nor finished) that shows in the interleaving: under shuttle, step `n + 1` is another
//! actor's than step `n` (a switch and back inside one of shuttle's primitives is none); under
//! loom, loom's own count. A **step** is one scheduling point of the ghost log. Counterexamples are
//! ordered by (preemptions, steps). [`simplest`] is called once, where [`super::run`] finalises a
//! result, so every exploring scheduler goes through it; replays are left as they are (a replay
//! shows exactly the execution it was given) but still get their counts.
//!
//! - **shuttle schedules** (random, PCT, DFS, and any scheduler that records a `pc1:` schedule):
//!   the failing execution is turned into a *plan*, the actor of each step, and the plan is
//!   edited and re-run under [`Guided`], a shuttle scheduler that runs the planned actor of the
//!   next step when it can and otherwise keeps the running task (no preemption of its own).
//!   Edits: for each preemption, run the preempted actor's next block right away ("pull
//!   forward"), or stop following the plan there and finish without preemptions; then, to
//!   shorten, drop one block of the plan (its actor runs later). Every re-run is recorded, and a
//!   candidate is kept only if it violates the same invariant and is simpler by measurement, so
//!   an edit that does not fit is simply discarded. The first improvement restarts the edits
//!   (hill climbing), within [`MINIMISE_BUDGET`] re-executions. Deterministic: no randomness,
//!   candidates in a fixed order.
//! - **loom**: iterative bounding. loom's first failure at bound B may use up to B preemptions;
//!   loom at each lower bound b = 0, 1, ... B-1 explores every execution with at most b
//!   preemptions (within [`LOOM_BUDGET`] executions), so the first bound that fails gives the
//!   fewest preemptions loom can show. Its checkpoint is captured as usual, so `replay` keeps
//!   reproducing loom counterexamples with loom. loom's steps are reported, not minimised.
//! - **std threads**: the steps are reported; there is no schedule to minimise.

use super::execute::{take_ghost, GhostSlot};
use super::loom_backend::{self, checkpoint_preemptions, Exploration};
use super::schedule::{decode_schedule, encode_schedule, Choice};
use super::shuttle_backend::explore;
use super::{Bounds, RunResult, SchedulerSpec, Subject, Verdict};
use poolcheck_models::sync::{ActorId, Backend, Ghost, RecordKind};
use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::collections::VecDeque;

/// Re-executions a shuttle counterexample may spend on getting simpler.
pub const MINIMISE_BUDGET: u64 = 120;

/// Executions loom may spend on lower preemption bounds.
const LOOM_BUDGET: u64 = 3_000;

/// How simple a counterexample is: compared by preemptions, then steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Counts {
    /// Switches away from a task that could have continued (`None`: unknown, std threads).
    pub preemptions: Option<u32>,
    /// Scheduling steps of the failing execution.
    pub steps: u64,
}

/// The counts of a reported counterexample and of the one first found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simplest {
    /// The reported counterexample.
    pub counts: Counts,
    /// The counterexample the scheduler first found (equal when nothing simpler was found).
    pub found: Counts,
    /// Executions spent looking for a simpler one.
    pub reexecutions: u64,
}

/// Make `r`'s counterexample the simplest found and record its counts. A no-op for runs without
/// a failing execution.
pub fn simplest(subject: &Subject, spec: &SchedulerSpec, bounds: Bounds, r: &mut RunResult) {
    let Some(steps) = r.ghost.as_ref().map(|g| g.steps) else {
        return;
    };
    let invariant = match &r.verdict {
        Verdict::Violation(v) => Some(v.invariant.clone()),
        _ => None,
    };
    let found = Counts {
        preemptions: None,
        steps,
    };
    r.simplest = Some(Simplest {
        counts: found,
        found,
        reexecutions: 0,
    });
    match spec {
        SchedulerSpec::Loom {
            preemption_bound,
            max_branches,
            ..
        } => loom(
            subject,
            *preemption_bound,
            *max_branches,
            bounds,
            r,
            invariant,
        ),
        SchedulerSpec::LoomReplay { .. } => {
            let p = r
                .loom_checkpoint
                .as_deref()
                .and_then(checkpoint_preemptions);
            set_found(r, p);
        }
        SchedulerSpec::Std { .. } => {}
        SchedulerSpec::Replay { .. } => shuttle(subject, Backend::Shuttle, bounds, r, None),
        SchedulerSpec::DporReplay { .. } => shuttle(subject, Backend::Dpor, bounds, r, None),
        SchedulerSpec::Dpor { .. } => shuttle(subject, Backend::Dpor, bounds, r, invariant),
        _ => shuttle(subject, Backend::Shuttle, bounds, r, invariant),
    }
}

fn set_found(r: &mut RunResult, preemptions: Option<u32>) {
    if let Some(s) = &mut r.simplest {
        s.found.preemptions = preemptions;
        s.counts = s.found;
    }
}

// ---------------------------------------------------------------------------------------------
// shuttle

/// One re-execution of a plan.
struct Attempt {
    verdict: Verdict,
    ghost: Ghost,
    choices: Vec<Choice>,
    /// Ghost steps taken before each preemption.
    preempted_at: Vec<u64>,
    counts: Counts,
}

impl Attempt {
    fn violates(&self, invariant: &str) -> bool {
        matches!(&self.verdict, Verdict::Violation(v) if v.invariant == invariant)
    }

    /// The actor of each step.
    fn plan(&self) -> Vec<ActorId> {
        plan_of(&self.ghost)
    }
}

/// The actor of each step of an execution.
fn plan_of(g: &Ghost) -> Vec<ActorId> {
    g.log
        .iter()
        .filter(|r| r.kind.is_step())
        .map(|r| r.actor)
        .collect()
}

/// Measure the recorded schedule; with an invariant, look for a simpler schedule violating it.
fn shuttle(
    subject: &Subject,
    backend: Backend,
    bounds: Bounds,
    r: &mut RunResult,
    invariant: Option<String>,
) {
    let Some(choices) = r.schedule.as_deref().and_then(|s| decode_schedule(s).ok()) else {
        return;
    };
    let randoms: Vec<u64> = choices
        .iter()
        .filter_map(|c| match c {
            Choice::Random(v) => Some(*v),
            Choice::Task(_) => None,
        })
        .collect();
    let replaying = |_: &GhostSlot| -> Box<dyn Scheduler + Send> {
        Box::new(super::schedule::Replaying::new(choices))
    };
    let Some(raw) = attempt(subject, backend, bounds, replaying) else {
        return;
    };
    let found = raw.counts;
    let Some(invariant) = invariant.filter(|i| raw.violates(i)) else {
        set_found(r, found.preemptions);
        return;
    };
    let mut spent = 1;
    let mut best = raw;
    let mut first = Some(best.plan());
    'climb: loop {
        // The plan as it is first: following it step by step drops the switches the scheduler
        // made between two steps and back.
        let plans = first.take().into_iter();
        for plan in plans.chain(candidates(&best.plan(), &best.preempted_at)) {
            if spent >= MINIMISE_BUDGET {
                break 'climb;
            }
            spent += 1;
            let guided = |slot: &GhostSlot| -> Box<dyn Scheduler + Send> {
                Box::new(Guided::new(plan, &randoms, slot.clone()))
            };
            match attempt(subject, backend, bounds, guided) {
                Some(a) if a.violates(&invariant) && a.counts < best.counts => {
                    best = a;
                    continue 'climb;
                }
                _ => {}
            }
        }
        break;
    }
    r.simplest = Some(Simplest {
        counts: best.counts,
        found,
        reexecutions: spent,
    });
    if best.counts < found {
        r.schedule = Some(encode_schedule(&best.choices));
        r.verdict = best.verdict;
        r.ghost = Some(best.ghost);
    }
}

/// Run one execution under the scheduler `make` builds for a fresh slot, with the facade on
/// `backend`; `None` if it did not fail.
fn attempt(
    subject: &Subject,
    backend: Backend,
    bounds: Bounds,
    make: impl FnOnce(&GhostSlot) -> Box<dyn Scheduler + Send>,
) -> Option<Attempt> {
    let slot = GhostSlot::default();
    let explored = explore(subject, make(&slot), backend, None, bounds, &slot);
    let (verdict, ghost, choices) = explored.failure(&slot)?;
    let preempted_at = step_preemptions(&plan_of(&ghost), &explored.preempted_at);
    let counts = Counts {
        preemptions: Some(u32::try_from(preempted_at.len()).unwrap_or(u32::MAX)),
        steps: ghost.steps,
    };
    Some(Attempt {
        verdict,
        ghost,
        choices,
        preempted_at,
        counts,
    })
}

/// The preemptions that show between steps: positions `n` where the recording saw a switch away
/// from a task that could go on and step `n + 1` is another actor's than step `n`. A switch and
/// a switch back before the other task took a step (shuttle switches inside its primitives) is
/// no preemption of the interleaving; several switches before one step are one.
fn step_preemptions(plan: &[ActorId], preempted_at: &[u64]) -> Vec<u64> {
    let mut out: Vec<u64> = preempted_at
        .iter()
        .copied()
        .filter(|&at| {
            let n = usize::try_from(at).unwrap_or(usize::MAX);
            n > 0 && n < plan.len() && plan[n - 1] != plan[n]
        })
        .collect();
    out.dedup();
    out
}

/// The edited plans to try, in a fixed order: for each preemption, latest first, pull the
/// preempted actor's next block forward; the same at every other block boundary; for each
/// preemption, let the preempted actor run all its remaining steps first; drop each block; then,
/// at each preemption and then each other block boundary, stop following the plan there.
fn candidates(plan: &[ActorId], preempted_at: &[u64]) -> Vec<Vec<ActorId>> {
    let cuts: Vec<usize> = preempted_at
        .iter()
        .rev()
        .filter_map(|&at| usize::try_from(at).ok())
        .filter(|&n| n > 0 && n < plan.len())
        .collect();
    let blocks = blocks(plan);
    // A switch the recording did not flag (it came between two decisions of one step) may be a
    // preemption too.
    let others: Vec<usize> = blocks
        .iter()
        .rev()
        .map(|&(start, _)| start)
        .filter(|&n| n > 0 && !cuts.contains(&n))
        .collect();
    let mut out: Vec<Vec<ActorId>> = cuts.iter().filter_map(|&n| pull_forward(plan, n)).collect();
    out.extend(others.iter().filter_map(|&n| pull_forward(plan, n)));
    out.extend(cuts.iter().map(|&n| run_on(plan, n)));
    for &(start, end) in &blocks {
        let mut p = plan[..start].to_vec();
        p.extend_from_slice(&plan[end..]);
        out.push(p);
    }
    out.extend(cuts.iter().chain(&others).map(|&n| plan[..n].to_vec()));
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| p.as_slice() != plan && seen.insert(p.clone()));
    out
}

/// The plan with every remaining step of `plan[n - 1]`'s actor moved to position `n`, the
/// others' steps after them in their order.
fn run_on(plan: &[ActorId], n: usize) -> Vec<ActorId> {
    let a = plan[n - 1];
    let mut p = plan[..n].to_vec();
    p.extend(plan[n..].iter().filter(|x| **x == a));
    p.extend(plan[n..].iter().filter(|x| **x != a));
    p
}

/// The plan with the block of `plan[n - 1]`'s actor that comes next moved to position `n`:
/// `A1 B1 A2` becomes `A1 A2 B1`.
fn pull_forward(plan: &[ActorId], n: usize) -> Option<Vec<ActorId>> {
    let a = plan[n - 1];
    let j = n + plan[n..].iter().position(|x| *x == a)?;
    let e = j + plan[j..].iter().take_while(|x| **x == a).count();
    let mut p = plan[..n].to_vec();
    p.extend_from_slice(&plan[j..e]);
    p.extend_from_slice(&plan[n..j]);
    p.extend_from_slice(&plan[e..]);
    Some(p)
}

/// Maximal runs of one actor, as `(start, end)`.
fn blocks(plan: &[ActorId]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=plan.len() {
        if i == plan.len() || plan[i] != plan[start] {
            out.push((start, i));
            start = i;
        }
    }
    out
}

/// A shuttle scheduler that follows a plan of actors per ghost step: before step `n + 1` it runs
/// `plan[n]` if that actor's task can run, and otherwise (or once the plan is used up) keeps the
/// running task, or, if that cannot run, the runnable task with the lowest id. Actor `i` is
/// shuttle task `i`: both number the main thread 0 and spawned actors in spawn order.
struct Guided {
    plan: Vec<ActorId>,
    randoms: VecDeque<u64>,
    slot: GhostSlot,
    started: bool,
}

impl Guided {
    fn new(plan: Vec<ActorId>, randoms: &[u64], slot: GhostSlot) -> Self {
        Guided {
            plan,
            randoms: randoms.iter().copied().collect(),
            slot,
            started: false,
        }
    }
}

impl Guided {
    /// The actor that recorded spawning `task`, if `task` has not been created yet.
    fn spawner(&self, task: TaskId) -> Option<TaskId> {
        let ghost = take_ghost(&self.slot)?;
        let a = usize::from(task);
        let spawned = ghost.log.iter().find(|r| r.kind == RecordKind::Spawn(a))?;
        (ghost.actors.len() > a).then(|| TaskId::from(spawned.actor))
    }
}

impl Scheduler for Guided {
    fn new_execution(&mut self) -> Option<Schedule> {
        if std::mem::replace(&mut self.started, true) {
            return None;
        }
        Some(Schedule::new(0))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        let n = usize::try_from(self.slot.steps()).unwrap_or(usize::MAX);
        let can_run = |t: TaskId| runnable.iter().any(|r| r.id() == t);
        if let Some(want) = self.plan.get(n).map(|a| TaskId::from(*a)) {
            if can_run(want) {
                return Some(want);
            }
            // Not spawned yet: the facade records the spawn before it creates the task, so the
            // spawner runs on until it has.
            if let Some(parent) = self.spawner(want).filter(|p| can_run(*p)) {
                return Some(parent);
            }
        }
        if let Some(c) = current.filter(|c| !yielding && can_run(*c)) {
            return Some(c);
        }
        runnable
            .iter()
            .map(|t| t.id())
            .filter(|t| Some(*t) != current || runnable.len() == 1)
            .min_by_key(|t| usize::from(*t))
    }

    fn next_u64(&mut self) -> u64 {
        self.randoms.pop_front().unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// loom

/// Iterative bounding below the preemptions of loom's counterexample.
fn loom(
    subject: &Subject,
    bound: usize,
    max_branches: usize,
    bounds: Bounds,
    r: &mut RunResult,
    invariant: Option<String>,
) {
    let raw = r
        .loom_checkpoint
        .as_deref()
        .and_then(checkpoint_preemptions);
    set_found(r, raw);
    let (Some(raw), Some(invariant)) = (raw, invariant) else {
        return;
    };
    let mut spent = 0;
    for b in 0..usize::try_from(raw).unwrap_or(0).min(bound) {
        let e = Exploration {
            preemption_bound: b,
            max_executions: LOOM_BUDGET.saturating_sub(spent),
            max_branches,
        };
        if e.max_executions == 0 {
            break;
        }
        let lower = loom_backend::explore(subject, e, bounds, &GhostSlot::default());
        spent += lower.executions;
        let caught = matches!(&lower.verdict, Verdict::Violation(v) if v.invariant == invariant);
        if !caught || lower.loom_checkpoint.is_none() {
            continue;
        }
        spent += lower.executions; // the capture re-runs them
        let preemptions = lower
            .loom_checkpoint
            .as_deref()
            .and_then(checkpoint_preemptions);
        let steps = lower.ghost.as_ref().map_or(0, |g| g.steps);
        let found = r.simplest.map_or(Counts::default(), |s| s.found);
        r.verdict = lower.verdict;
        r.ghost = lower.ghost;
        r.loom_checkpoint = lower.loom_checkpoint;
        r.simplest = Some(Simplest {
            counts: Counts { preemptions, steps },
            found,
            reexecutions: spent,
        });
        return;
    }
    if let Some(s) = &mut r.simplest {
        s.reexecutions = spent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulling_forward_runs_the_preempted_actor_on() {
        assert_eq!(pull_forward(&[0, 1, 1, 0, 2], 1), Some(vec![0, 0, 1, 1, 2]));
        assert_eq!(pull_forward(&[0, 1, 1, 2], 1), None);
    }

    #[test]
    fn candidates_come_in_a_fixed_order() {
        let plan = [0, 1, 2, 1, 2];
        let c = candidates(&plan, &[2]);
        assert_eq!(c[0], vec![0, 1, 1, 2, 2]);
        assert_eq!(c[1], vec![0, 1, 2, 2, 1]);
        assert_eq!(c.last(), Some(&vec![0]));
        assert!(c.contains(&vec![0, 1]));
        assert_eq!(candidates(&plan, &[2]), c);
    }

    #[test]
    fn only_switches_between_steps_of_two_actors_are_preemptions() {
        let plan = [0, 0, 1, 1, 0];
        assert_eq!(step_preemptions(&plan, &[1, 2, 2, 3, 4]), vec![2, 4]);
    }

    #[test]
    fn blocks_are_maximal_runs() {
        assert_eq!(blocks(&[3, 3, 1, 3]), vec![(0, 2), (2, 3), (3, 4)]);
        assert!(blocks(&[]).is_empty());
    }

    #[test]
    fn fewer_preemptions_beat_fewer_steps() {
        let c = |p, steps| Counts {
            preemptions: Some(p),
            steps,
        };
        assert!(c(1, 90) < c(2, 10));
        assert!(c(1, 9) < c(1, 10));
    }
}
