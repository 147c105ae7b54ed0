//! Schedulers: loom (exhaustive, bounded preemption), shuttle (random, PCT, DFS, replay) and std
//! threads (the stress baseline). Each explores executions of one [`Subject`] until a violation,
//! the end of its budget, or a bound.
//!
//! Every setting is explicit in [`SchedulerSpec`]: nothing is read from `LOOM_*` or `SHUTTLE_*`.

mod coverage;
pub mod dpor;
mod execute;
mod loom_backend;
mod minimise;
mod panic_hook;
mod schedule;
mod shuttle_backend;
mod std_backend;
pub mod stderr;

pub use coverage::{Coverage, CoverageSummary};
pub use execute::{Program, Subject};
pub use minimise::{simplest, Counts, Simplest, MINIMISE_BUDGET};
pub use panic_hook::{install_quiet_panic_hook, Exploring};
pub use schedule::{
    decode_schedule, encode_schedule, parse_items, Choice, Recording, Replaying, Tape,
    MAX_SCHEDULE_BYTES, MAX_SCHEDULE_CHOICES, MAX_SCHEDULE_TASK, SCHEDULE_VERSION,
};
pub use shuttle_backend::{shuttle_config, shuttle_scheduler, STACK_SIZE};

use poolcheck_models::sync::{Ghost, Violation};
use std::time::{Duration, Instant};

/// The verdict name of [`Verdict::InputError`]; the CLI exits 2 on it.
pub const INPUT_ERROR: &str = "input-error";

/// A scheduler and its budget.
#[derive(Clone, Debug, PartialEq)]
pub enum SchedulerSpec {
    /// loom, exhaustive up to a preemption bound.
    Loom {
        /// Preemptions per execution (2 or 3 is usual).
        preemption_bound: usize,
        /// Stop (as a bound hit) after this many executions.
        max_executions: u64,
        /// loom's per-execution branch limit.
        max_branches: usize,
    },
    /// shuttle's uniform random scheduler.
    Random {
        /// Seed.
        seed: u64,
        /// Executions.
        iterations: u64,
    },
    /// shuttle's PCT scheduler.
    Pct {
        /// Seed.
        seed: u64,
        /// Bug depth (priority change points + 1).
        depth: usize,
        /// Executions.
        iterations: u64,
    },
    /// shuttle's depth-first scheduler.
    Dfs {
        /// Executions at most.
        max_iterations: u64,
    },
    /// poolcheck's stateless model checker: Source-DPOR with sleep sets over the facade's step
    /// footprints, on shuttle's execution engine, any number of actors.
    Dpor {
        /// Preemptions per execution; `None` explores every execution (up to equivalence).
        preemption_bound: Option<usize>,
        /// Stop (as a bound hit) after this many executions.
        max_executions: u64,
    },
    /// Replay one recorded dpor schedule (facade-owned blocking, as dpor ran it).
    DporReplay {
        /// The encoded schedule (see [`encode_schedule`]).
        schedule: String,
    },
    /// Replay one recorded shuttle schedule.
    Replay {
        /// The encoded schedule (see [`encode_schedule`]).
        schedule: String,
    },
    /// Replay one loom execution from its checkpoint.
    LoomReplay {
        /// Preemption bound the checkpoint was recorded with.
        preemption_bound: usize,
        /// loom's checkpoint (JSON).
        checkpoint: String,
    },
    /// Real OS threads: the stress-test baseline.
    Std {
        /// Executions.
        iterations: u64,
    },
}

impl SchedulerSpec {
    /// The name used in scenario files, the CLI, test names and report file names.
    pub fn name(&self) -> &'static str {
        match self {
            SchedulerSpec::Loom { .. } => "loom",
            SchedulerSpec::Random { .. } => "random",
            SchedulerSpec::Pct { .. } => "pct",
            SchedulerSpec::Dfs { .. } => "dfs",
            SchedulerSpec::Dpor { .. } => "dpor",
            SchedulerSpec::DporReplay { .. } => "dpor-replay",
            SchedulerSpec::Replay { .. } => "replay",
            SchedulerSpec::LoomReplay { .. } => "loom-replay",
            SchedulerSpec::Std { .. } => "std",
        }
    }

    /// The seed, where the scheduler has one.
    pub fn seed(&self) -> Option<u64> {
        match self {
            SchedulerSpec::Random { seed, .. } | SchedulerSpec::Pct { seed, .. } => Some(*seed),
            _ => None,
        }
    }

    /// Does a buggy variant have to be caught under this scheduler? (std is a baseline that may
    /// miss; everything else must catch what the scenario says it catches.)
    pub fn must_catch(&self) -> bool {
        !matches!(self, SchedulerSpec::Std { .. })
    }
}

/// Limits that apply to every scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Wall time for the whole exploration; checked between executions and, every
    /// [`DEADLINE_EVERY`] ghost records, inside one.
    pub wall: Duration,
    /// Wall time for one std-threads execution before it counts as hung.
    pub std_execution: Duration,
    /// An overall deadline shared by many explorations (`--max-seconds`): the exploration stops
    /// with `bound-hit` at `wall` or at this instant, whichever comes first.
    pub deadline: Option<Instant>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            wall: Duration::from_secs(120),
            std_execution: Duration::from_secs(2),
            deadline: None,
        }
    }
}

impl Bounds {
    /// The same bounds with `wall` cut to what is left before `deadline`, and the instant at
    /// which the exploration must stop.
    fn starting_now(self) -> (Bounds, Instant) {
        let now = Instant::now();
        let mut stop = now + self.wall;
        if let Some(d) = self.deadline {
            stop = stop.min(d);
        }
        let wall = stop
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        (Bounds { wall, ..self }, stop)
    }
}

/// How often (in ghost records) an execution compares the clock with its deadline.
pub const DEADLINE_EVERY: u64 = 256;

/// How an exploration ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every explored execution satisfied every invariant, and the budget was explored whole.
    Pass,
    /// An invariant was violated.
    Violation(Violation),
    /// A bound stopped the exploration before its budget was explored (never a pass).
    BoundHit(String),
    /// The model itself panicked (a bug in the model, not in the pool).
    ModelPanic(String),
    /// The input cannot be run as given (a replayed schedule that does not fit the scenario,
    /// more actors than loom runs): a problem with the scenario or report, not the model.
    InputError(String),
}

impl Verdict {
    /// `"pass"`, the invariant's name, `"bound-hit"`, `"model-panic"` or `"input-error"`.
    pub fn name(&self) -> &str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Violation(v) => &v.invariant,
            Verdict::BoundHit(_) => "bound-hit",
            Verdict::ModelPanic(_) => "model-panic",
            Verdict::InputError(_) => INPUT_ERROR,
        }
    }
}

/// The result of exploring one subject with one scheduler.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// How it ended.
    pub verdict: Verdict,
    /// Executions explored (including the failing one).
    pub executions: u64,
    /// Wall time of the exploration (reports only; never used in verdicts or traces).
    pub elapsed: Duration,
    /// The failing execution's shuttle schedule, encoded.
    pub schedule: Option<String>,
    /// The failing execution's loom checkpoint (JSON).
    pub loom_checkpoint: Option<String>,
    /// How simple the reported counterexample is, and what it was simplified from.
    pub simplest: Option<Simplest>,
    /// The failing execution's ghost state and log.
    pub ghost: Option<Ghost>,
    /// Race windows (conflicting lock acquisitions) seen in both orders, over the completed
    /// executions.
    pub coverage: CoverageSummary,
    /// What a pass covers, for schedulers that enumerate (loom, dfs, dpor); None when sampled.
    pub proof: Option<Proof>,
    /// dpor only: where the exploration's races were (`poolcheck run --races`).
    pub races: Option<dpor::RaceTally>,
}

/// What an enumerating scheduler's pass covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// Every execution, up to equivalence of independent steps.
    Exhaustive,
    /// Every explored execution has at most this many preemptions (see the README for what
    /// bounded partial-order reduction does and does not claim).
    Bounded(usize),
}

impl Proof {
    /// `exhaustive: N executions` or `bounded at preemption bound B: N executions`.
    pub fn describe(self, executions: u64) -> String {
        match self {
            Proof::Exhaustive => format!("exhaustive: {executions} executions"),
            Proof::Bounded(b) => {
                format!("bounded at preemption bound {b}: {executions} executions")
            }
        }
    }
}

/// Explore `subject` with `spec` within `bounds`.
pub fn run(subject: &Subject, spec: &SchedulerSpec, bounds: Bounds) -> RunResult {
    install_quiet_panic_hook();
    // A backstop: the facade ends model deadlocks itself, but a case it misses must not print.
    let _quiet = stderr::silence();
    let (bounds, stop) = bounds.starting_now();
    let slot = execute::GhostSlot::with_deadline(stop);
    let mut result = match spec {
        SchedulerSpec::Loom { .. } | SchedulerSpec::LoomReplay { .. } => {
            loom_backend::run(subject, spec, bounds, &slot)
        }
        SchedulerSpec::Std { iterations } => std_backend::run(subject, *iterations, bounds, &slot),
        SchedulerSpec::Dpor {
            preemption_bound,
            max_executions,
        } => dpor::run(subject, *preemption_bound, *max_executions, bounds, &slot),
        _ => shuttle_backend::run(subject, spec, bounds, &slot),
    };
    result.coverage = execute::coverage(&slot);
    result.proof = result.proof.or(match spec {
        SchedulerSpec::Loom {
            preemption_bound, ..
        } => Some(Proof::Bounded(*preemption_bound)),
        SchedulerSpec::Dfs { .. } => Some(Proof::Exhaustive),
        _ => None,
    });
    simplest(subject, spec, bounds, &mut result);
    result
}
