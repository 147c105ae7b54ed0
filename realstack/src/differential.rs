//! The differential check: the model scenario a real scenario mirrors is run, each of its
//! requests classified with the real crates' classes, and the two sides compared both ways.
//!
//! - Every class the real crates showed must be one the model reaches, or a documented known
//!   difference (`[differential] known_differences`, explained in its `note`). A class listed
//!   as a difference that the model does reach is stale documentation and fails too.
//! - Every class the model reaches that the real crates never showed within their budget is
//!   listed (a reachable outcome the budget did not hit, or a behaviour the crates do not have),
//!   not failed: the real side is sampled.
//!
//! The model side runs variant [`MODEL_VARIANT`] (the variant the model says is right) under
//! the model scenario's own budget for [`MODEL_SCHEDULERS`]' first scheduler it lists, and must
//! pass: a model that fails its own scenario says nothing about the real crates.

use crate::{Error, RealRun, RealScenario};
use poolcheck_harness::backend::{self, Bounds, SchedulerSpec};
use poolcheck_harness::outcome::{OutcomeClass, OutcomeCounts};
use poolcheck_harness::scenario::{load_file, AnyScenario};
use std::collections::BTreeSet;
use std::time::Duration;

/// The model variant whose outcomes the real crates are compared with.
pub const MODEL_VARIANT: &str = "fixed";

/// The schedulers the model side may run, in order of preference: `dpor` enumerates every
/// execution within its bound, so what it does not reach is unreachable there.
pub const MODEL_SCHEDULERS: &[&str] = &["dpor", "pct", "random"];

/// What the model side reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSide {
    /// The model scenario.
    pub scenario: String,
    /// The model it runs.
    pub model: String,
    /// The scheduler it ran under.
    pub scheduler: String,
    /// Its verdict (`pass` for a usable model side).
    pub verdict: String,
    /// Executions explored.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Requests per class over the completed executions.
    pub classes: OutcomeCounts,
}

/// Run the model scenario `sc` mirrors, from the same folder; `None` when it mirrors none.
pub fn run_model_side(sc: &RealScenario) -> Result<Option<ModelSide>, Error> {
    let Some(d) = &sc.differential else {
        return Ok(None);
    };
    let path = sc
        .about
        .path
        .with_file_name(format!("{}.toml", d.model_scenario));
    let whole = |m: String| Error::whole_file(&sc.about.path, m);
    let model = match load_file(&path, &[&crate::RealCrates]) {
        Ok(AnyScenario::Model(m)) => m,
        Ok(AnyScenario::Family(_)) => {
            return Err(whole(format!(
                "[differential] model_scenario `{}` is a real-crate scenario, not a model one",
                d.model_scenario
            )))
        }
        Err(e) => {
            return Err(whole(format!(
                "[differential] model_scenario `{}` does not load: {e}",
                d.model_scenario
            )))
        }
    };
    let spec = MODEL_SCHEDULERS
        .iter()
        .find_map(|name| model.scheduler(name))
        .ok_or_else(|| {
            whole(format!(
                "model scenario `{}` lists none of {}",
                d.model_scenario,
                MODEL_SCHEDULERS.join(", ")
            ))
        })?;
    let run = backend::run(&model.subject(MODEL_VARIANT), spec, Bounds::default());
    Ok(Some(ModelSide {
        scenario: model.name.clone(),
        model: model.model.info().name.to_owned(),
        scheduler: scheduler_words(spec),
        verdict: run.verdict.name().to_owned(),
        executions: run.executions,
        elapsed: run.elapsed,
        classes: run.coverage.outcomes,
    }))
}

fn scheduler_words(spec: &SchedulerSpec) -> String {
    match spec {
        SchedulerSpec::Dpor {
            preemption_bound: Some(b),
            ..
        } => format!("dpor, preemption bound {b}"),
        other => other.name().to_owned(),
    }
}

/// The two sides compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Classes the real crates showed that the model does not reach and no note explains.
    pub unexplained: Vec<OutcomeClass>,
    /// Known differences the model reaches after all (stale documentation).
    pub stale: Vec<OutcomeClass>,
    /// Classes the model reaches that the real crates never showed in their budget.
    pub model_only: Vec<OutcomeClass>,
}

impl Comparison {
    /// Compare the classes seen (with a count above zero) on each side.
    pub fn of(real: &OutcomeCounts, model: &OutcomeCounts, known: &[OutcomeClass]) -> Self {
        let seen = |c: &OutcomeCounts| -> BTreeSet<OutcomeClass> {
            c.iter().filter(|(_, n)| **n > 0).map(|(k, _)| *k).collect()
        };
        let (real, model) = (seen(real), seen(model));
        Comparison {
            unexplained: real
                .iter()
                .filter(|c| !model.contains(c) && !known.contains(c))
                .copied()
                .collect(),
            stale: known
                .iter()
                .filter(|c| model.contains(c))
                .copied()
                .collect(),
            model_only: model.difference(&real).copied().collect(),
        }
    }
}

/// The differential check of `sc` over its real runs and its model side: `Ok` with the
/// comparison in words, or `Err` saying what breaks it.
pub fn differential(
    sc: &RealScenario,
    runs: &[&RealRun],
    model: &ModelSide,
) -> Result<String, String> {
    let Some(d) = &sc.differential else {
        return Ok(String::new());
    };
    if model.verdict != "pass" {
        return Err(format!(
            "model scenario `{}` gives {} for `{MODEL_VARIANT}` under {}: the model side is \
             unusable",
            model.scenario, model.verdict, model.scheduler
        ));
    }
    let mut real = OutcomeCounts::new();
    for (class, n) in runs.iter().flat_map(|t| t.outcome_counts.iter()) {
        if let Some(c) = OutcomeClass::from_name(class) {
            *real.entry(c).or_default() += n;
        }
    }
    let cmp = Comparison::of(&real, &model.classes, &d.known_differences);
    let words = in_words(sc, model, &cmp, &d.known_differences);
    if cmp.unexplained.is_empty() && cmp.stale.is_empty() {
        Ok(words)
    } else {
        Err(words)
    }
}

fn names(classes: &[OutcomeClass]) -> String {
    if classes.is_empty() {
        return "none".into();
    }
    let names: Vec<&str> = classes.iter().map(|c| c.name()).collect();
    names.join(", ")
}

fn in_words(
    sc: &RealScenario,
    model: &ModelSide,
    cmp: &Comparison,
    known: &[OutcomeClass],
) -> String {
    let reached: Vec<OutcomeClass> = model.classes.keys().copied().collect();
    let mut out = format!(
        "model `{}` ({}, `{MODEL_VARIANT}`, {}, {} executions) reaches {}",
        model.scenario,
        model.model,
        model.scheduler,
        model.executions,
        names(&reached)
    );
    if !cmp.unexplained.is_empty() {
        out.push_str(&format!(
            "; {} shows {} which the model never reaches and no known difference explains: a \
             model bug or a real bug",
            sc.about.name,
            names(&cmp.unexplained)
        ));
    }
    if !cmp.stale.is_empty() {
        out.push_str(&format!(
            "; {} listed as a known difference but the model reaches it: remove it from \
             known_differences",
            names(&cmp.stale)
        ));
    }
    out.push_str(&format!(
        "; known differences: {}; reached by the model only: {}",
        names(known),
        names(&cmp.model_only)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutcomeClass::*;

    fn counts(classes: &[OutcomeClass]) -> OutcomeCounts {
        classes.iter().map(|c| (*c, 1)).collect()
    }

    #[test]
    fn the_comparison_goes_both_ways() {
        let real = counts(&[Ok, RefusedRetryable, FailedUnprocessedNotRetried]);
        let model = counts(&[Ok, OkAfterRetry, RefusedRetryable]);
        let cmp = Comparison::of(&real, &model, &[FailedUnprocessedNotRetried]);
        assert_eq!(
            cmp,
            Comparison {
                unexplained: vec![],
                stale: vec![],
                model_only: vec![OkAfterRetry],
            }
        );
        let cmp = Comparison::of(&real, &model, &[]);
        assert_eq!(cmp.unexplained, vec![FailedUnprocessedNotRetried]);
        let cmp = Comparison::of(&real, &model, &[FailedUnprocessedNotRetried, Ok]);
        assert_eq!(cmp.stale, vec![Ok]);
        let zero: OutcomeCounts = [(Hung, 0)].into_iter().collect();
        assert_eq!(Comparison::of(&zero, &model, &[]).unexplained, vec![]);
    }
}
