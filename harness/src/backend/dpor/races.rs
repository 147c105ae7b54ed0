//! Races of one execution and the initials of their reversals (Source-DPOR's `notdep` and `I`).
//!
//! Happens-before is the transitive closure of program order and of dependence (a common object,
//! one side writing). Step `j` races step `k` (j < k) when they are dependent, belong to different
//! actors, and no step between them is ordered after `j` and before `k`. Reversing the race means
//! running, from the state before `j`, the steps after `j` that do not happen after it, then `k`:
//! the actors whose first step in that sequence has no predecessor in it are its initials.
//!
//! Only the latest write and the reads since it can race a new access to an object: anything
//! older happens before them. Each step's predecessors are kept as a bit set.

use poolcheck_models::sync::{Footprint, LockId, Object};
use std::collections::BTreeMap;

/// A race to reverse.
#[derive(Debug, PartialEq, Eq)]
pub struct Race {
    /// Index of the earlier step (where the reversal starts).
    pub earlier: usize,
    /// Index of the later step.
    pub later: usize,
    /// Actors that can start the reversed sequence and are enabled where it starts.
    pub initials: Vec<usize>,
}

/// What race detection needs to know of one step of the execution.
#[derive(Clone, Copy, Debug)]
pub struct StepView<'a> {
    /// The actor that ran it.
    pub actor: usize,
    /// What it touched.
    pub footprint: &'a Footprint,
    /// The lock the step starts by acquiring (the blocking operation its actor waited at).
    pub acquires: Option<LockId>,
    /// The locks held when the step started.
    pub held: &'a [LockId],
    /// The actors that could have run instead at the decision that chose this step.
    pub enabled: &'a [usize],
}

#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn union(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
    fn meets(&self, other: &Bits) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
}

#[derive(Default)]
struct ObjectHistory {
    last_write: Option<usize>,
    reads: Vec<usize>,
}

/// The races whose later step is at `from` or after, in order of the later step.
///
/// Two refinements make blocking operations sound and cheap (the treatment of Nidhugg's
/// mutexes, where blocking is a property of the state):
/// - a race whose reversal no enabled actor can start is no race: the later step's actor was
///   blocked there (a join of an unfinished actor, a lock still held, a wait not yet notified),
///   and everything that enables a step is a dependence of it, so no reordering reaches it;
/// - a step that starts by acquiring a lock also races the step that began the lock's last
///   holding period, judged by what happens before the acquisition itself (its actor's earlier
///   steps): otherwise the release between them would order the two critical sections for good
///   and the other order of the holders would never be tried.
pub fn find(steps: &[StepView], from: usize) -> Vec<Race> {
    let n = steps.len();
    let mut before: Vec<Bits> = Vec::with_capacity(n);
    let mut last_of_actor: BTreeMap<usize, usize> = BTreeMap::new();
    let mut history: BTreeMap<Object, ObjectHistory> = BTreeMap::new();
    let mut out = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        let po = last_of_actor.get(&step.actor).copied();
        let direct = direct_predecessors(k, step.footprint, &history, po.as_ref());
        let mut mine = Bits::new(n);
        for &d in &direct {
            mine.union(&before[d]);
            mine.set(d);
        }
        if k >= from {
            for &j in &direct {
                if steps[j].actor != step.actor
                    && !direct.iter().any(|&d| d != j && before[d].get(j))
                {
                    out.extend(race(steps, &before, &mine, j, k));
                }
            }
            out.extend(lock_race(steps, &before, po, k));
        }
        before.push(mine);
        record(&mut history, k, step.footprint);
        last_of_actor.insert(step.actor, k);
    }
    out
}

/// The race of `j` and `k` (`of_k`: what happens before `k`), if an enabled actor can start
/// its reversal.
fn race(steps: &[StepView], before: &[Bits], of_k: &Bits, j: usize, k: usize) -> Option<Race> {
    let all = initials(steps, before, of_k, j, k);
    let initials: Vec<usize> = all
        .into_iter()
        .filter(|t| steps[j].enabled.contains(t))
        .collect();
    (!initials.is_empty()).then_some(Race {
        earlier: j,
        later: k,
        initials,
    })
}

/// The race of a lock acquisition `k` with the start of the lock's last holding period, judged
/// by what happens before `k`'s actor reached the acquisition (`po`: its previous step).
fn lock_race(steps: &[StepView], before: &[Bits], po: Option<usize>, k: usize) -> Option<Race> {
    let lock = steps[k].acquires?;
    let start = holding_start(steps, lock, k)?;
    let mut of_k = Bits::new(steps.len());
    if let Some(p) = po {
        of_k.union(&before[p]);
        of_k.set(p);
    }
    if steps[start].actor == steps[k].actor || of_k.get(start) {
        return None;
    }
    race(steps, before, &of_k, start, k)
}

/// The step during which `lock` was last taken and held into the next step, before `k`.
fn holding_start(steps: &[StepView], lock: LockId, k: usize) -> Option<usize> {
    let held_at = |i: usize| steps[i].held.contains(&lock);
    let last_held = (1..k).rev().find(|&i| held_at(i))?;
    let start = (0..last_held).rev().find(|&i| !held_at(i))?;
    Some(start)
}

/// The latest step of the same actor and the latest conflicting accesses of each object.
fn direct_predecessors(
    k: usize,
    footprint: &Footprint,
    history: &BTreeMap<Object, ObjectHistory>,
    program_order: Option<&usize>,
) -> Vec<usize> {
    let mut direct: Vec<usize> = program_order.copied().into_iter().collect();
    for access in footprint.accesses() {
        let Some(h) = history.get(&access.object) else {
            continue;
        };
        direct.extend(h.last_write);
        if access.write {
            direct.extend(h.reads.iter().copied());
        }
    }
    direct.sort_unstable();
    direct.dedup();
    debug_assert!(direct.iter().all(|&d| d < k));
    direct
}

fn record(history: &mut BTreeMap<Object, ObjectHistory>, k: usize, footprint: &Footprint) {
    for access in footprint.accesses() {
        let h = history.entry(access.object).or_default();
        if access.write {
            h.last_write = Some(k);
            h.reads.clear();
        } else {
            h.reads.push(k);
        }
    }
}

/// Initials of `notdep(j).k`: the steps after `j` not ordered after it, then `k` (whose own
/// predecessor set `of_k` is not in `before` yet).
fn initials(steps: &[StepView], before: &[Bits], of_k: &Bits, j: usize, k: usize) -> Vec<usize> {
    let v: Vec<usize> = (j + 1..k)
        .filter(|&m| !before[m].get(j))
        .chain([k])
        .collect();
    let mut in_v = Bits::new(steps.len());
    v.iter().for_each(|&m| in_v.set(m));
    let mut firsts: Vec<usize> = v
        .iter()
        .filter(|&&m| !if m == k { of_k } else { &before[m] }.meets(&in_v))
        .map(|&m| steps[m].actor)
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    firsts
}

/// See [`super::Explorer::trace_signature`].
pub fn signature(steps: &[StepView]) -> String {
    let mut ordinal: BTreeMap<usize, usize> = BTreeMap::new();
    let mut per_object: BTreeMap<Object, Vec<(bool, String)>> = BTreeMap::new();
    for step in steps {
        let (actor, n) = (step.actor, ordinal.entry(step.actor).or_default());
        *n += 1;
        for a in step.footprint.accesses() {
            per_object
                .entry(a.object)
                .or_default()
                .push((a.write, format!("{actor}.{n}")));
        }
    }
    let mut out = String::new();
    for (object, accesses) in per_object {
        out.push_str(&format!("{object:?}:"));
        let mut reads: Vec<&str> = Vec::new();
        for (write, step) in &accesses {
            if *write {
                reads.sort_unstable();
                out.push_str(&format!("[{}]w{step} ", reads.join(",")));
                reads.clear();
            } else {
                reads.push(step);
            }
        }
        reads.sort_unstable();
        out.push_str(&format!("[{}];", reads.join(",")));
    }
    out
}
