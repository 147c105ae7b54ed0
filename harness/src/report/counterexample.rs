//! A counterexample as a value: everything needed to read it and to replay it.

use crate::backend::{Counts, RunResult, SchedulerSpec};
use crate::scenario::{About, Scenario};
use crate::trace::{holds_when, render_table, Trace, TraceViolation};
use crate::trial::Trial;
use serde::{Deserialize, Serialize};

/// The JSON report format's version.
pub const REPORT_VERSION: u32 = 1;

/// One failing execution, with its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    /// Report format version.
    pub version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file, as given.
    pub scenario_file: String,
    /// Model name.
    pub model: String,
    /// Variant name.
    pub variant: String,
    /// Scheduler name (`loom`, `pct`...).
    pub scheduler: String,
    /// Seed, where the scheduler has one.
    pub seed: Option<u64>,
    /// Human-readable budget (`preemption bound 2`, `depth 3, 2000 iterations`).
    pub budget: String,
    /// The verdict (invariant name, `bound-hit`, `model-panic`).
    pub verdict: String,
    /// The explanation of a bound hit or model panic.
    pub detail: Option<String>,
    /// Executions explored up to and including the failing one.
    pub executions: u64,
    /// Wall time of the exploration in milliseconds.
    pub elapsed_ms: u64,
    /// The failing execution's shuttle schedule (`pc1:...`).
    pub schedule: Option<String>,
    /// loom's checkpoint of the failing execution (JSON).
    pub loom_checkpoint: Option<String>,
    /// The loom preemption bound (needed to replay the checkpoint).
    pub preemption_bound: Option<usize>,
    /// How simple the reported execution is, and the one first found (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simplest: Option<Simplicity>,
    /// The interleaving.
    pub trace: Option<Trace>,
    /// Preformatted text shown under "Outcomes": a real-stack run's outcome table (requests per
    /// class over every explored execution) and the failing execution's requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<String>,
}

/// The preemptions and steps of a counterexample, before and after it was simplified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simplicity {
    /// Switches away from an actor that could have continued (absent: unknown, std threads).
    pub preemptions: Option<u32>,
    /// Scheduling steps.
    pub steps: u64,
    /// Preemptions of the counterexample the scheduler first found.
    pub found_preemptions: Option<u32>,
    /// Steps of the counterexample the scheduler first found.
    pub found_steps: u64,
    /// Executions spent looking for a simpler counterexample.
    pub reexecutions: u64,
}

impl Simplicity {
    /// `1 preemption(s), 23 step(s) (first found: 3 preemption(s), 41 step(s); 37
    /// re-execution(s))`.
    pub fn in_words(&self) -> String {
        let counts = |p: Option<u32>, s: u64| match p {
            Some(p) => format!("{p} preemption(s), {s} step(s)"),
            None => format!("{s} step(s)"),
        };
        let now = counts(self.preemptions, self.steps);
        if self.reexecutions == 0 {
            return now;
        }
        let found = counts(self.found_preemptions, self.found_steps);
        format!(
            "{now} (first found: {found}; {} re-execution(s))",
            self.reexecutions
        )
    }
}

fn simplicity(run: &RunResult) -> Option<Simplicity> {
    let s = run.simplest?;
    let Counts { preemptions, steps } = s.counts;
    Some(Simplicity {
        preemptions,
        steps,
        found_preemptions: s.found.preemptions,
        found_steps: s.found.steps,
        reexecutions: s.reexecutions,
    })
}

/// What a counterexample was found in, for its provenance fields.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// Scenario name (for a library check: the check's name).
    pub scenario: &'a str,
    /// Scenario file (for a library check: where `check` was called, `file:line`).
    pub scenario_file: &'a str,
    /// Model name (for a library check: [`crate::backend::Program`]'s closure, `closure`).
    pub model: &'a str,
    /// Variant name.
    pub variant: &'a str,
    /// The scheduler that found it.
    pub scheduler: &'a SchedulerSpec,
}

impl Counterexample {
    /// The counterexample of a failed run; `None` when the run passed.
    pub fn from_run(
        s: &Scenario,
        t: &Trial,
        scheduler: &SchedulerSpec,
        run: &RunResult,
    ) -> Option<Self> {
        let file = s.path.display().to_string();
        let origin = Origin {
            scenario: &s.name,
            scenario_file: &file,
            model: s.model.info().name,
            variant: &t.variant,
            scheduler,
        };
        Self::of(&origin, run)
    }

    /// The counterexample of a failed run of `origin`; `None` when the run passed.
    pub fn of(origin: &Origin<'_>, run: &RunResult) -> Option<Self> {
        let detail = match &run.verdict {
            crate::backend::Verdict::BoundHit(d) | crate::backend::Verdict::ModelPanic(d) => {
                Some(d.clone())
            }
            _ => None,
        };
        let mut c = Self::found(origin, run.verdict.name(), run.executions, run.elapsed)?;
        c.detail = detail;
        c.schedule = run.schedule.clone();
        c.loom_checkpoint = run.loom_checkpoint.clone();
        c.simplest = simplicity(run);
        c.trace = run.ghost.as_ref().map(|g| trace_of(g, &run.verdict));
        Some(c)
    }

    /// What every subject's counterexample has, whatever explored it (a model's backend, the
    /// real crates' runner): its provenance, verdict, budget and counts; the caller adds the
    /// way to replay it and its interleaving. `None` when `verdict` is `pass`.
    pub fn found(
        origin: &Origin<'_>,
        verdict: &str,
        executions: u64,
        elapsed: std::time::Duration,
    ) -> Option<Self> {
        if verdict == "pass" {
            return None;
        }
        let scheduler = origin.scheduler;
        Some(Counterexample {
            version: REPORT_VERSION,
            scenario: origin.scenario.to_owned(),
            scenario_file: origin.scenario_file.to_owned(),
            model: origin.model.to_owned(),
            variant: origin.variant.to_owned(),
            scheduler: scheduler.name().to_owned(),
            seed: scheduler.seed(),
            budget: budget(scheduler, None),
            verdict: verdict.to_owned(),
            detail: None,
            executions,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            schedule: None,
            loom_checkpoint: None,
            preemption_bound: match scheduler {
                SchedulerSpec::Loom {
                    preemption_bound, ..
                }
                | SchedulerSpec::LoomReplay {
                    preemption_bound, ..
                } => Some(*preemption_bound),
                SchedulerSpec::Dpor {
                    preemption_bound, ..
                } => *preemption_bound,
                _ => None,
            },
            simplest: None,
            trace: None,
            outcomes: None,
        })
    }

    /// [`Counterexample::found`] in `variant` of the scenario `about` (a family's), by
    /// `scheduler`.
    pub fn found_in(
        about: &About,
        variant: &str,
        scheduler: &SchedulerSpec,
        verdict: &str,
        executions: u64,
        elapsed: std::time::Duration,
    ) -> Option<Self> {
        let file = about.path.display().to_string();
        let origin = Origin {
            scenario: &about.name,
            scenario_file: &file,
            model: &about.model,
            variant,
            scheduler,
        };
        Self::found(&origin, verdict, executions, elapsed)
    }

    /// The scheduler that replays exactly the failing execution.
    pub fn replay_scheduler(&self) -> Option<SchedulerSpec> {
        if let Some(s) = &self.schedule {
            let schedule = s.clone();
            return Some(if self.scheduler.starts_with("dpor") {
                SchedulerSpec::DporReplay { schedule }
            } else {
                SchedulerSpec::Replay { schedule }
            });
        }
        let checkpoint = self.loom_checkpoint.clone()?;
        Some(SchedulerSpec::LoomReplay {
            preemption_bound: self.preemption_bound?,
            checkpoint,
        })
    }

    /// The command that replays this counterexample from its JSON report.
    pub fn replay_command(&self) -> String {
        format!(
            "cargo run --release -- replay reports/{}/{}.{}.json",
            self.scenario, self.variant, self.scheduler
        )
    }

    /// The text rendering: verdict, invariant in words, table, budget, replay command.
    /// A pure function of the value, so byte-identical for identical inputs.
    pub fn render_text(&self) -> String {
        self.render_text_with(&self.replay_command())
    }

    /// [`Counterexample::render_text`] with `replay` as the way to replay it (a library check
    /// replays through its `Builder`, not the command line).
    pub fn render_text_with(&self, replay: &str) -> String {
        let mut out = format!(
            "{} / {} / {}: {}\n",
            self.scenario, self.variant, self.scheduler, self.verdict
        );
        if let Some(d) = &self.detail {
            out.push_str(&format!("{d}\n"));
        }
        if let Some(o) = &self.outcomes {
            out.push('\n');
            out.push_str(o);
        }
        if let Some(t) = &self.trace {
            out.push('\n');
            out.push_str(&render_table(t));
        }
        out.push_str(&format!(
            "\nbudget: {}; found after {} execution(s)\n",
            self.budget, self.executions
        ));
        if let Some(s) = &self.simplest {
            out.push_str(&format!("simplest: {}\n", s.in_words()));
        }
        out.push_str(&format!("replay: {replay}\n"));
        out
    }
}

/// A scheduler's budget in words: `pct, depth 3, 2000 iterations, seed 1`. A subject that
/// spends it once per case (the real crates) says so: `500 iterations per case x 4 cases`.
pub fn budget(s: &SchedulerSpec, cases: Option<usize>) -> String {
    let iterations = |n: &u64| match cases {
        Some(c) => format!("{n} iterations per case x {c} cases"),
        None => format!("{n} iterations"),
    };
    match s {
        SchedulerSpec::Loom {
            preemption_bound,
            max_executions,
            ..
        } => {
            format!(
                "loom, preemption bound {preemption_bound}, at most {max_executions} executions"
            )
        }
        SchedulerSpec::Pct {
            seed,
            depth,
            iterations: n,
        } => {
            format!("pct, depth {depth}, {}, seed {seed}", iterations(n))
        }
        SchedulerSpec::Random {
            seed,
            iterations: n,
        } => {
            format!("random, {}, seed {seed}", iterations(n))
        }
        SchedulerSpec::Dfs { max_iterations } => {
            format!("dfs, at most {max_iterations} iterations")
        }
        SchedulerSpec::Dpor {
            preemption_bound,
            max_executions,
        } => match preemption_bound {
            Some(b) => format!("dpor, preemption bound {b}, at most {max_executions} executions"),
            None => format!("dpor, unbounded, at most {max_executions} executions"),
        },
        SchedulerSpec::DporReplay { .. } => "replay of one recorded dpor schedule".into(),
        SchedulerSpec::Replay { .. } => "replay of one recorded schedule".into(),
        SchedulerSpec::LoomReplay { .. } => "replay of one loom checkpoint".into(),
        SchedulerSpec::Std { iterations } => format!("std threads, {iterations} iterations"),
    }
}

/// The trace of the failing execution, with the verdict's violation where the ghost state has
/// none: a deadlock the scheduler saw (the harness names who waits for what) is in the verdict
/// only, and the reader needs it under the interleaving like any other violation.
pub fn trace_of(g: &poolcheck_models::sync::Ghost, verdict: &crate::backend::Verdict) -> Trace {
    let mut t = Trace::from_ghost(g);
    if let (None, crate::backend::Verdict::Violation(v)) = (&t.violation, verdict) {
        t.violation = Some(TraceViolation {
            invariant: v.invariant.clone(),
            holds_when: holds_when(&v.invariant),
            message: v.message.clone(),
            actor: v.actor,
            seq: v.seq,
        });
    }
    t
}
