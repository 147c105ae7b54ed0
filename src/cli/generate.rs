//! `poolcheck generate <model> --variant V`: search random operation scripts for one that
//! catches the variant while `fixed` passes, shrink it, and write it as an ordinary scenario
//! file whose `[expect]` holds every variant's verdict as run (see `harness/src/generate`).

use super::diagnostic::CliError;
use super::{GenerateArgs, Outcome};
use poolcheck_harness::generate::{expectations, generate as search, to_toml, GenerateSpec};
use poolcheck_harness::generate::{Found, NotFound};
use poolcheck_harness::monitor;
use poolcheck_harness::scenario::{hint_for, limits};
use poolcheck_models::model::{self, Args, Model, ParamKind, Value};

/// Run the command.
pub fn generate(a: &GenerateArgs) -> Result<Outcome, CliError> {
    let m = find_model(&a.model)?;
    check_variant(m, &a.variant)?;
    check_limits(a)?;
    let g = GenerateSpec {
        variant: a.variant.clone(),
        invariants: invariants(a)?,
        config: config(m, &a.config)?,
        actors: a.actors,
        max_ops: a.max_ops,
        tries: a.tries,
        seed: a.seed,
        iterations: a.iterations,
        step_bound: a.step_bound,
    };
    let name = file_name(a);
    match search(m, &g) {
        Ok(found) => write(m, &name, &found, &g, a),
        Err(NotFound::Exhausted(n)) => {
            eprintln!(
                "no script caught `{}` in {n} candidates (seed {}); try --tries, --actors, \
                 --max-ops, --iterations or another --seed",
                a.variant, a.seed
            );
            Ok(Outcome::NotAsExpected)
        }
        Err(NotFound::FixedFails(spec, invariant)) => {
            eprintln!(
                "a script that catches `{}` also fails `fixed` with {invariant}: a finding about \
                 the model or the pool, not a regression test. The script:\n{spec:#?}",
                a.variant
            );
            Ok(Outcome::NotAsExpected)
        }
    }
}

fn write(
    m: &'static dyn Model,
    name: &str,
    found: &Found,
    g: &GenerateSpec,
    a: &GenerateArgs,
) -> Result<Outcome, CliError> {
    let expect = expectations(m, g, found).map_err(|e| CliError::usage(e, None))?;
    let text = to_toml(m, name, found, g, &expect);
    let ops: usize = found.spec.actors.iter().map(|x| x.ops.len()).sum();
    eprintln!(
        "caught `{}` as {} after {} candidate(s); shrunk to {} actor(s), {ops} operation(s)",
        g.variant,
        found.invariant,
        found.tries,
        found.spec.actors.len()
    );
    match &a.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| {
                CliError::usage(format!("cannot write `{}`: {e}", path.display()), None)
            })?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(Outcome::AsExpected)
}

/// The generated file must load: a kebab-case name, an actor count and budget in range.
fn check_limits(a: &GenerateArgs) -> Result<(), CliError> {
    let usage = |m: String| {
        CliError::usage(
            m,
            Some("docs/scenario-format.md lists the limits".to_owned()),
        )
    };
    limits::kebab_case("scenario name (the --out file's stem)", &file_name(a)).map_err(usage)?;
    limits::in_range("actors", a.actors, &limits::ACTORS).map_err(usage)?;
    limits::in_range("max-ops", a.max_ops, &(1..=limits::MAX_OPS)).map_err(usage)?;
    limits::in_range("iterations", a.iterations, &limits::ITERATIONS).map_err(usage)?;
    limits::in_range("step-bound", a.step_bound, &limits::STEP_BOUND).map_err(usage)
}

/// The scenario name: the `--out` file's stem (the loader requires it), else `generated-<variant>`.
fn file_name(a: &GenerateArgs) -> String {
    a.out
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("generated-{}", a.variant))
}

fn find_model(name: &str) -> Result<&'static dyn Model, CliError> {
    model::find(name).ok_or_else(|| {
        let names: Vec<&str> = model::registry().iter().map(|m| m.info().name).collect();
        CliError::usage(
            format!("unknown model `{name}`"),
            Some(hint_for(name, names.iter().copied())),
        )
    })
}

fn check_variant(m: &dyn Model, variant: &str) -> Result<(), CliError> {
    let names: Vec<&str> = m.info().variants.iter().map(|v| v.name).collect();
    if variant == "fixed" || !names.contains(&variant) {
        let help = if variant == "fixed" {
            "generate looks for a script that catches a buggy variant; name one".to_owned()
        } else {
            hint_for(variant, names.iter().copied())
        };
        return Err(CliError::usage(
            format!("`{variant}` is not a buggy variant of `{}`", m.info().name),
            Some(help),
        ));
    }
    Ok(())
}

/// `--invariants a,b`, each one known; default: every registered invariant.
fn invariants(a: &GenerateArgs) -> Result<Vec<String>, CliError> {
    let known: Vec<&str> = monitor::registry().iter().map(|m| m.name).collect();
    let Some(list) = &a.invariants else {
        return Ok(known.iter().map(|s| (*s).to_owned()).collect());
    };
    list.split(',')
        .map(str::trim)
        .map(|i| match known.contains(&i) {
            true => Ok(i.to_owned()),
            false => Err(CliError::usage(
                format!("unknown invariant `{i}`"),
                Some(hint_for(i, known.iter().copied())),
            )),
        })
        .collect()
}

/// `--config key=value`, typed by the model's configuration keys.
fn config(m: &dyn Model, pairs: &[String]) -> Result<Args, CliError> {
    let keys = m.info().config;
    let mut args = Args::default();
    for pair in pairs {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            CliError::usage(
                format!("`{pair}` is not key=value"),
                Some("--config max_size=2".into()),
            )
        })?;
        let Some(key) = keys.iter().find(|p| p.name == k.trim()) else {
            let names = keys.iter().map(|p| p.name);
            return Err(CliError::usage(
                format!("unknown configuration key `{k}` of `{}`", m.info().name),
                Some(hint_for(k, names)),
            ));
        };
        let value = value(key.kind, k, v.trim())?;
        if let Value::Int(n) = value {
            limits::in_range(key.name, n, &(key.min..=key.max))
                .map_err(|e| CliError::usage(e, Some(key.doc.to_owned())))?;
        }
        args.0.insert(key.name.to_owned(), value);
    }
    Ok(args)
}

fn value(kind: ParamKind, key: &str, text: &str) -> Result<Value, CliError> {
    let bad = || CliError::usage(format!("`{key}` takes {}, not `{text}`", kind.name()), None);
    match kind {
        ParamKind::Int => text.parse().map(Value::Int).map_err(|_| bad()),
        ParamKind::Bool => text.parse().map(Value::Bool).map_err(|_| bad()),
        ParamKind::Str => Ok(Value::Str(text.to_owned())),
    }
}
