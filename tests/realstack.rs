//! Real-stack trials (issue 7): the real `h2`, `hyper` and `hyper-util` crates explored under
//! shuttle. Every trial the CLI runs (`trials_of` and `run_trial`, as for models): one per
//! `scenarios/real-*.toml` x scheduler (`real-goaway-vs-request/upstream/pct`) and the
//! differential check where the scenario mirrors a model scenario
//! (`real-goaway-vs-request/upstream/differential`); plus per scenario a determinism trial (same
//! seed twice: identical wire bytes, frames, outcome counts), shuttle's uncontrolled-
//! nondeterminism check, and three trials that show the checker catching what it
//! must: a deliberately wrong expectation that yields a replayable counterexample, a
//! differential without its documented difference (and with a stale one), and the direct-spawn
//! trap that the watchdog reports instead of hanging.
//!
//! `cargo test --features model -- real-` runs them all.

use libtest_mimic::{Arguments, Failed, Trial};
use poolcheck_harness::backend::{Bounds, SchedulerSpec};
use poolcheck_harness::scenario::AnyScenario;
use poolcheck_harness::trial::{run_trial, trials_of};
use poolcheck_realstack::{
    self as real, Disposition, OutcomeClass, RealRun, RealScenario, RealSubject,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Executions per determinism and nondeterminism-check run, per case.
const CHECK_ITERATIONS: u64 = 25;

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let mut goaway = None;
    for path in scenario_files() {
        let subject = match real::load(&path) {
            Ok(sc) => Arc::new(RealSubject::new(sc)),
            Err(e) => {
                let name = stem(&path);
                trials.push(Trial::test(format!("{name}/load"), move || {
                    Err(Failed::from(e.to_string()))
                }));
                continue;
            }
        };
        // Every trial the CLI runs (each budget, then the differential), through the same
        // `trials_of` and `run_trial`; the subject explores each budget once for both.
        for t in trials_of(&AnyScenario::Family(subject.clone())) {
            trials.push(Trial::test(t.name(), move || judged(&t)));
        }
        let name = subject.scenario().about.name.clone();
        let s = subject.clone();
        trials.push(Trial::test(format!("{name}/determinism"), move || {
            determinism(s.scenario())
        }));
        let s = subject.clone();
        trials.push(Trial::test(
            format!("{name}/nondeterminism-check"),
            move || nondeterminism_check(s.scenario()),
        ));
        if name == "real-goaway-vs-request" {
            goaway = Some(subject);
        }
    }
    if let Some(s) = goaway {
        trials.push(Trial::test(
            "real-goaway-vs-request/differential-catches-an-undocumented-difference",
            move || differential_catches_an_undocumented_difference(&s),
        ));
    }
    trials.push(Trial::test(
        "real-goaway-vs-request/wrong-expectation-replays",
        wrong_expectation_replays,
    ));
    trials.push(Trial::test(
        "real-watchdog/direct-spawn-hang-is-reported",
        direct_spawn_hang_is_reported,
    ));
    libtest_mimic::run(&args, trials).exit();
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn scenario_files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("the scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| stem(p).starts_with("real-") && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    out
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

fn judged(t: &poolcheck_harness::trial::Trial) -> Result<(), Failed> {
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

fn determinism(sc: &RealScenario) -> Result<(), Failed> {
    let random = SchedulerSpec::Random {
        seed: 11,
        iterations: CHECK_ITERATIONS,
    };
    let run = || real::run(sc, &random, real::WATCHDOG).expect("random runs");
    let (a, b) = (run(), run());
    let same = a.wire_digest == b.wire_digest
        && a.wire_log == b.wire_log
        && a.outcome_counts == b.outcome_counts
        && a.requests == b.requests
        && a.verdict == b.verdict
        && a.schedule == b.schedule;
    if same {
        Ok(())
    } else {
        Err(format!(
            "the same seed gave different runs:\n--- first\n{}\n--- second\n{}",
            a.render_text(),
            b.render_text()
        )
        .into())
    }
}

fn nondeterminism_check(sc: &RealScenario) -> Result<(), Failed> {
    let t = real::check_nondeterminism(sc, 5, CHECK_ITERATIONS).expect("runs");
    // The check replays every schedule; a forbidden outcome is not its business.
    if t.verdict == "nondeterminism" || t.verdict == "model-panic" {
        Err(t.render_text().into())
    } else {
        Ok(())
    }
}

/// The differential check can fail: without its documented difference, the real trials of
/// `real-goaway-vs-request` show a class (`failed-unprocessed-not-retried`, hyperium/hyper#2500)
/// the model never reaches; declaring a class the model does reach a difference is stale. The
/// budgets' explorations are the subject's, shared with its trials.
fn differential_catches_an_undocumented_difference(subject: &RealSubject) -> Result<(), Failed> {
    let mut sc = subject.scenario().clone();
    let trials: Vec<RealRun> = sc
        .schedulers
        .iter()
        .map(|b| subject.explore(b))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&RealRun> = trials.iter().collect();
    let model = real::run_model_side(&sc)
        .map_err(|e| e.to_string())?
        .ok_or("no model side")?;
    let d = sc.differential.as_mut().ok_or("no [differential]")?;
    d.known_differences.clear();
    let undocumented = real::differential(&sc, &refs, &model);
    if !undocumented
        .as_ref()
        .is_err_and(|e| e.contains("failed-unprocessed-not-retried"))
    {
        return Err(format!("an undocumented difference passed: {undocumented:?}").into());
    }
    let d = sc.differential.as_mut().ok_or("no [differential]")?;
    d.known_differences = vec![OutcomeClass::Ok, OutcomeClass::FailedUnprocessedNotRetried];
    let stale = real::differential(&sc, &refs, &model);
    if !stale.as_ref().is_err_and(|e| e.contains("remove it")) {
        return Err(format!("a stale difference passed: {stale:?}").into());
    }
    Ok(())
}

/// Declaring `failed-unprocessed-not-retried` forbidden for hyper-util (which does produce it,
/// hyperium/hyper#2500) must give a counterexample whose schedule replays to the same verdict,
/// requests and wire.
fn wrong_expectation_replays() -> Result<(), Failed> {
    let path = scenarios_dir().join("real-goaway-vs-request.toml");
    let mut sc = real::load(&path).map_err(|e| e.to_string())?;
    sc.cases.retain(|c| c.name == "hyper-util-graceful");
    for c in &mut sc.cases {
        c.outcomes.insert(
            OutcomeClass::FailedUnprocessedNotRetried,
            Disposition::Forbidden,
        );
    }
    let pct = SchedulerSpec::Pct {
        seed: 1,
        depth: 3,
        iterations: 2000,
    };
    let found = real::run(&sc, &pct, real::WATCHDOG).map_err(|e| e.to_string())?;
    if found.verdict != "failed-unprocessed-not-retried" {
        return Err(format!("no counterexample:\n{}", found.render_text()).into());
    }
    let schedule = found
        .schedule
        .clone()
        .ok_or("a counterexample without a schedule")?;
    let again = real::replay(&sc, &schedule).map_err(|e| e.to_string())?;
    if (&again.verdict, &again.requests, &again.wire_log)
        != (&found.verdict, &found.requests, &found.wire_log)
    {
        return Err(format!(
            "the replay differs:\n--- found\n{}\n--- replayed\n{}",
            found.render_text(),
            again.render_text()
        )
        .into());
    }
    Ok(())
}

/// The trap the deferred executor avoids: spawning on shuttle inside hyper-util's pool lock
/// blocks the OS thread on a std mutex. The watchdog must report it as `request-answered`.
fn direct_spawn_hang_is_reported() -> Result<(), Failed> {
    let text = r#"
version = 1
name = "real-watchdog"
model = "hyper-util"
description = "hyper-util with the executor spawning directly under the pool lock"
[schedulers.random]
seed = 1
iterations = 200
[expect]
upstream = "request-answered"
[[cases]]
name = "direct"
client = "hyper-util"
executor = "direct"
[[cases.requests]]
name = "A"
[[cases.requests]]
name = "B"
start_after = [0, 3]
[[cases.requests]]
name = "C"
start_after = [0, 3]
"#;
    let sc = real::parse(Path::new("real-watchdog.toml"), text).map_err(|e| e.to_string())?;
    let random = SchedulerSpec::Random {
        seed: 1,
        iterations: 200,
    };
    let t = real::run(&sc, &random, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    if t.verdict == "request-answered"
        && t.detail
            .as_deref()
            .is_some_and(|d| d.contains("shuttle cannot see"))
    {
        Ok(())
    } else {
        Err(format!("the watchdog did not report the hang:\n{}", t.render_text()).into())
    }
}
