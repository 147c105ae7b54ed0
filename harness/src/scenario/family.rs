//! Scenario families: kinds of scenario file the harness loads, lists, runs, judges, reports and
//! replays like a model's, explored by code the harness cannot name (the real crates of
//! `poolcheck-realstack`, which depends on the harness).
//!
//! A [`Family`] claims files by their `model`, parses them with the harness's located errors
//! and gives one [`FamilyScenario`] per file. The binary passes the families it links to the
//! loader ([`super::load_file`]): there is no global registry and nothing is read from the
//! environment. Everything after loading goes through [`super::AnyScenario`], so a command has
//! no branch of its own for a family.

// A located error is a cold-path value a person reads; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use super::{Expectation, ScenarioError};
use crate::backend::{Bounds, SchedulerSpec};
use crate::report::Counterexample;
use crate::trace::Trace;
use crate::trial::{Trial, TrialResult};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A kind of scenario file explored outside the models.
pub trait Family: Send + Sync {
    /// The `model` values whose files it reads (`h2`, `hyper`, `hyper-util`).
    fn models(&self) -> &'static [&'static str];

    /// Parse and validate the text of the file at `path`: a located error otherwise.
    fn parse(&self, path: &Path, source: &str) -> Result<Arc<dyn FamilyScenario>, ScenarioError>;

    /// Its section of `poolcheck list`: what it checks, with the meaning of every verdict.
    fn describe(&self) -> String;
}

/// What every scenario file says about itself, whatever explores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct About {
    /// The file it came from.
    pub path: PathBuf,
    /// Its name (the file stem).
    pub name: String,
    /// The `model` it names.
    pub model: String,
    /// One line: the interleaving family.
    pub description: String,
    /// The upstream bug report it comes from.
    pub origin: Option<String>,
}

/// One scenario file of a [`Family`].
pub trait FamilyScenario: Send + Sync {
    /// Its name, file, model, description and origin.
    fn about(&self) -> &About;

    /// Its variants with their expectations, in order.
    fn expect(&self) -> &[Expectation];

    /// `(variant, upstream link or version)` of every variant, for the matrix and the index.
    fn variant_links(&self) -> Vec<(String, String)>;

    /// The file's schedulers with their budgets, in order.
    fn schedulers(&self) -> &[SchedulerSpec];

    /// The checks it runs besides its schedulers, each a trial of its own that must pass
    /// (`differential`).
    fn checks(&self) -> Vec<&'static str>;

    /// `Ok` when `variant` is one of its own; else what would be valid.
    fn check_variant(&self, variant: &str) -> Result<(), UsageError>;

    /// `Ok` when it can run under the scheduler named `name`; else what would be valid.
    fn check_scheduler(&self, name: &str) -> Result<(), UsageError>;

    /// Can a scenario file expect `verdict`? (`poolcheck bless` writes only those.)
    fn is_verdict(&self, verdict: &str) -> bool;

    /// Run and judge one of its trials.
    fn run(&self, trial: &Trial, bounds: Bounds) -> TrialResult;

    /// Rerun the execution a report of one of its trials recorded.
    fn replay(&self, report: &Counterexample) -> Result<Replayed, UsageError>;

    /// What `poolcheck list` shows after the name: `[real crate h2, 3 case(s)] ...`.
    fn describe(&self) -> String;
}

/// A request the input makes that cannot be carried out, with what would be valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// What would be valid.
    pub hint: Option<String>,
}

impl UsageError {
    /// `message`, with `hint` when there is one.
    pub fn new(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        UsageError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// A report's execution, run again.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    /// What the replay gives: `pass` or the violated invariant.
    pub verdict: String,
    /// The violation in words, where the subject says more than its trace.
    pub detail: Option<String>,
    /// The execution's interleaving, rendered from the new run.
    pub trace: Option<Trace>,
    /// What the trace shows, in words: `interleaving`, `wire`.
    pub trace_name: &'static str,
}
