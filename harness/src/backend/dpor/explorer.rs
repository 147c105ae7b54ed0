//! The exploration tree of stateless model checking: one node per scheduling decision of the
//! current execution, with the choices still to try there (backtrack sets) and those already
//! covered (sleep sets).
//!
//! Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order
//! reduction", POPL 2014, Algorithm 1), run iteratively: execute to the end, find the races of the
//! new part of the execution ([`super::races`]), add one initial of each reversal to the backtrack
//! set where the race starts, then replay the longest prefix that still has an untried choice.
//! Without reduction ([`Reduction::None`]) every enabled actor is tried at every node: the
//! unreduced search the tests compare against.

use super::races::{self, Race, StepView};
use poolcheck_models::sync::{Footprint, LockId, Object, Pending};
use std::collections::BTreeSet;

/// How much of the tree is pruned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// Every enabled actor at every decision: all interleavings of the steps.
    None,
    /// Source-DPOR with sleep sets.
    Source,
    /// A deliberately broken Source-DPOR that never reverses a race in which either step only
    /// reads: kept so that a test shows the soundness checks can fail.
    BrokenSkipsReadRaces,
}

/// What the scheduler should do at a decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run this actor's next step.
    Run(usize),
    /// Every enabled actor sleeps: this execution is equivalent to one already explored.
    SleepBlocked,
    /// Continuing would exceed the preemption bound.
    OverBound,
}

#[derive(Clone, Debug)]
struct Node {
    enabled: Vec<usize>,
    task: usize,
    footprint: Footprint,
    backtrack: BTreeSet<usize>,
    /// Asleep on entry, then every choice already explored here, with the footprint of its step.
    sleep: Vec<(usize, Footprint)>,
    /// Preemptions on the path up to and including this node's choice.
    preemptions: usize,
    /// The actor that ran the step before this node.
    prev: Option<usize>,
    /// The locks held at this decision.
    held: Vec<LockId>,
    /// The lock the chosen actor's step starts by acquiring.
    acquires: Option<LockId>,
}

/// What the facade says about the state at a decision, beyond who is enabled.
#[derive(Clone, Debug, Default)]
pub struct DecisionState {
    /// The locks held.
    pub held: Vec<LockId>,
    /// The blocking operation each enabled actor waits to attempt, if any.
    pub pending: Vec<(usize, Pending)>,
}

impl DecisionState {
    fn acquires(&self, actor: usize) -> Option<LockId> {
        self.pending.iter().find_map(|&(a, p)| match p {
            Pending::Lock(l) if a == actor => Some(l),
            _ => None,
        })
    }
}

/// A race of an execution that just ended, for diagnostics ([`super::RaceTally`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceSeen {
    /// What the two steps conflict on (for a lock acquisition racing the start of the lock's
    /// last holding period: the lock).
    pub objects: Vec<Object>,
    /// Reversing it added a backtrack point (otherwise one of its initials was already due
    /// there, or the race was skipped).
    pub backtracked: bool,
}

/// The depth-first exploration state, kept across executions.
#[derive(Debug)]
pub struct Explorer {
    reduction: Reduction,
    bound: Option<usize>,
    nodes: Vec<Node>,
    /// Decisions taken in the current execution.
    depth: usize,
    /// Nodes of the current execution that replay the previous one (the last of them is new).
    replay: usize,
    /// Some backtrack point was dropped because of the preemption bound.
    pruned_by_bound: bool,
}

impl Explorer {
    /// A fresh exploration.
    pub fn new(reduction: Reduction, bound: Option<usize>) -> Self {
        Explorer {
            reduction,
            bound,
            nodes: Vec::new(),
            depth: 0,
            replay: 0,
            pruned_by_bound: false,
        }
    }

    /// Did the preemption bound cut anything off (so a pass is "bounded", not "exhaustive")?
    pub fn pruned_by_bound(&self) -> bool {
        self.pruned_by_bound
    }

    /// The actors chosen so far in this execution.
    pub fn path(&self) -> Vec<usize> {
        self.nodes[..self.depth].iter().map(|n| n.task).collect()
    }

    /// The execution's Mazurkiewicz trace in a canonical form: for every object, the order of
    /// its writes, each with the set of reads before the next one, steps named `actor.n` (the
    /// actor's n-th step). Two executions are equivalent exactly when their signatures are equal.
    pub fn trace_signature(&self) -> String {
        races::signature(&self.views(self.depth))
    }

    fn views(&self, upto: usize) -> Vec<StepView<'_>> {
        self.nodes[..upto]
            .iter()
            .map(|n| StepView {
                actor: n.task,
                footprint: &n.footprint,
                acquires: n.acquires,
                held: &n.held,
                enabled: &n.enabled,
            })
            .collect()
    }

    /// A decision point: `enabled` actors may run; `ended` is the footprint of the step that just
    /// ended (None at the first decision of an execution); `state` is what blocks whom.
    pub fn decide(
        &mut self,
        enabled: &[usize],
        ended: Option<Footprint>,
        state: DecisionState,
    ) -> Result<Decision, String> {
        self.close_step(ended);
        if self.depth < self.replay {
            let chosen = self.replay_choice(enabled)?;
            let node = &mut self.nodes[self.depth - 1];
            node.acquires = state.acquires(node.task);
            node.held = state.held;
            return Ok(chosen);
        }
        let prev = self.depth.checked_sub(1).map(|d| self.nodes[d].task);
        let sleep = self.inherited_sleep();
        let asleep = |t: &usize| sleep.iter().any(|(s, _)| s == t);
        let awake: Vec<usize> = enabled.iter().copied().filter(|t| !asleep(t)).collect();
        let Some(task) = prev
            .filter(|p| awake.contains(p))
            .or(awake.first().copied())
        else {
            return Ok(Decision::SleepBlocked);
        };
        let preemptions = self.preemptions_choosing(self.depth, enabled, prev, task);
        if self.bound.is_some_and(|b| preemptions > b) {
            self.pruned_by_bound = true;
            return Ok(Decision::OverBound);
        }
        let backtrack = match self.reduction {
            Reduction::None => enabled.iter().copied().collect(),
            _ => BTreeSet::from([task]),
        };
        self.nodes.push(Node {
            enabled: enabled.to_vec(),
            task,
            footprint: Footprint::default(),
            backtrack,
            sleep,
            preemptions,
            prev,
            acquires: state.acquires(task),
            held: state.held,
        });
        self.depth += 1;
        Ok(Decision::Run(task))
    }

    fn replay_choice(&mut self, enabled: &[usize]) -> Result<Decision, String> {
        let node = &self.nodes[self.depth];
        if !enabled.contains(&node.task) || node.enabled != enabled {
            return Err(format!(
                "the model is not deterministic: replaying decision {} found actors {enabled:?} \
                 enabled, the earlier execution {:?} (it chose actor {})",
                self.depth, node.enabled, node.task
            ));
        }
        self.depth += 1;
        Ok(Decision::Run(node.task))
    }

    fn close_step(&mut self, ended: Option<Footprint>) {
        if let (Some(f), Some(d)) = (ended, self.depth.checked_sub(1)) {
            self.nodes[d].footprint = f;
        }
    }

    /// The sleep set of a new node: the parent's sleepers whose step commutes with the parent's.
    fn inherited_sleep(&self) -> Vec<(usize, Footprint)> {
        if self.reduction == Reduction::None {
            return Vec::new();
        }
        let Some(parent) = self.depth.checked_sub(1).map(|d| &self.nodes[d]) else {
            return Vec::new();
        };
        parent
            .sleep
            .iter()
            .filter(|(t, f)| *t != parent.task && !f.conflicts(&parent.footprint))
            .cloned()
            .collect()
    }

    /// Preemptions on the path if node `at` (with these enabled actors, after `prev`) runs
    /// `task`: running another actor while the previous one could continue is a preemption.
    fn preemptions_choosing(
        &self,
        at: usize,
        enabled: &[usize],
        prev: Option<usize>,
        task: usize,
    ) -> usize {
        let before = at.checked_sub(1).map_or(0, |d| self.nodes[d].preemptions);
        let preempts = prev.is_some_and(|p| p != task && enabled.contains(&p));
        before + usize::from(preempts)
    }

    /// The current execution ended; `ended` is its last step's footprint. Adds the backtrack
    /// points its races call for, and returns the races (of the part of the execution that did
    /// not replay the previous one).
    pub fn end_execution(&mut self, ended: Option<Footprint>) -> Vec<RaceSeen> {
        self.close_step(ended);
        self.nodes.truncate(self.depth);
        if self.reduction == Reduction::None {
            return Vec::new();
        }
        let first_new = self.replay.saturating_sub(1);
        let found = races::find(&self.views(self.nodes.len()), first_new);
        let mut seen = Vec::with_capacity(found.len());
        for race in found {
            let skipped = self.reduction == Reduction::BrokenSkipsReadRaces
                && (self.reads_only(race.earlier) || self.reads_only(race.later));
            let backtracked = !skipped && self.reverse(&race);
            seen.push(RaceSeen {
                objects: self.race_objects(&race),
                backtracked,
            });
        }
        seen
    }

    fn race_objects(&self, race: &Race) -> Vec<Object> {
        let (earlier, later) = (&self.nodes[race.earlier], &self.nodes[race.later]);
        let objects = earlier.footprint.conflicting_objects(&later.footprint);
        if objects.is_empty() {
            return later.acquires.map(Object::Lock).into_iter().collect();
        }
        objects
    }

    fn reads_only(&self, step: usize) -> bool {
        self.nodes[step]
            .footprint
            .accesses()
            .iter()
            .all(|a| !a.write)
    }

    /// Make sure some initial of the reversed race is tried where the race starts (every
    /// initial of a race is enabled there: see [`races::find`]). Returns whether that added a
    /// backtrack point.
    fn reverse(&mut self, race: &Race) -> bool {
        let node = &self.nodes[race.earlier];
        if race.initials.iter().any(|t| node.backtrack.contains(t)) {
            return false;
        }
        let asleep = |t: &usize| node.sleep.iter().any(|(s, _)| s == t);
        if let Some(t) = race
            .initials
            .iter()
            .copied()
            .min_by_key(|t| (asleep(t), *t))
        {
            self.add_backtrack(race.earlier, t);
            return true;
        }
        false
    }

    /// Add `task` at node `at`; when the bound forbids it there, also at the nearest earlier node
    /// where running `task` is no preemption (the conservative points of bounded POR, Coons,
    /// Musuvathi, McKinley, OOPSLA 2013).
    fn add_backtrack(&mut self, at: usize, task: usize) {
        self.nodes[at].backtrack.insert(task);
        if self.within_bound(at, task) {
            return;
        }
        self.pruned_by_bound = true;
        let free = (0..at).rev().find(|&i| {
            let n = &self.nodes[i];
            n.enabled.contains(&task) && n.prev.is_none_or(|p| !n.enabled.contains(&p) || p == task)
        });
        if let Some(i) = free {
            self.nodes[i].backtrack.insert(task);
        }
    }

    fn within_bound(&self, at: usize, task: usize) -> bool {
        let Some(bound) = self.bound else {
            return true;
        };
        let n = &self.nodes[at];
        self.preemptions_choosing(at, &n.enabled, n.prev, task) <= bound
    }

    /// Move to the next execution: the deepest node with an untried, awake choice within the
    /// bound. Returns false when the tree is exhausted.
    pub fn next_execution(&mut self) -> bool {
        while let Some(node) = self.nodes.last_mut() {
            let done = (node.task, std::mem::take(&mut node.footprint));
            node.sleep.push(done);
            let at = self.nodes.len() - 1;
            let untried: Vec<usize> = {
                let node = &self.nodes[at];
                let tried = |t: &usize| node.sleep.iter().any(|(s, _)| s == t);
                node.backtrack
                    .iter()
                    .copied()
                    .filter(|t| !tried(t))
                    .collect()
            };
            if let Some(task) = untried.into_iter().find(|&t| self.within_bound(at, t)) {
                self.retarget(at, task);
                return true;
            }
            self.nodes.pop();
        }
        false
    }

    fn retarget(&mut self, at: usize, task: usize) {
        let n = &self.nodes[at];
        let preemptions = self.preemptions_choosing(at, &n.enabled, n.prev, task);
        let node = &mut self.nodes[at];
        node.task = task;
        node.preemptions = preemptions;
        self.replay = at + 1;
        self.depth = 0;
    }

    /// Start the next execution from the first decision (after [`Explorer::next_execution`]).
    pub fn restart(&mut self) {
        self.depth = 0;
    }
}
