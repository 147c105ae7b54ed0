//! The simplest counterexample on a shipped seed bug: checkout-pool's `lost-wakeup`
//! (javaee/glassfish#21355, a checkin that notifies before the waiter waits) in
//! `scenarios/cancel-vs-handoff.toml`, found by shuttle's random scheduler with needless
//! preemptions and minimised before it is reported.

use poolcheck_harness::backend::{run, Bounds, SchedulerSpec};
use poolcheck_harness::scenario::{load_file, AnyScenario, Scenario};
use std::path::Path;

fn scenario() -> Scenario {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/cancel-vs-handoff.toml");
    match load_file(&file, &[]) {
        Ok(AnyScenario::Model(s)) => (*s).clone(),
        _ => panic!("cancel-vs-handoff loads"),
    }
}

#[test]
fn a_random_counterexample_of_lost_wakeup_gets_simpler_and_still_replays() {
    let s = scenario();
    let subject = s.subject("lost-wakeup");
    let random = SchedulerSpec::Random {
        seed: 1,
        iterations: 2_000,
    };
    let bad = run(&subject, &random, Bounds::default());
    assert_eq!(bad.verdict.name(), "request-answered", "{:?}", bad.verdict);
    let simplest = bad.simplest.expect("counts");
    let (now, found) = (simplest.counts, simplest.found);
    assert!(now.preemptions < found.preemptions, "{simplest:?}");
    assert!(simplest.reexecutions > 1, "{simplest:?}");
    let schedule = bad.schedule.clone().expect("a schedule");
    let again = run(
        &subject,
        &SchedulerSpec::Replay { schedule },
        Bounds::default(),
    );
    assert_eq!(again.executions, 1);
    assert_eq!(again.verdict, bad.verdict);
    assert_eq!(
        again.ghost.as_ref().map(|g| &g.log),
        bad.ghost.as_ref().map(|g| &g.log)
    );
    assert_eq!(again.simplest.map(|x| x.counts), Some(now));
}

#[test]
fn the_same_counterexample_is_minimised_to_the_same_schedule() {
    let s = scenario();
    let pct = SchedulerSpec::Pct {
        seed: 3,
        depth: 3,
        iterations: 2_000,
    };
    let a = run(&s.subject("lost-wakeup"), &pct, Bounds::default());
    let b = run(&s.subject("lost-wakeup"), &pct, Bounds::default());
    assert!(a.schedule.is_some());
    assert_eq!(a.schedule, b.schedule);
    assert_eq!(a.simplest, b.simplest);
}
