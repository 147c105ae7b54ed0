//! The CI gate: one trial per scenario x variant x scheduler (and per pinned schedule), generated
//! from the files in `scenarios/`.
//!
//! `cargo test --features model -- <filter>` selects trials by substring of
//! `scenario/variant/scheduler`; underscores in the filter match dashes, so
//! `-- last_stream` and `-- last-stream` both select `last-stream-close-vs-new-stream-open`.

use libtest_mimic::{Arguments, Failed, Trial};
use poolcheck_harness::backend::Bounds;
use poolcheck_harness::scenario::{load_dir, Loaded};
use poolcheck_harness::trial::{run_trial, trials_of};
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
    let loaded = match load_dir(&dir) {
        Ok(l) => l,
        Err(e) => {
            return vec![Trial::test("load-scenarios", move || {
                Err(e.to_string().into())
            })]
        }
    };
    let mut out = Vec::new();
    for item in loaded {
        match item {
            Ok(Loaded::Model(s)) => out.extend(model_trials(Arc::new(*s))),
            Ok(Loaded::Real(_)) => {} // run by tests/realstack.rs
            Err(e) => {
                let name = format!("load/{}", e.file.display());
                out.push(Trial::test(name, move || Err(e.to_string().into())));
            }
        }
    }
    out
}

fn model_trials(scenario: Arc<poolcheck_harness::scenario::Scenario>) -> Vec<Trial> {
    trials_of(&scenario)
        .into_iter()
        .map(|t| {
            let name = t.name();
            let kind = t.scheduler.name();
            Trial::test(name, move || check(&t)).with_kind(kind)
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
