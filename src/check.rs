//! Running a [`Builder`]'s check: each scheduler explores the closure, and every failure
//! becomes the same counterexample as a scenario's, with its replay.

use crate::builder::Builder;
use crate::error::Error;
use crate::naming::caller_name;
use poolcheck_harness::backend::{self, Program, RunResult, SchedulerSpec, Subject};
use poolcheck_harness::report::{write_reports_with, Counterexample, Origin, ReportPaths};
use std::panic::Location;
use std::sync::Arc;

/// What the `model` field of a library check's reports says.
pub const CLOSURE_MODEL: &str = "closure";

/// Every scheduler's result of one check, in the order they ran.
#[derive(Clone, Debug)]
pub struct Report {
    /// The check's name (its reports' folder).
    pub name: String,
    /// One entry per scheduler.
    pub runs: Vec<SchedulerRun>,
}

/// One scheduler's exploration of the closure.
#[derive(Clone, Debug)]
pub struct SchedulerRun {
    /// The scheduler and its budget.
    pub scheduler: SchedulerSpec,
    /// What the exploration found (verdict, executions, the failing ghost log).
    pub result: RunResult,
    /// The failing execution as a report value, when one failed.
    pub counterexample: Option<Counterexample>,
    /// Where its reports were written ([`Builder::report_dir`]).
    pub written: Option<ReportPaths>,
}

impl SchedulerRun {
    /// `pass`, the violated invariant's name, `bound-hit`, `model-panic` or `input-error`.
    pub fn verdict(&self) -> &str {
        self.result.verdict.name()
    }

    /// Did every explored execution satisfy every invariant, within the budget?
    pub fn passed(&self) -> bool {
        self.counterexample.is_none()
    }

    /// The scheduler that replays exactly the failing execution (give it to
    /// [`Builder::scheduler`] with the same closure).
    pub fn replay(&self) -> Option<SchedulerSpec> {
        self.counterexample.as_ref()?.replay_scheduler()
    }

    /// The counterexample in words: verdict, interleaving table, budget and how to replay it.
    pub fn failure_text(&self) -> Option<String> {
        let c = self.counterexample.as_ref()?;
        Some(c.render_text_with(&replay_hint(c, self.written.as_ref())))
    }
}

impl Report {
    /// The first scheduler whose exploration failed.
    pub fn failure(&self) -> Option<&SchedulerRun> {
        self.runs.iter().find(|r| !r.passed())
    }

    /// The run of the scheduler named `name` (`loom`, `pct`...).
    pub fn run_named(&self, name: &str) -> Option<&SchedulerRun> {
        self.runs.iter().find(|r| r.scheduler.name() == name)
    }
}

impl Builder {
    /// Explore `f` under every scheduler and panic with the first counterexample, the way
    /// `loom::model` does; return quietly when every scheduler passes. `f` is one execution:
    /// it builds the pool, spawns threads through [`crate::thread`], joins them.
    #[track_caller]
    pub fn check<F>(&self, f: F)
    where
        F: Fn() + Send + Sync + 'static,
    {
        let report = match self.run(f) {
            Ok(r) => r,
            Err(e) => panic!("poolcheck: the check cannot run: {e}"),
        };
        if let Some(text) = report.failure().and_then(SchedulerRun::failure_text) {
            panic!("poolcheck found a counterexample\n\n{text}");
        }
    }

    /// Explore `f` under every scheduler and return what each found, failures included;
    /// `Err` when a setting cannot be used (nothing ran). Reports are written for each
    /// failure when [`Builder::report_dir`] is set.
    #[track_caller]
    pub fn run<F>(&self, f: F) -> Result<Report, Error>
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.validate()?;
        let at = Location::caller();
        let name = self.name.clone().unwrap_or_else(|| caller_name(at));
        let file = format!("{}:{}", at.file(), at.line());
        let subject = self.subject(Arc::new(f));
        let mut runs = Vec::with_capacity(self.schedulers.len());
        for scheduler in &self.schedulers {
            let origin = Origin {
                scenario: &name,
                scenario_file: &file,
                model: CLOSURE_MODEL,
                variant: &self.variant,
                scheduler,
            };
            runs.push(self.explore(&subject, &origin)?);
        }
        Ok(Report { name, runs })
    }

    fn subject(&self, body: Arc<dyn Fn() + Send + Sync>) -> Subject {
        Subject {
            program: Program::Closure(body),
            invariants: Arc::new(self.invariants.clone()),
            custom: Arc::new(self.monitors.clone()),
            step_bound: self.step_bound,
        }
    }

    fn explore(&self, subject: &Subject, origin: &Origin<'_>) -> Result<SchedulerRun, Error> {
        let result = backend::run(subject, origin.scheduler, self.bounds);
        let counterexample = Counterexample::of(origin, &result).map(|c| self.explained(c));
        let written = match (&counterexample, &self.report_dir) {
            (Some(c), Some(dir)) => Some(write(dir, c)?),
            _ => None,
        };
        Ok(SchedulerRun {
            scheduler: origin.scheduler.clone(),
            result,
            counterexample,
            written,
        })
    }

    /// The counterexample with a user invariant's definition under its violation (the
    /// harness knows only the built-in ones).
    fn explained(&self, mut c: Counterexample) -> Counterexample {
        let violation = c.trace.as_mut().and_then(|t| t.violation.as_mut());
        if let Some(v) = violation {
            if let Some(m) = self.monitors.iter().find(|m| m.name == v.invariant) {
                v.holds_when.clone_from(&m.holds_when);
            }
        }
        c
    }
}

fn write(dir: &std::path::Path, c: &Counterexample) -> Result<ReportPaths, Error> {
    let paths = ReportPaths::new(dir, c, None);
    write_reports_with(&paths, c, &replay_hint(c, Some(&paths))).map_err(|e| {
        Error::new(format!(
            "`report_dir`: cannot write {}: {e}",
            paths.json.display()
        ))
    })?;
    Ok(paths)
}

/// How to replay `c` with the same closure: from its JSON report when one was written, else
/// from the schedule itself (a loom checkpoint needs the report).
fn replay_hint(c: &Counterexample, written: Option<&ReportPaths>) -> String {
    if let Some(p) = written {
        return format!(
            "Builder::new().replay_report({:?})?.check(<the same closure>)",
            p.json.display().to_string()
        );
    }
    match c.replay_scheduler() {
        Some(SchedulerSpec::Replay { schedule }) => format!(
            "Builder::new().scheduler(SchedulerSpec::Replay {{ schedule: {schedule:?}.into() }})\
             .check(<the same closure>)"
        ),
        Some(SchedulerSpec::DporReplay { schedule }) => format!(
            "Builder::new().scheduler(SchedulerSpec::DporReplay {{ schedule: {schedule:?}.into() \
             }}).check(<the same closure>)"
        ),
        Some(_) => "set Builder::report_dir to keep loom's checkpoint, then \
                    Builder::new().replay_report(<its JSON report>)"
            .into(),
        None => "no schedule to replay (std threads are not deterministic)".into(),
    }
}
