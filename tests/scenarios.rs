//! The CI gate: one trial per scenario x variant x scheduler (and per pinned schedule), generated
//! from the files in `scenarios/`.
//!
//! `cargo test --features model -- <filter>` selects trials by substring of
//! `scenario/variant/scheduler`; underscores in the filter match dashes, so
//! `-- last_stream` and `-- last-stream` both select `last-stream-close-vs-new-stream-open`.
//!
//! One more trial, `meta/every-invariant-caught-and-passed`, checks the suite itself: a checker
//! that cannot fail proves nothing, so every registered invariant must be expected to catch some
//! variant and to pass some variant, under every scheduler of every scenario that checks it.

use libtest_mimic::{Arguments, Failed, Trial};
use poolcheck_harness::backend::{Bounds, SchedulerSpec};
use poolcheck_harness::monitor;
use poolcheck_harness::scenario::{load_dir, AnyScenario, Scenario};
use poolcheck_harness::trial::{run_trial, trials_of, ANY_OF};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn main() {
    let mut args = Arguments::from_args();
    args.filter = args.filter.map(|f| f.replace('_', "-"));
    args.skip = args.skip.into_iter().map(|f| f.replace('_', "-")).collect();
    libtest_mimic::run(&args, trials()).exit();
}

fn trials() -> Vec<Trial> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let loaded = match load_dir(&dir, &[&poolcheck_realstack::RealCrates]) {
        Ok(l) => l,
        Err(e) => {
            return vec![Trial::test("load-scenarios", move || {
                Err(e.to_string().into())
            })]
        }
    };
    let mut out = Vec::new();
    let mut scenarios = Vec::new();
    for item in loaded {
        match item {
            Ok(s @ AnyScenario::Model(_)) => {
                out.extend(model_trials(&s));
                scenarios.extend(s.as_model().cloned());
            }
            // Run by tests/realstack.rs, through the same `trials_of` and `run_trial`.
            Ok(AnyScenario::Family(_)) => {}
            Err(e) => {
                let name = format!("load/{}", e.file.display());
                out.push(Trial::test(name, move || Err(e.to_string().into())));
            }
        }
    }
    out.push(Trial::test(
        "meta/every-invariant-caught-and-passed",
        move || invariant_coverage(&scenarios),
    ));
    out
}

/// For every scheduler S and invariant I that some scenario checks under S: some scenario run
/// under S expects a variant to be caught by I, and some scenario checking I under S expects a
/// variant to pass. The std baseline is exempt from the first (it may miss races by design).
/// Every registered invariant must be checked somewhere.
fn invariant_coverage(scenarios: &[Arc<Scenario>]) -> Result<(), Failed> {
    let mut claims: BTreeSet<(String, &str)> = BTreeSet::new();
    let mut caught: BTreeSet<(String, &str)> = BTreeSet::new();
    let mut passed: BTreeSet<(String, &str)> = BTreeSet::new();
    for s in scenarios {
        for spec in s.schedulers.iter().map(SchedulerSpec::name) {
            let expected: Vec<&str> = s.variants().filter_map(|v| s.expected(v, spec)).collect();
            for inv in s.invariants.iter() {
                claims.insert((inv.clone(), spec));
                if expected.contains(&"pass") {
                    passed.insert((inv.clone(), spec));
                }
            }
            for e in expected.iter().filter(|e| **e != "pass") {
                for inv in e.split(ANY_OF) {
                    caught.insert((inv.to_owned(), spec));
                }
            }
        }
    }
    let mut gaps: Vec<String> = monitor::registry()
        .iter()
        .filter(|m| !claims.iter().any(|(i, _)| i == m.name))
        .map(|m| format!("no scenario checks `{}`", m.name))
        .collect();
    for (inv, spec) in &claims {
        let key = (inv.clone(), *spec);
        if *spec != "std" && !caught.contains(&key) {
            gaps.push(format!(
                "under {spec}, no variant is expected to be caught by `{inv}`"
            ));
        }
        if !passed.contains(&key) {
            gaps.push(format!(
                "under {spec}, no variant is expected to pass `{inv}`"
            ));
        }
    }
    if gaps.is_empty() {
        Ok(())
    } else {
        Err(gaps.join("\n").into())
    }
}

fn model_trials(scenario: &AnyScenario) -> Vec<Trial> {
    trials_of(scenario)
        .into_iter()
        .map(|t| {
            let name = t.name();
            let kind = t.method.name().to_owned();
            // Unjudged (no expectation in the file): listed and counted as ignored, run with
            // `--include-ignored`, where only a harness verdict fails it.
            let unjudged = t.expected.is_none();
            Trial::test(name, move || check(&t))
                .with_kind(kind)
                .with_ignored_flag(unjudged)
        })
        .collect()
}

fn check(t: &poolcheck_harness::trial::Trial) -> Result<(), Failed> {
    let r = run_trial(t, Bounds::default());
    if r.ok {
        return Ok(());
    }
    let mut msg = format!("{}\n", r.judgement);
    if let Some(c) = &r.counterexample {
        msg.push_str(&c.render_text());
    }
    Err(msg.into())
}
