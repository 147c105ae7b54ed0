//! `--shard K/N`: one of N processes (or CI jobs) that together explore a scenario's budget.
//!
//! - random and pct: shard K explores seed `seed + K` with its share of the iterations
//!   (`iterations / N`, the first `iterations % N` shards one more), so the N shards explore N
//!   independent seed streams whose iterations add up to the file's budget. A following round
//!   of N jobs with `--seed S+N` continues with seeds S+N+K: over rounds, shard K runs seeds
//!   seed+K, seed+K+N, seed+K+2N, ...
//! - std: shard K runs its share of the iterations.
//! - loom, dfs and pinned schedules explore one deterministic tree (or one schedule): they run
//!   whole on shard 0 and not at all on the others, so the union of the shards is the budget,
//!   each part explored once.
//!
//! `0/1` is the unsharded run.

use poolcheck_harness::backend::SchedulerSpec;
use std::str::FromStr;

/// Shard `k` of `n` (0 <= k < n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub k: u64,
    /// How many shards.
    pub n: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not K/N with 0 <= K < N (for example 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k >= n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    /// This shard's part of `spec`, or `None` when the shard has nothing of it to run.
    pub fn apply(&self, spec: &SchedulerSpec) -> Option<SchedulerSpec> {
        let k = self.k;
        let part = match spec {
            SchedulerSpec::Random { seed, iterations } => SchedulerSpec::Random {
                seed: seed.wrapping_add(k),
                iterations: self.share(*iterations),
            },
            SchedulerSpec::Pct {
                seed,
                depth,
                iterations,
            } => SchedulerSpec::Pct {
                seed: seed.wrapping_add(k),
                depth: *depth,
                iterations: self.share(*iterations),
            },
            SchedulerSpec::Std { iterations } => SchedulerSpec::Std {
                iterations: self.share(*iterations),
            },
            other if k == 0 => other.clone(),
            _ => return None,
        };
        let empty = match &part {
            SchedulerSpec::Random { iterations, .. }
            | SchedulerSpec::Pct { iterations, .. }
            | SchedulerSpec::Std { iterations } => *iterations == 0,
            _ => false,
        };
        (!empty).then_some(part)
    }

    /// This shard's share of `total` executions.
    fn share(&self, total: u64) -> u64 {
        total / self.n + u64::from(self.k < total % self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { k: 1, n: 4 }));
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_split_seeds_and_iterations() {
        let pct = SchedulerSpec::Pct {
            seed: 10,
            depth: 3,
            iterations: 10,
        };
        let parts: Vec<_> = (0..3)
            .map(|k| Shard { k, n: 3 }.apply(&pct).unwrap())
            .collect();
        let expected = [(10, 4), (11, 3), (12, 3)];
        for (p, (seed, it)) in parts.iter().zip(expected) {
            assert_eq!(
                *p,
                SchedulerSpec::Pct {
                    seed,
                    depth: 3,
                    iterations: it
                }
            );
        }
        let loom = SchedulerSpec::Dfs { max_iterations: 5 };
        assert_eq!(Shard { k: 0, n: 2 }.apply(&loom), Some(loom.clone()));
        assert_eq!(Shard { k: 1, n: 2 }.apply(&loom), None);
    }
}
