//! The test cargo-mutants runs for each mutant of `models/` and `harness/src/monitor/` (see
//! `.cargo/mutants.toml` and `docs/mutation-testing.md`): every judged trial of every model
//! scenario under the deterministic schedulers that are cheap on a debug build (pinned
//! replays, `pct`, `dpor`), one after another on one thread, stopping at the first trial not
//! as expected.
//!
//! Why not `tests/scenarios.rs`: a mutant is caught by its first failing trial, so stopping
//! there makes a caught mutant cost seconds instead of the whole suite, and one thread keeps a
//! run within a CPU share (`cargo mutants -j 1`). loom (slow on a debug build), random (PCT's
//! weaker sibling) and std (wall-clock threads, not deterministic) are left to the full suite,
//! which a survivor of this target should be run against before it is called one
//! (docs/mutation-testing.md).
//!
//! It is a test target of both `poolcheck-harness` and `poolcheck-models` (this one file):
//! cargo-mutants builds its unmutated baseline with the tests of each package it mutates, so
//! each must have it. It builds only with the `mutants` feature, so `cargo test --features model`
//! skips it; `cargo test -p poolcheck-models --features mutants --test mutants` runs it by hand; a filter
//! argument keeps only trials whose `scenario/variant/scheduler` name contains it (underscores
//! match dashes), and `--times` prints each trial's executions and wall time (to see which
//! trials a mutant pays for; the times are never judged).
//!
//! `POOLCHECK_MUTANTS_MODELS=go-h2,httpcore` keeps only the scenarios of those models.
//! `scripts/mutants.sh by-model` sets it when it mutates one model's folder: a model's folder
//! is reached from no other model (`models/src/model.rs` and `typed.rs` only name its type), so
//! the other models' trials cannot catch its mutants and would only make each survivor cost
//! the whole target (about 100 s of CPU instead of 30 s for go-h2, 20 s for httpcore).
//!
//! For the schemata driver (`scripts/mutants_schemata.py`), `--list` prints each trial's index
//! and name, and `POOLCHECK_MUTANTS_TRIALS=3,17` runs only the trials of those indices, in that
//! order: the ones that reach the mutant being judged.

use poolcheck_harness::backend::{Bounds, SchedulerSpec};
use poolcheck_harness::scenario::load_dir;
use poolcheck_harness::trial::{run_trial, trials_of, Trial};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let times = std::env::args().any(|a| a == "--times");
    let list = std::env::args().any(|a| a == "--list");
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|f| f.replace('_', "-"));
    let trials = match cheap_trials() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if list {
        for (i, t) in trials.iter().enumerate() {
            println!("{i}\t{}", t.name());
        }
        return ExitCode::SUCCESS;
    }
    let chosen = match chosen_trials(&trials) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let selected = chosen
        .into_iter()
        .filter(|t| filter.as_deref().is_none_or(|f| t.name().contains(f)));
    let mut ran = 0;
    for t in selected {
        let r = run_trial(t, Bounds::default());
        ran += 1;
        if times {
            let secs = r.elapsed.as_secs_f64();
            println!("{secs:8.3}s {:>7} {}", r.executions, r.name());
        }
        if !r.ok {
            eprintln!("FAILED {} after {ran} trial(s)\n{}", r.name(), r.judgement);
            if let Some(c) = &r.counterexample {
                eprintln!("{}", c.render_text());
            }
            return ExitCode::FAILURE;
        }
    }
    println!("{ran} trial(s) as expected");
    ExitCode::SUCCESS
}

/// Every judged model trial under a cheap deterministic scheduler: replays first (one
/// execution each), then `pct`, then `dpor`, so a mutant is usually caught early.
fn cheap_trials() -> Result<Vec<Trial>, String> {
    // Both packages that build this file sit one level below the workspace root.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let models = selected_models()?;
    let mut all = Vec::new();
    // No family is linked here: the real stack is not mutated, and its files (tables of their
    // own, a `model` the registry does not hold) are left out.
    for item in load_dir(&dir, &[]).map_err(|e| e.to_string())? {
        match item {
            Ok(s) if is_selected(&models, s.model_name()) => all.extend(trials_of(&s)),
            Ok(_) => {}
            Err(e) if !names_a_model(&e.file) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let rank = |t: &Trial| t.method.scheduler().and_then(cost_rank);
    let mut cheap: Vec<Trial> = all
        .into_iter()
        .filter(|t| t.expected.is_some() && rank(t).is_some())
        .collect();
    cheap.sort_by_key(rank);
    Ok(cheap)
}

/// The trials `POOLCHECK_MUTANTS_TRIALS` picks by index, in its order; all without it. An
/// index out of range is an error: the list it came from was of another tree.
fn chosen_trials(trials: &[Trial]) -> Result<Vec<&Trial>, String> {
    let Ok(list) = std::env::var("POOLCHECK_MUTANTS_TRIALS") else {
        return Ok(trials.iter().collect());
    };
    let pick = |i: &str| {
        let n: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` is not an index"))?;
        trials
            .get(n)
            .ok_or(format!("no trial {n} (there are {})", trials.len()))
    };
    let picked: Result<Vec<&Trial>, String> = list
        .split(',')
        .filter(|i| !i.is_empty())
        .map(pick)
        .collect();
    picked.map_err(|e| format!("POOLCHECK_MUTANTS_TRIALS: {e}"))
}

/// The models `POOLCHECK_MUTANTS_MODELS` names (comma-separated), or `None` for all; a
/// name no model has is an error, so a typo cannot make every mutant survive unjudged.
fn selected_models() -> Result<Option<Vec<String>>, String> {
    let Ok(list) = std::env::var("POOLCHECK_MUTANTS_MODELS") else {
        return Ok(None);
    };
    let names: Vec<String> = list.split(',').map(|m| m.trim().to_owned()).collect();
    let unknown = |m: &&String| poolcheck_models::model::find(m).is_none();
    match names.iter().find(unknown) {
        Some(bad) => Err(format!("POOLCHECK_MUTANTS_MODELS: no model `{bad}`")),
        None => Ok(Some(names)),
    }
}

fn is_selected(models: &Option<Vec<String>>, model: &str) -> bool {
    models.as_ref().is_none_or(|m| m.iter().any(|m| m == model))
}

/// Whether the file's `model` is one of the registered models (a real-crate file's is not).
fn names_a_model(file: &Path) -> bool {
    let model = std::fs::read_to_string(file)
        .ok()
        .and_then(|source| source.parse::<toml::Table>().ok())
        .and_then(|t| t.get("model").and_then(|m| m.as_str().map(str::to_owned)));
    model.is_none_or(|m| poolcheck_models::model::find(&m).is_some())
}

/// The order a scheduler's trials run in, or `None` for one this target leaves out.
fn cost_rank(s: &SchedulerSpec) -> Option<u8> {
    match s {
        SchedulerSpec::Replay { .. }
        | SchedulerSpec::DporReplay { .. }
        | SchedulerSpec::LoomReplay { .. } => Some(0),
        SchedulerSpec::Pct { .. } => Some(1),
        SchedulerSpec::Dpor { .. } => Some(2),
        SchedulerSpec::Loom { .. }
        | SchedulerSpec::Random { .. }
        | SchedulerSpec::Dfs { .. }
        | SchedulerSpec::Std { .. } => None,
    }
}
