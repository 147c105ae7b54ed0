//! Trials: one scenario x variant x scheduler, run and judged against the scenario's expectation.
//!
//! The suite is self-validating: a buggy variant that passes means the checker missed it; a
//! fixed variant that fails means the pool is wrong; the wrong invariant, a bound hit or a model
//! panic fail too. The std baseline may miss a bug (it is what poolcheck is compared with), but
//! when it catches one it must be the expected invariant.
//!
//! A trial whose scenario file gives no expectation for its variant and scheduler is
//! *unjudged*: it runs, its verdict is shown and counted apart, and only a harness verdict
//! (`bound-hit`, `model-panic`, `input-error`) fails it, as those fail every trial.
//! `poolcheck bless` writes what it observed into the file.

use crate::backend::dpor::RaceTally;
use crate::backend::{self, Bounds, SchedulerSpec, Verdict, INPUT_ERROR};
use crate::report::{Counterexample, ReportPaths};
use crate::scenario::{
    read_source, AnyScenario, Expectation, Scenario, ScenarioError, MAX_SCENARIO_BYTES,
};
use poolcheck_models::model::VariantKind;
use std::time::Duration;

/// One scenario x variant x scheduler (or check).
#[derive(Clone)]
pub struct Trial {
    /// The scenario.
    pub scenario: AnyScenario,
    /// The variant.
    pub variant: String,
    /// How it is explored.
    pub method: Method,
    /// `pass` or the invariant that must catch the variant (several joined by [`ANY_OF`]: any
    /// of them); `None`: unjudged.
    pub expected: Option<String>,
}

/// How a trial explores its scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Method {
    /// A scheduler with its budget.
    Scheduler(SchedulerSpec),
    /// A check a family runs besides its schedulers, judged on what they explored (the real
    /// crates' `differential`), named in the scheduler column.
    Check(&'static str),
}

impl Method {
    /// The scheduler's name, or the check's.
    pub fn name(&self) -> &str {
        match self {
            Method::Scheduler(s) => s.name(),
            Method::Check(name) => name,
        }
    }

    /// The scheduler's seed, where it has one.
    pub fn seed(&self) -> Option<u64> {
        match self {
            Method::Scheduler(s) => s.seed(),
            Method::Check(_) => None,
        }
    }

    /// The scheduler, when it is one.
    pub fn scheduler(&self) -> Option<&SchedulerSpec> {
        match self {
            Method::Scheduler(s) => Some(s),
            Method::Check(_) => None,
        }
    }
}

/// How an unjudged trial's expectation is shown (rows, JSON, reports).
pub const UNJUDGED: &str = "unjudged";

/// Joins the invariants of an any-of expectation (`no-leak|request-answered`), written in a
/// scenario file as an array: a bug that shows as a leak in some interleavings and as a hang in
/// others is caught by either.
pub const ANY_OF: char = '|';

/// Does `expected` accept `verdict`?
pub fn accepts(expected: &str, verdict: &str) -> bool {
    expected.split(ANY_OF).any(|e| e == verdict)
}

/// An expectation in words: `no-leak or request-answered`.
pub fn in_words(expected: &str) -> String {
    expected.replace(ANY_OF, " or ")
}

impl Trial {
    /// The expectation as shown: its invariants joined by [`ANY_OF`], or [`UNJUDGED`].
    pub fn expected_text(&self) -> &str {
        self.expected.as_deref().unwrap_or(UNJUDGED)
    }

    /// `scenario/variant/scheduler`: the test name and the report path stem.
    pub fn name(&self) -> String {
        format!(
            "{}/{}/{}",
            self.scenario.name(),
            self.variant,
            self.method.name()
        )
    }
}

/// A judged trial: what every trial gives, a model's or the real crates', and what is printed,
/// written as a report, folded into the verdict matrix and merged across shards.
#[derive(Clone, Debug)]
pub struct TrialResult {
    /// Scenario name.
    pub scenario: String,
    /// Variant.
    pub variant: String,
    /// Scheduler name.
    pub scheduler: String,
    /// `pass` or the invariant(s) that must catch the variant, or [`UNJUDGED`].
    pub expected: String,
    /// `pass`, an invariant, `bound-hit`, `model-panic`...
    pub verdict: String,
    /// As expected?
    pub ok: bool,
    /// Why (not), in words.
    pub judgement: String,
    /// Executions explored.
    pub executions: u64,
    /// Wall time (reports only; never in a verdict or a trace).
    pub elapsed: Duration,
    /// Seed, where the scheduler has one.
    pub seed: Option<u64>,
    /// What a pass covers, where the scheduler says (`exhaustive: N executions`).
    pub note: Option<String>,
    /// The failing execution, when there was one.
    pub counterexample: Option<Counterexample>,
    /// Where its reports were written, once they are.
    pub report: Option<ReportPaths>,
    /// dpor: where the exploration's races were (`poolcheck run --races`).
    pub races: Option<RaceTally>,
    /// How the subject's requests ended over the exploration, where it counts them (the real
    /// crates' outcome table), shown with a verdict that has no counterexample.
    pub outcomes: Option<String>,
}

impl TrialResult {
    /// The trial `[scenario, variant, scheduler, expected]` ending with `verdict` for the
    /// reason `judgement`, before anything else is known: nothing explored, not as expected.
    pub fn named(name: [&str; 4], verdict: &str, judgement: String) -> Self {
        let [scenario, variant, scheduler, expected] = name.map(str::to_owned);
        TrialResult {
            scenario,
            variant,
            scheduler,
            expected,
            verdict: verdict.to_owned(),
            ok: false,
            judgement,
            executions: 0,
            elapsed: Duration::ZERO,
            seed: None,
            note: None,
            counterexample: None,
            report: None,
            races: None,
            outcomes: None,
        }
    }

    /// [`TrialResult::named`] for `t`, with its scheduler's seed.
    pub fn of(t: &Trial, verdict: &str, judgement: String) -> Self {
        let name = [
            t.scenario.name(),
            &t.variant,
            t.method.name(),
            t.expected_text(),
        ];
        let mut r = Self::named(name, verdict, judgement);
        r.seed = t.method.seed();
        r
    }

    /// `scenario/variant/scheduler`.
    pub fn name(&self) -> String {
        format!("{}/{}/{}", self.scenario, self.variant, self.scheduler)
    }

    /// Without an expectation in its scenario file (see [`UNJUDGED`])?
    pub fn unjudged(&self) -> bool {
        self.expected == UNJUDGED
    }
}

/// Every trial of a scenario: each scheduler for each variant, then its extra trials (pinned
/// schedules, a family's checks), except those an exhaustive proof makes redundant
/// (`proved_by_dpor`).
pub fn trials_of(scenario: &AnyScenario) -> Vec<Trial> {
    let mut out = Vec::new();
    for e in scenario.expect() {
        let proved = proved_by_dpor(scenario, e);
        for s in scenario.schedulers() {
            if proved && !matches!(s, SchedulerSpec::Dpor { .. }) {
                continue;
            }
            out.push(Trial {
                scenario: scenario.clone(),
                variant: e.variant.clone(),
                method: Method::Scheduler(s.clone()),
                expected: e.under(s.name()).map(str::to_owned),
            });
        }
    }
    out.extend(scenario.extra_trials());
    out
}

/// Does the file's unbounded `dpor` trial alone judge variant `e`? Only for a variant other than
/// `fixed` that every scheduler must pass: an exhaustive pass covers every execution loom, PCT,
/// random or the std threads could reach (they explore the same facade steps), so their passes
/// would cost time and add no verdict. `fixed` keeps every scheduler (each must be seen passing
/// it), and so does a variant some scheduler must catch (each must be seen catching it).
fn proved_by_dpor(scenario: &AnyScenario, e: &Expectation) -> bool {
    let unbounded = scenario.schedulers().iter().any(|s| {
        matches!(
            s,
            SchedulerSpec::Dpor {
                preemption_bound: None,
                ..
            }
        )
    });
    let all_pass = scenario
        .schedulers()
        .iter()
        .all(|s| e.under(s.name()) == Some("pass"));
    unbounded && all_pass && e.variant != VariantKind::Fixed.name()
}

/// Run and judge one trial, a model's or a family's.
pub fn run_trial(t: &Trial, bounds: Bounds) -> TrialResult {
    t.scenario.run(t, bounds)
}

/// Run and judge one trial of the model scenario `s`.
pub(crate) fn run_model_trial(s: &Scenario, t: &Trial, bounds: Bounds) -> TrialResult {
    let Method::Scheduler(spec) = &t.method else {
        let why = format!("a model scenario has no check `{}`", t.method.name());
        return TrialResult::of(t, INPUT_ERROR, why);
    };
    let run = backend::run(&s.subject(&t.variant), spec, bounds);
    let (ok, judgement) = match &t.expected {
        Some(e) => judge(e, &run.verdict, spec, &t.variant),
        None => unjudged(&run.verdict, &t.variant),
    };
    let mut r = TrialResult::of(t, run.verdict.name(), judgement);
    r.ok = ok;
    r.executions = run.executions;
    r.elapsed = run.elapsed;
    r.note = run
        .proof
        .filter(|_| r.verdict == "pass")
        .map(|p| p.describe(run.executions));
    r.counterexample = Counterexample::from_run(s, t, spec, &run);
    r.races = run.races;
    r
}

/// Where the input error `why` of trial `t` is: a pinned schedule at its line in the scenario
/// file, else the file as a whole.
pub fn input_error(t: &Trial, why: &str) -> ScenarioError {
    let path = t.scenario.path();
    let message = format!("{}: {why}", t.name());
    let pinned = t.scenario.as_model().and_then(|s| {
        s.pinned.iter().find(|p| {
            p.variant == t.variant
                && matches!(&t.method, Method::Scheduler(SchedulerSpec::Replay { schedule })
                    if *schedule == p.schedule)
        })
    });
    match (pinned, read_source(path, MAX_SCENARIO_BYTES)) {
        (Some(p), Ok(source)) => {
            ScenarioError::at(path, &source, p.span.clone(), "pinned.schedule", message)
        }
        _ => ScenarioError::whole_file(path, message),
    }
}

/// A trial without an expectation: fine whatever it found, except a harness verdict, which no
/// expectation could accept.
pub fn unjudged(verdict: &Verdict, variant: &str) -> (bool, String) {
    match verdict {
        Verdict::Pass | Verdict::Violation(_) => (
            true,
            format!(
                "{variant}: {}, unjudged: the scenario file has no expectation for it \
                 (`poolcheck bless` records one)",
                verdict.name()
            ),
        ),
        _ => judge(
            "pass",
            verdict,
            &SchedulerSpec::Std { iterations: 1 },
            variant,
        ),
    }
}

/// Is `verdict` what `expected` asks for under `scheduler`?
pub fn judge(
    expected: &str,
    verdict: &Verdict,
    scheduler: &SchedulerSpec,
    variant: &str,
) -> (bool, String) {
    let got = verdict.name();
    let expected_words = in_words(expected);
    let expected_words = expected_words.as_str();
    match verdict {
        Verdict::BoundHit(why) => (false, format!("a bound stopped the exploration: {why}")),
        Verdict::ModelPanic(why) => (false, format!("the model panicked (a model bug): {why}")),
        Verdict::InputError(why) => (false, format!("the input cannot be run: {why}")),
        _ if accepts(expected, got) => (true, format!("{variant}: {got}, as expected")),
        Verdict::Pass if !scheduler.must_catch() => (
            true,
            format!(
                "{variant}: the {} baseline did not hit {expected_words} (allowed: it is the \
                 baseline)",
                scheduler.name()
            ),
        ),
        Verdict::Pass => (
            false,
            format!(
                "{variant} passed but must be caught as {expected_words}: the checker missed the \
                 bug"
            ),
        ),
        Verdict::Violation(v) if expected == "pass" => (
            false,
            format!(
                "{variant} violates {} but must pass: the pool is wrong ({})",
                v.invariant, v.message
            ),
        ),
        Verdict::Violation(v) => (
            false,
            format!(
                "{variant} was caught by {} but must be caught by {expected_words}: {}",
                v.invariant, v.message
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_any_of_expectation_accepts_each_of_its_invariants_and_no_other() {
        let expected = "no-leak|request-answered";
        assert!(accepts(expected, "no-leak"));
        assert!(accepts(expected, "request-answered"));
        assert!(!accepts(expected, "pass"));
        assert!(!accepts(expected, "no"));
        assert_eq!(in_words(expected), "no-leak or request-answered");
    }

    #[test]
    fn an_unjudged_trial_fails_only_on_a_harness_verdict() {
        assert!(unjudged(&Verdict::Pass, "v").0);
        let (ok, why) = unjudged(&Verdict::BoundHit("steps".into()), "v");
        assert!(!ok, "{why}");
        assert!(!unjudged(&Verdict::ModelPanic("boom".into()), "v").0);
    }
}
