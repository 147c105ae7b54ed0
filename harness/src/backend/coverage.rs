//! Race-window coverage: for every pair of lock acquisitions by different actors on the same
//! lock, whether the exploration saw them in both orders.
//!
//! An acquisition is named by (lock, actor, k) — the actor's k-th acquisition of that lock — so
//! names are stable across executions of the same scenario. A pair seen in only one order is a
//! race window the exploration never opened; the std baseline typically leaves most of them
//! one-way, which is the point of comparing it with loom and PCT.
//!
//! Outcome coverage: how many requests of the completed executions ended in each
//! [`OutcomeClass`](crate::outcome::OutcomeClass), which the differential check compares with what the real crates showed.

use crate::outcome::{model_outcomes, OutcomeCounts};
use poolcheck_models::sync::{Ghost, RecordKind};
use std::collections::{BTreeMap, BTreeSet};

type Acq = (String, usize);

/// Acquisitions of one lock per execution that count: pairs grow with the square, so a
/// scenario with thousands of lock operations must not exhaust memory here.
const MAX_ACQUISITIONS: usize = 256;

/// Ordered pairs kept over a whole exploration, at most.
const MAX_PAIRS: usize = 1 << 18;

/// Orders observed so far.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    seen: BTreeSet<(String, Acq, Acq)>,
    outcomes: OutcomeCounts,
}

/// The summary reported with a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageSummary {
    /// Distinct pairs of conflicting acquisitions observed.
    pub pairs: usize,
    /// Of those, pairs observed in both orders.
    pub both_orders: usize,
    /// Up to five pairs seen in one order only, as `lock: A#1 before B#0`.
    pub one_way: Vec<String>,
    /// Requests per outcome class, over the completed executions.
    pub outcomes: OutcomeCounts,
}

impl Coverage {
    /// Add the orders of one completed execution.
    pub fn add(&mut self, g: &Ghost) {
        for class in model_outcomes(g) {
            *self.outcomes.entry(class).or_default() += 1;
        }
        let mut per_lock: BTreeMap<usize, Vec<Acq>> = BTreeMap::new();
        let mut counts: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for r in &g.log {
            let RecordKind::Lock(l) = r.kind else {
                continue;
            };
            if g.locks[l].class.internal {
                continue;
            }
            let k = counts.entry((l, r.actor)).or_insert(0);
            let acqs = per_lock.entry(l).or_default();
            if acqs.len() < MAX_ACQUISITIONS {
                acqs.push((g.actors[r.actor].name.clone(), *k));
            }
            *k += 1;
        }
        for (l, acqs) in per_lock {
            let name = &g.locks[l].name;
            for (i, a) in acqs.iter().enumerate() {
                for b in acqs[i + 1..].iter().filter(|b| b.0 != a.0) {
                    if self.seen.len() >= MAX_PAIRS {
                        return;
                    }
                    self.seen.insert((name.clone(), a.clone(), b.clone()));
                }
            }
        }
    }

    /// Pairs and how many were seen both ways.
    pub fn summary(&self) -> CoverageSummary {
        let mut s = CoverageSummary {
            outcomes: self.outcomes.clone(),
            ..CoverageSummary::default()
        };
        for (lock, a, b) in &self.seen {
            let reverse = self.seen.contains(&(lock.clone(), b.clone(), a.clone()));
            if reverse && a > b {
                continue; // counted once, from the smaller side
            }
            s.pairs += 1;
            if reverse {
                s.both_orders += 1;
            } else if s.one_way.len() < 5 {
                s.one_way
                    .push(format!("{lock}: {}#{} before {}#{}", a.0, a.1, b.0, b.1));
            }
        }
        s
    }
}
