//! Generated scenarios: random operation scripts per actor, drawn from a model's own vocabulary,
//! explored until one catches a buggy variant; the catch is shrunk (operations, then actors) and
//! written out as an ordinary scenario file.
//!
//! Every candidate is first run against the `fixed` variant: a script that fails there is a
//! finding about the pool (or the model), never a regression test for the bug.

mod rng;
mod shrink;
mod write;

pub use rng::Rng;
pub use write::to_toml;

use crate::backend::{run, Bounds, SchedulerSpec, Subject, Verdict};
use poolcheck_models::model::{ActorSpec, Args, Model, OpSpec, ParamKind, ScenarioSpec, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateSpec {
    /// The buggy variant to catch.
    pub variant: String,
    /// Invariants to check.
    pub invariants: Vec<String>,
    /// Model configuration used for every candidate.
    pub config: Args,
    /// Actors per candidate (loom allows 4).
    pub actors: usize,
    /// Operations per actor at most.
    pub max_ops: usize,
    /// Candidates to try.
    pub tries: u64,
    /// Seed of the generator (and of the PCT explorer).
    pub seed: u64,
    /// PCT iterations per candidate.
    pub iterations: u64,
    /// Step bound per execution.
    pub step_bound: u64,
}

/// A generated, shrunk scenario that catches the variant and passes `fixed`.
#[derive(Clone, Debug)]
pub struct Found {
    /// Configuration and actors.
    pub spec: ScenarioSpec,
    /// The invariant that catches the variant.
    pub invariant: String,
    /// Candidates tried before the catch.
    pub tries: u64,
}

/// Why generation stopped without a scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum NotFound {
    /// No candidate caught the variant.
    Exhausted(u64),
    /// A candidate fails the fixed variant: the model or the pool is wrong.
    FixedFails(ScenarioSpec, String),
}

/// Generate scenarios until one catches `g.variant` (and passes `fixed`), then shrink it.
pub fn generate(model: &'static dyn Model, g: &GenerateSpec) -> Result<Found, NotFound> {
    let mut rng = Rng::new(g.seed);
    for attempt in 1..=g.tries {
        let spec = candidate(model, g, &mut rng);
        if model.check(&spec).is_err() {
            continue;
        }
        let Some(invariant) = caught(model, g, &spec, &g.variant) else {
            continue;
        };
        if let Some(v) = caught(model, g, &spec, "fixed") {
            return Err(NotFound::FixedFails(spec, v));
        }
        let spec = shrink::shrink(spec, |s| {
            model.check(s).is_ok()
                && caught(model, g, s, &g.variant).as_deref() == Some(invariant.as_str())
                && caught(model, g, s, "fixed").is_none()
        });
        return Ok(Found {
            spec,
            invariant,
            tries: attempt,
        });
    }
    Err(NotFound::Exhausted(g.tries))
}

/// The verdict of every variant of `model` on the generated scenario, under the PCT budget the
/// file will carry: `pass`, or the invariant that catches it. A variant that hits a bound or
/// panics cannot be written as an expectation: that is an error naming it.
pub fn expectations(
    model: &'static dyn Model,
    g: &GenerateSpec,
    found: &Found,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for v in model.info().variants {
        let verdict = caught(model, g, &found.spec, v.name).unwrap_or_else(|| "pass".into());
        if verdict != "pass" && !g.invariants.contains(&verdict) {
            return Err(format!(
                "variant `{}` gives `{verdict}` on the generated scenario, which no expectation \
                 can say; raise the step bound or check fewer invariants",
                v.name
            ));
        }
        out.push((v.name.to_owned(), verdict));
    }
    Ok(out)
}

/// The invariant `variant` violates on `spec` under PCT, if any.
fn caught(
    model: &'static dyn Model,
    g: &GenerateSpec,
    spec: &ScenarioSpec,
    variant: &str,
) -> Option<String> {
    let subject = Subject::of_model(
        model,
        Arc::new(spec.clone()),
        variant,
        Arc::new(g.invariants.clone()),
        g.step_bound,
    );
    let pct = SchedulerSpec::Pct {
        seed: g.seed,
        depth: 3,
        iterations: g.iterations,
    };
    match run(&subject, &pct, Bounds::default()).verdict {
        Verdict::Pass => None,
        other => Some(other.name().to_owned()),
    }
}

/// One random candidate: `g.actors` actors with 1..=max_ops operations each.
fn candidate(model: &dyn Model, g: &GenerateSpec, rng: &mut Rng) -> ScenarioSpec {
    let names: Vec<String> = (0..g.actors).map(|i| format!("a{i}")).collect();
    let actors = names
        .iter()
        .map(|name| {
            let n = 1 + rng.below(g.max_ops);
            let ops = (0..n).map(|_| random_op(model, &names, rng)).collect();
            ActorSpec {
                name: name.clone(),
                ops,
            }
        })
        .collect();
    ScenarioSpec {
        config: g.config.clone(),
        actors,
    }
}

fn random_op(model: &dyn Model, actors: &[String], rng: &mut Rng) -> OpSpec {
    let info = rng.pick(model.info().ops);
    let mut args = BTreeMap::new();
    for p in info.params {
        if rng.below(2) == 0 {
            continue; // keep the default
        }
        let value = match p.kind {
            ParamKind::Int => Value::Int(1 + rng.below(3) as i64),
            ParamKind::Bool => Value::Bool(rng.below(2) == 1),
            ParamKind::Str if !p.choices.is_empty() => Value::Str((*rng.pick(p.choices)).into()),
            ParamKind::Str => Value::Str(rng.pick(actors).clone()),
        };
        args.insert(p.name.to_owned(), value);
    }
    OpSpec {
        name: info.name.to_owned(),
        args: Args(args),
    }
}
