//! What a model is to the harness: its self-description (variants, operations, configuration)
//! and one entry point that runs one execution of a scenario.
//!
//! Scenario files are data: a list of actors, each a list of operations drawn from the model's
//! vocabulary ([`OpInfo`]). The harness validates a scenario against [`ModelInfo`] (with file,
//! line and field in every error) before it runs anything, so `run` may assume well-typed input.

use std::collections::BTreeMap;

/// A scalar (or list) argument from a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
}

/// The type a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// An integer (`max_streams = 2`).
    Int,
    /// A boolean.
    Bool,
    /// A string.
    Str,
}

impl ParamKind {
    /// The name used in diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Int => "integer",
            ParamKind::Bool => "boolean",
            ParamKind::Str => "string",
        }
    }
}

/// Named arguments of an operation or of a model configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args(pub BTreeMap<String, Value>);

impl Args {
    /// An integer argument, or `default` when absent.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.0.get(name) {
            Some(Value::Int(v)) => *v,
            _ => default,
        }
    }

    /// A non-negative integer argument as `u32`, or `default`.
    pub fn u32(&self, name: &str, default: u32) -> u32 {
        u32::try_from(self.int(name, i64::from(default))).unwrap_or(default)
    }

    /// A boolean argument, or `default`.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(v)) => *v,
            _ => default,
        }
    }

    /// A string argument, or `default`.
    pub fn str<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        match self.0.get(name) {
            Some(Value::Str(v)) => v,
            _ => default,
        }
    }
}

/// One operation of an actor's script.
#[derive(Clone, Debug, PartialEq)]
pub struct OpSpec {
    /// The operation's name (from the model's [`OpInfo`] list).
    pub name: String,
    /// Its arguments.
    pub args: Args,
}

/// One actor: a named logical thread that runs its operations in order.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorSpec {
    /// Its name (a column in traces).
    pub name: String,
    /// Its operations.
    pub ops: Vec<OpSpec>,
}

/// The model-facing part of a scenario: configuration and actors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioSpec {
    /// Model configuration (`max_streams = 2`, `keepalive_expiry = 5`...).
    pub config: Args,
    /// The actors, in file order.
    pub actors: Vec<ActorSpec>,
}

/// A parameter a model or an operation accepts.
#[derive(Clone, Copy, Debug)]
pub struct ParamInfo {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// What it means, and its default.
    pub doc: &'static str,
    /// The smallest value an integer parameter accepts (the loader checks it).
    pub min: i64,
    /// The largest value an integer parameter accepts (the loader checks it).
    pub max: i64,
    /// The values a string parameter takes, when it is one of a fixed set (empty: any; the
    /// model checks them, generated scenarios draw from them).
    pub choices: &'static [&'static str],
}

/// The range of an integer parameter that does not declare one: not negative, and at most
/// 2^31 - 1 (HTTP/2's limit for sizes, windows and stream ids).
pub const DEFAULT_INT_RANGE: (i64, i64) = (0, 2_147_483_647);

impl ParamInfo {
    /// A parameter; an integer one accepts [`DEFAULT_INT_RANGE`] until [`ParamInfo::range`]
    /// narrows it.
    pub const fn new(name: &'static str, kind: ParamKind, doc: &'static str) -> Self {
        ParamInfo {
            name,
            kind,
            doc,
            min: DEFAULT_INT_RANGE.0,
            max: DEFAULT_INT_RANGE.1,
            choices: &[],
        }
    }

    /// The same string parameter taking one of `choices`.
    pub const fn one_of(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = choices;
        self
    }

    /// The same parameter accepting `min..=max`.
    pub const fn range(mut self, min: i64, max: i64) -> Self {
        self.min = min;
        self.max = max;
        self
    }
}

/// A parameter named `name` of type `kind` ([`ParamInfo::new`], for the models' tables).
pub const fn param(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamInfo {
    ParamInfo::new(name, kind, doc)
}

/// An operation an actor may perform.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// Its name, kebab-case.
    pub name: &'static str,
    /// What it does, in the model's terms.
    pub doc: &'static str,
    /// Its parameters.
    pub params: &'static [ParamInfo],
}

/// A named behaviour of a model: the fixed one, a release exactly as published, or a
/// historical bug.
#[derive(Clone, Copy, Debug)]
pub struct VariantInfo {
    /// Its name, kebab-case (`fixed`, `upstream-1.0.9`, `httpcore-1062`).
    pub name: &'static str,
    /// What kind of variant it is.
    pub kind: VariantKind,
    /// The upstream issue, pull request, release or commit.
    pub upstream: &'static str,
    /// What differs, in one sentence.
    pub summary: &'static str,
}

/// What a named variant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantKind {
    /// Every named fix applied.
    Fixed,
    /// An upstream release or commit exactly as published: no fix of ours, and of the named
    /// fixes that are upstream commits only those it already contains.
    Upstream,
    /// A historical bug: the code of the release it lived in, or `fixed` with its fix undone.
    Bug,
}

impl VariantKind {
    /// The word `poolcheck list` shows.
    pub fn name(self) -> &'static str {
        match self {
            VariantKind::Fixed => "fixed",
            VariantKind::Upstream => "upstream",
            VariantKind::Bug => "bug",
        }
    }
}

/// A named fix: one change a model makes to the upstream code it follows, togglable on its own
/// (`fixed-without=<name>`).
#[derive(Clone, Copy, Debug)]
pub struct FixInfo {
    /// Its name, kebab-case (`goaway-zero`).
    pub name: &'static str,
    /// The upstream issue, pull request or commit it comes from or answers.
    pub upstream: &'static str,
    /// What it changes in the upstream code, in one sentence.
    pub changes: &'static str,
    /// Why: what goes wrong without it.
    pub why: &'static str,
}

/// A model's self-description.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// Its name as scenario files spell it (`httpcore-h2`).
    pub name: &'static str,
    /// What it reimplements, in one line.
    pub summary: &'static str,
    /// Upstream file and commit it follows.
    pub upstream: &'static str,
    /// Its named variants; the first is the fixed behaviour.
    pub variants: &'static [VariantInfo],
    /// Its named fixes (`fixed` applies all of them).
    pub fixes: &'static [FixInfo],
    /// The operations its actors may perform.
    pub ops: &'static [OpInfo],
    /// Its configuration keys.
    pub config: &'static [ParamInfo],
}

/// A semantic problem in a scenario that only the model can see (the harness adds the location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// Index of the offending actor, if the problem is in one.
    pub actor: Option<usize>,
    /// Index of the offending operation within that actor.
    pub op: Option<usize>,
    /// The configuration key at fault, when the problem is in the configuration.
    pub key: Option<&'static str>,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl SpecError {
    /// A problem with the scenario as a whole.
    pub fn whole(message: impl Into<String>) -> Self {
        SpecError {
            actor: None,
            op: None,
            key: None,
            message: message.into(),
        }
    }

    /// A problem with configuration key `key`.
    pub fn config(key: &'static str, message: impl Into<String>) -> Self {
        SpecError {
            key: Some(key),
            ..SpecError::whole(message)
        }
    }

    /// A problem with operation `op` of actor `actor`.
    pub fn op(actor: usize, op: usize, message: impl Into<String>) -> Self {
        SpecError {
            actor: Some(actor),
            op: Some(op),
            ..SpecError::whole(message)
        }
    }
}

/// A model the harness can explore: the object-safe face of a [`crate::typed::TypedModel`]
/// (every model is written as one; the blanket adapter implements this trait).
pub trait Model: Send + Sync + 'static {
    /// Its self-description.
    fn info(&self) -> &'static ModelInfo;

    /// Checks beyond names and types (actor counts, argument ranges). Default: none.
    fn check(&self, _spec: &ScenarioSpec) -> Result<(), SpecError> {
        Ok(())
    }

    /// The one spelling of variant `name` (a named variant, or one the model builds from its
    /// fixes, such as `fixed-without=<fix>`), or why it is none, naming the valid ones.
    /// Default: the named variants only.
    fn variant(&self, name: &str) -> Result<String, String> {
        let named = self.info().variants.iter().map(|v| v.name);
        if named.clone().any(|n| n == name) {
            return Ok(name.to_owned());
        }
        let valid: Vec<&str> = named.collect();
        Err(format!(
            "unknown variant `{name}` (valid: {})",
            valid.join(", ")
        ))
    }

    /// Run one execution on the current (main) actor: create every object, spawn one facade
    /// actor per scenario actor, run their operations, join them. Called once per explored
    /// execution, inside the scheduler, with an execution context installed.
    fn run(&self, spec: &ScenarioSpec, variant: &str);
}

/// Every model poolcheck ships, in the order `list` shows them.
pub fn registry() -> Vec<&'static dyn Model> {
    vec![
        &crate::httpcore::HttpcoreModel,
        &crate::checkout_pool::CheckoutPoolModel,
        &crate::lifecycle::LifecycleModel,
        &crate::go_h2::GoH2Model,
    ]
}

/// Find a model by name.
pub fn find(name: &str) -> Option<&'static dyn Model> {
    registry().into_iter().find(|m| m.info().name == name)
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
