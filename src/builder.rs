//! [`Builder`]: the settings of a library check, every one a public field.

use crate::error::Error;
use crate::validate;
use poolcheck_harness::backend::{Bounds, SchedulerSpec};
use poolcheck_harness::monitor::{CustomMonitor, Monitor};
use poolcheck_harness::report::from_json;
use poolcheck_harness::scenario::{read_source, DEFAULT_STEP_BOUND, MAX_REPORT_BYTES};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a closure is checked: which schedulers with which budgets, which invariants, and where
/// counterexamples go. Every field is public and documented, and nothing is read from the
/// environment: a check runs the same wherever it runs.
///
/// ```ignore
/// let mut builder = poolcheck::Builder::new();
/// builder.step_bound = 2_000;
/// builder.check(|| { /* the pool under test, written against poolcheck::sync */ });
/// ```
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Builder {
    /// The schedulers to run, in order, each with its budget; by default
    /// [`Builder::default_schedulers`]. A replay is one of these too
    /// ([`SchedulerSpec::Replay`], [`SchedulerSpec::DporReplay`], [`SchedulerSpec::LoomReplay`]).
    pub schedulers: Vec<SchedulerSpec>,
    /// Built-in invariants to check, by name (`poolcheck list` shows them): they judge the
    /// built-in events a pool reports with [`crate::probe`]. Default: none. A deadlock is always
    /// reported (as `request-answered`, naming who waits for what), and a panic in the closure
    /// (a failed `assert!`) as `model-panic` with its message.
    pub invariants: Vec<String>,
    /// The user's own invariants, checked after the built-in ones ([`Builder::monitor`]).
    pub monitors: Vec<CustomMonitor>,
    /// Scheduling steps one execution may take before it stops as `bound-hit` (a livelock or a
    /// runaway loop). Default: the scenario files' default, 5,000.
    pub step_bound: u64,
    /// Wall-time limits: of each exploration (`bound-hit` past it, never a pass), and of one
    /// execution on std threads (hung past it). The clock decides only whether to stop, never
    /// what is explored.
    pub bounds: Bounds,
    /// The check's name: the folder its reports go to. Default: the file and line that called
    /// [`Builder::check`] or [`Builder::run`] (`pool.rs:42`).
    pub name: Option<String>,
    /// What the code under test is called in reports (the variant column): `buggy`, `fixed`.
    /// Default: `closure`.
    pub variant: String,
    /// Where counterexample reports (Markdown, JSON, HTML, as for scenarios) are written, under
    /// `<report_dir>/<name>/<variant>.<scheduler>.*`. Default: none written; the counterexample
    /// is in the panic message and in [`crate::Report`] either way.
    pub report_dir: Option<PathBuf>,
}

/// The variant name of a closure nobody named.
pub const DEFAULT_VARIANT: &str = "closure";

impl Default for Builder {
    fn default() -> Self {
        Builder {
            schedulers: Builder::default_schedulers(),
            invariants: Vec::new(),
            monitors: Vec::new(),
            step_bound: DEFAULT_STEP_BOUND,
            bounds: Bounds::default(),
            name: None,
            variant: DEFAULT_VARIANT.to_owned(),
            report_dir: None,
        }
    }
}

impl Builder {
    /// The default settings (see each field).
    pub fn new() -> Self {
        Builder::default()
    }

    /// Every scheduler the library offers, with budgets sized for a unit test of a small pool
    /// (a few actors, a few dozen steps each): loom at preemption bound 2, shuttle random and
    /// PCT (depth 3) with 1,000 iterations from seed 0, dpor at preemption bound 2, and 100 runs
    /// on std threads (the baseline, which may miss a bug).
    pub fn default_schedulers() -> Vec<SchedulerSpec> {
        vec![
            SchedulerSpec::Loom {
                preemption_bound: 2,
                max_executions: 20_000,
                max_branches: 10_000,
            },
            SchedulerSpec::Random {
                seed: 0,
                iterations: 1_000,
            },
            SchedulerSpec::Pct {
                seed: 0,
                depth: 3,
                iterations: 1_000,
            },
            SchedulerSpec::Dpor {
                preemption_bound: Some(2),
                max_executions: 20_000,
            },
            SchedulerSpec::Std { iterations: 100 },
        ]
    }

    /// Run only `scheduler` (a budget of your own, or a replay).
    pub fn scheduler(mut self, scheduler: SchedulerSpec) -> Self {
        self.schedulers = vec![scheduler];
        self
    }

    /// Check the built-in invariant `name` too.
    pub fn invariant(mut self, name: &str) -> Self {
        self.invariants.push(name.to_owned());
        self
    }

    /// Check the user's invariant `name` (kebab-case), which holds when `holds_when` says; `new`
    /// makes a fresh monitor for each execution.
    pub fn monitor<M: Monitor + 'static>(
        mut self,
        name: &str,
        holds_when: &str,
        new: impl Fn() -> M + Send + Sync + 'static,
    ) -> Self {
        self.monitors.push(CustomMonitor {
            name: name.to_owned(),
            holds_when: holds_when.to_owned(),
            new: Arc::new(move || Box::new(new()) as Box<dyn Monitor>),
        });
        self
    }

    /// Name the check (its reports' folder).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Name the code under test in reports.
    pub fn variant(mut self, variant: &str) -> Self {
        self.variant = variant.to_owned();
        self
    }

    /// Write counterexample reports under `dir`.
    pub fn report_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.report_dir = Some(dir.into());
        self
    }

    /// Replay the counterexample in a JSON report a failed check wrote: the one scheduler that
    /// reproduces exactly the failing execution.
    pub fn replay_report(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = read_source(path, MAX_REPORT_BYTES).map_err(|e| Error::new(e.to_string()))?;
        let report = from_json(&text)
            .map_err(|e| Error::new(format!("{}: not a report: {e}", path.display())))?;
        let replay = report.replay_scheduler().ok_or_else(|| {
            Error::new(format!(
                "{}: the report holds no schedule or checkpoint to replay",
                path.display()
            ))
        })?;
        Ok(self.scheduler(replay))
    }

    /// Is every setting usable? The check runs nothing until it is.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate::settings(self)
    }
}
