//! Every scheduler default in one place: the keys a scenario file's `[schedulers.<name>]` may
//! leave out, and the whole budget of a scheduler the file does not list (`poolcheck run
//! --scheduler <name>`).

use crate::backend::SchedulerSpec;

/// `[schedulers.loom] max_executions` when the file leaves it out.
pub const DEFAULT_LOOM_EXECUTIONS: u64 = 200_000;

/// `[schedulers.loom] max_branches` when the file leaves it out.
pub const DEFAULT_LOOM_BRANCHES: usize = 10_000;

/// `[schedulers.dpor] max_executions` when the file leaves it out.
pub const DEFAULT_DPOR_EXECUTIONS: u64 = 100_000;

/// The budget of scheduler `name` (`loom`, `dpor`, `random`, `pct`, `dfs`, `std`) for a
/// scenario file that does not list it; `None` for any other name.
pub fn default_budget(name: &str) -> Option<SchedulerSpec> {
    Some(match name {
        "loom" => SchedulerSpec::Loom {
            preemption_bound: 2,
            max_executions: DEFAULT_LOOM_EXECUTIONS,
            max_branches: DEFAULT_LOOM_BRANCHES,
        },
        "dpor" => SchedulerSpec::Dpor {
            preemption_bound: None,
            max_executions: DEFAULT_DPOR_EXECUTIONS,
        },
        "random" => SchedulerSpec::Random {
            seed: 1,
            iterations: 1000,
        },
        "pct" => SchedulerSpec::Pct {
            seed: 1,
            depth: 3,
            iterations: 1000,
        },
        "dfs" => SchedulerSpec::Dfs {
            max_iterations: 10_000,
        },
        "std" => SchedulerSpec::Std { iterations: 100 },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheduler_a_user_may_name_has_a_default_budget_of_its_own_name() {
        for name in ["loom", "dpor", "random", "pct", "dfs", "std"] {
            let spec = default_budget(name).expect("a default");
            assert_eq!(spec.name(), name);
        }
        assert_eq!(default_budget("replay"), None);
    }
}
