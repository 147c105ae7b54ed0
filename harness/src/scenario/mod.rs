//! Scenario files: one TOML file per interleaving family.
//!
//! A scenario names a model, its configuration, the actors and their operations, the invariants
//! to check, the schedulers with their budgets, and the expected verdict of every variant. The
//! loader ([`load_file`]) rejects anything it does not understand with a located
//! [`ScenarioError`]. A file whose `model` a [`Family`] claims (the real crates) is parsed by that
//! family; either way the loader gives an [`AnyScenario`]. See the README's "Scenario format"
//! section for the reference.

mod any;
pub mod defaults;
mod error;
mod family;
mod header;
pub mod limits;
mod load;
mod raw;
mod read;

pub use any::{model_variant_links, AnyScenario};
pub use defaults::default_budget;
pub use error::{close_matches, hint_for, line_col, ScenarioError};
pub use family::{About, Family, FamilyScenario, Replayed, UsageError};
pub use header::Header;
pub use limits::MAX_PREEMPTION_BOUND;
pub use load::{
    load_dir, load_file, FILE_SCHEDULERS, OTHER_VARIANTS, SCENARIO_VERSION, SCHEDULER_DEFAULT,
};
pub use read::{read_source, MAX_REPORT_BYTES, MAX_SCENARIO_BYTES};

use crate::backend::{SchedulerSpec, Subject};
use poolcheck_models::model::{Model, ScenarioSpec};
use std::path::PathBuf;
use std::sync::Arc;

/// The default step bound per execution.
pub const DEFAULT_STEP_BOUND: u64 = 5_000;

/// A validated scenario.
#[derive(Clone)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// Its name (the file stem).
    pub name: String,
    /// The model it explores.
    pub model: &'static dyn Model,
    /// One line: the interleaving family.
    pub description: String,
    /// The upstream bug report it comes from.
    pub origin: Option<String>,
    /// Invariants checked.
    pub invariants: Arc<Vec<String>>,
    /// Scheduling steps allowed per execution.
    pub step_bound: u64,
    /// Configuration and actors.
    pub spec: Arc<ScenarioSpec>,
    /// Schedulers with their budgets, in file order.
    pub schedulers: Vec<SchedulerSpec>,
    /// Every variant of the model, in its order, with what each scheduler must give for it.
    pub expect: Vec<Expectation>,
    /// Pinned schedules: deterministic regression tests.
    pub pinned: Vec<Pinned>,
    /// `[schedulers.dpor] proof_bound`: where the benchmark proves `fixed` when the suite runs a
    /// cheaper `preemption_bound` (None: the suite's dpor budget is the proof).
    pub proof_bound: Option<ProofBound>,
}

/// How far the benchmark explores `fixed` with dpor (`[schedulers.dpor] proof_bound`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofBound {
    /// Every execution (`proof_bound = "unbounded"`).
    Unbounded,
    /// Every execution with at most this many preemptions.
    Bound(usize),
}

impl ProofBound {
    /// The dpor preemption bound it stands for (None: unbounded).
    pub fn preemption_bound(self) -> Option<usize> {
        match self {
            ProofBound::Unbounded => None,
            ProofBound::Bound(b) => Some(b),
        }
    }
}

/// What a scenario expects of one variant: a verdict for every scheduler (`default`), overridden
/// per scheduler. A scheduler with neither is *unjudged*: its trial runs and is listed, but
/// nothing it gives (short of a harness verdict) fails it, until `poolcheck bless` records one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The variant.
    pub variant: String,
    /// `pass` or the invariant(s) that must catch it (joined by `|`), for every scheduler not
    /// in `schedulers`; `None` when the file gives none.
    pub default: Option<String>,
    /// `(scheduler name, expectation)` overrides, in file order.
    pub schedulers: Vec<(String, String)>,
}

impl Expectation {
    /// The same expectation for every scheduler.
    pub fn all(variant: &str, expected: &str) -> Self {
        Expectation {
            variant: variant.to_owned(),
            default: Some(expected.to_owned()),
            schedulers: Vec::new(),
        }
    }

    /// No expectation at all: every trial of the variant is unjudged.
    pub fn none(variant: &str) -> Self {
        Expectation {
            variant: variant.to_owned(),
            default: None,
            schedulers: Vec::new(),
        }
    }

    /// What `scheduler` (`loom`, `pct`...) must give, if anything.
    pub fn under(&self, scheduler: &str) -> Option<&str> {
        self.schedulers
            .iter()
            .find(|(s, _)| s == scheduler)
            .map(|(_, e)| e.as_str())
            .or(self.default.as_deref())
    }
}

/// A recorded schedule that must keep producing the same verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Pinned {
    /// The variant.
    pub variant: String,
    /// A shuttle schedule (`pc1:...`).
    pub schedule: String,
    /// The verdict it must produce.
    pub expect: String,
    /// Where the schedule is in the scenario file (byte range), for errors found when it runs.
    pub span: std::ops::Range<usize>,
}

impl Scenario {
    /// What a scheduler explores for one variant.
    pub fn subject(&self, variant: &str) -> Subject {
        Subject::of_model(
            self.model,
            self.spec.clone(),
            variant,
            self.invariants.clone(),
            self.step_bound,
        )
    }

    /// The expectations of `variant`, if the model has it.
    pub fn expectation(&self, variant: &str) -> Option<&Expectation> {
        self.expect.iter().find(|e| e.variant == variant)
    }

    /// What `variant` must give under `scheduler`; `None` when unjudged (or not a variant).
    pub fn expected(&self, variant: &str, scheduler: &str) -> Option<&str> {
        self.expectation(variant)?.under(scheduler)
    }

    /// The model's variants, in its order.
    pub fn variants(&self) -> impl Iterator<Item = &str> + Clone {
        self.expect.iter().map(|e| e.variant.as_str())
    }

    /// The scheduler spec named `name` (`loom`, `pct`...).
    pub fn scheduler(&self, name: &str) -> Option<&SchedulerSpec> {
        self.schedulers.iter().find(|s| s.name() == name)
    }
}
