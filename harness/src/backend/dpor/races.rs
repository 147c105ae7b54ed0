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

use poolcheck_models::sync::{Footprint, Object};
use std::collections::BTreeMap;

/// A race to reverse.
#[derive(Debug, PartialEq, Eq)]
pub struct Race {
    /// Index of the earlier step (where the reversal starts).
    pub earlier: usize,
    /// Index of the later step.
    pub later: usize,
    /// Actors that can start the reversed sequence.
    pub initials: Vec<usize>,
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
pub fn find(steps: &[(usize, &Footprint)], from: usize) -> Vec<Race> {
    let n = steps.len();
    let mut before: Vec<Bits> = Vec::with_capacity(n);
    let mut last_of_actor: BTreeMap<usize, usize> = BTreeMap::new();
    let mut history: BTreeMap<Object, ObjectHistory> = BTreeMap::new();
    let mut out = Vec::new();
    for (k, (actor, footprint)) in steps.iter().enumerate() {
        let direct = direct_predecessors(k, footprint, &history, last_of_actor.get(actor));
        let mut mine = Bits::new(n);
        for &d in &direct {
            mine.union(&before[d]);
            mine.set(d);
        }
        if k >= from {
            for &j in &direct {
                if steps[j].0 != *actor && !direct.iter().any(|&d| d != j && before[d].get(j)) {
                    out.push(Race {
                        earlier: j,
                        later: k,
                        initials: initials(steps, &before, &mine, j, k),
                    });
                }
            }
        }
        before.push(mine);
        record(&mut history, k, footprint);
        last_of_actor.insert(*actor, k);
    }
    out
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
fn initials(
    steps: &[(usize, &Footprint)],
    before: &[Bits],
    of_k: &Bits,
    j: usize,
    k: usize,
) -> Vec<usize> {
    let v: Vec<usize> = (j + 1..k)
        .filter(|&m| !before[m].get(j))
        .chain([k])
        .collect();
    let mut in_v = Bits::new(steps.len());
    v.iter().for_each(|&m| in_v.set(m));
    let mut firsts: Vec<usize> = v
        .iter()
        .filter(|&&m| !if m == k { of_k } else { &before[m] }.meets(&in_v))
        .map(|&m| steps[m].0)
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    firsts
}

/// See [`super::Explorer::trace_signature`].
pub fn signature(steps: &[(usize, &Footprint)]) -> String {
    let mut ordinal: BTreeMap<usize, usize> = BTreeMap::new();
    let mut per_object: BTreeMap<Object, Vec<(bool, String)>> = BTreeMap::new();
    for (actor, footprint) in steps {
        let n = ordinal.entry(*actor).or_default();
        *n += 1;
        for a in footprint.accesses() {
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
