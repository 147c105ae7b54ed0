//! [`AnyScenario`]: what the loader gives for every scenario file, a model's or a family's, and
//! the one place that tells them apart. Commands list, select, run, judge, report and replay
//! through its methods.

use super::family::{FamilyScenario, Replayed, UsageError};
use super::{hint_for, Expectation, Scenario};
use crate::backend::{Bounds, SchedulerSpec};
use crate::report::{replay_model, Counterexample};
use crate::trial::{run_model_trial, Method, Trial, TrialResult};
use poolcheck_models::model::Model;
use std::path::Path;
use std::sync::Arc;

/// `(variant, upstream link)` of every named variant of `model`, in its order.
pub fn model_variant_links(model: &dyn Model) -> Vec<(String, String)> {
    let variants = model.info().variants.iter();
    variants
        .map(|v| (v.name.to_owned(), v.upstream.to_owned()))
        .collect()
}

/// A loaded, validated scenario file.
#[derive(Clone)]
pub enum AnyScenario {
    /// A model scenario: explored by the harness's schedulers.
    Model(Arc<Scenario>),
    /// A scenario of a [`super::Family`] (the real crates).
    Family(Arc<dyn FamilyScenario>),
}

impl AnyScenario {
    /// Its name (the file stem).
    pub fn name(&self) -> &str {
        match self {
            AnyScenario::Model(s) => &s.name,
            AnyScenario::Family(f) => &f.about().name,
        }
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        match self {
            AnyScenario::Model(s) => &s.path,
            AnyScenario::Family(f) => &f.about().path,
        }
    }

    /// The `model` it names.
    pub fn model_name(&self) -> &str {
        match self {
            AnyScenario::Model(s) => s.model.info().name,
            AnyScenario::Family(f) => &f.about().model,
        }
    }

    /// One line: the interleaving family.
    pub fn description(&self) -> &str {
        match self {
            AnyScenario::Model(s) => &s.description,
            AnyScenario::Family(f) => &f.about().description,
        }
    }

    /// The upstream bug report it comes from.
    pub fn origin(&self) -> Option<&str> {
        match self {
            AnyScenario::Model(s) => s.origin.as_deref(),
            AnyScenario::Family(f) => f.about().origin.as_deref(),
        }
    }

    /// The model scenario, when it is one (for code that explores models only: benchmarks).
    pub fn as_model(&self) -> Option<&Arc<Scenario>> {
        match self {
            AnyScenario::Model(s) => Some(s),
            AnyScenario::Family(_) => None,
        }
    }

    /// Its variants with their expectations, in order.
    pub fn expect(&self) -> &[Expectation] {
        match self {
            AnyScenario::Model(s) => &s.expect,
            AnyScenario::Family(f) => f.expect(),
        }
    }

    /// The expectations of `variant`, if the file names it.
    pub fn expectation(&self, variant: &str) -> Option<&Expectation> {
        self.expect().iter().find(|e| e.variant == variant)
    }

    /// The file's schedulers with their budgets, in order.
    pub fn schedulers(&self) -> &[SchedulerSpec] {
        match self {
            AnyScenario::Model(s) => &s.schedulers,
            AnyScenario::Family(f) => f.schedulers(),
        }
    }

    /// The file's budget for the scheduler named `name`.
    pub fn scheduler(&self, name: &str) -> Option<&SchedulerSpec> {
        self.schedulers().iter().find(|s| s.name() == name)
    }

    /// `(variant, upstream link or version)` of every variant of its model, in order.
    pub fn variant_links(&self) -> Vec<(String, String)> {
        match self {
            AnyScenario::Model(s) => model_variant_links(s.model),
            AnyScenario::Family(f) => f.variant_links(),
        }
    }

    /// What `poolcheck list` shows after the name.
    pub fn describe(&self) -> String {
        match self {
            AnyScenario::Model(s) => format!("[{}] {}", s.model.info().name, s.description),
            AnyScenario::Family(f) => f.describe(),
        }
    }

    /// `Ok` when `variant` can run: named in the file, or (for a model) one its model builds
    /// from its fixes (`fixed-without=<fix>`), which runs unjudged.
    pub fn check_variant(&self, variant: &str) -> Result<(), UsageError> {
        if self.expectation(variant).is_some() {
            return Ok(());
        }
        let s = match self {
            AnyScenario::Model(s) => s,
            AnyScenario::Family(f) => return f.check_variant(variant),
        };
        match s.model.variant(variant) {
            Ok(canonical) if canonical == variant => Ok(()),
            Ok(canonical) => Err(UsageError::new(
                format!("variant `{variant}` is spelled `{canonical}`"),
                Some("name the fixes in the order `poolcheck list` shows them".to_owned()),
            )),
            Err(message) => Err(UsageError::new(
                format!("{message} of model `{}`", s.model.info().name),
                Some(hint_for(variant, s.variants())),
            )),
        }
    }

    /// `Ok` when it can run under the scheduler named `name` (`loom`, `pct`...).
    pub fn check_scheduler(&self, name: &str) -> Result<(), UsageError> {
        match self {
            AnyScenario::Model(_) if super::FILE_SCHEDULERS.contains(&name) => Ok(()),
            AnyScenario::Model(_) => Err(UsageError::new(
                format!("unknown scheduler `{name}`"),
                Some(hint_for(name, super::FILE_SCHEDULERS.iter().copied())),
            )),
            AnyScenario::Family(f) => f.check_scheduler(name),
        }
    }

    /// Can its file expect `verdict`: `pass`, or one of the invariants it checks?
    pub fn is_verdict(&self, verdict: &str) -> bool {
        match self {
            AnyScenario::Model(s) => verdict == "pass" || s.invariants.iter().any(|i| i == verdict),
            AnyScenario::Family(f) => f.is_verdict(verdict),
        }
    }

    /// Its trials beyond each variant under each of its schedulers: a model's pinned
    /// schedules, a family's checks.
    pub fn extra_trials(&self) -> Vec<Trial> {
        let trial = |variant: &str, method: Method, expected: &str| Trial {
            scenario: self.clone(),
            variant: variant.to_owned(),
            method,
            expected: Some(expected.to_owned()),
        };
        match self {
            AnyScenario::Model(s) => s
                .pinned
                .iter()
                .map(|p| {
                    let replay = SchedulerSpec::Replay {
                        schedule: p.schedule.clone(),
                    };
                    trial(&p.variant, Method::Scheduler(replay), &p.expect)
                })
                .collect(),
            AnyScenario::Family(f) => {
                let variants: Vec<&str> = f.expect().iter().map(|e| e.variant.as_str()).collect();
                f.checks()
                    .into_iter()
                    .flat_map(|c| variants.iter().map(move |v| (c, *v)))
                    .map(|(c, v)| trial(v, Method::Check(c), "pass"))
                    .collect()
            }
        }
    }

    /// Run and judge `t`, one of its trials.
    pub fn run(&self, t: &Trial, bounds: Bounds) -> TrialResult {
        match self {
            AnyScenario::Model(s) => run_model_trial(s, t, bounds),
            AnyScenario::Family(f) => f.run(t, bounds),
        }
    }

    /// Rerun the execution `report` recorded, after checking that it is one of this scenario's.
    pub fn replay(&self, report: &Counterexample) -> Result<Replayed, UsageError> {
        match self {
            AnyScenario::Model(s) => replay_model(s, report),
            AnyScenario::Family(f) => f.replay(report),
        }
    }
}
