//! The backends and monitors end to end, on a self-contained toy of encode/httpcore#1062 (a
//! close path that empties the stream table outside the state lock and then decides "idle"
//! under it), so these tests do not depend on any shipped model.

use poolcheck_harness::backend::{run, Bounds, SchedulerSpec, Subject, Verdict};
use poolcheck_harness::report::Counterexample;
use poolcheck_harness::scenario::{AnyScenario, Expectation, Scenario};
use poolcheck_harness::trial::{run_trial, trials_of};
use poolcheck_models::model::{Model, ModelInfo, ScenarioSpec, VariantInfo, VariantKind};
use poolcheck_models::sync::{
    probe, spawn, yield_now, ConnPhase, Event, LockClass, Mutex, Plain, FACADE_DEADLOCK,
};
use std::sync::Arc;
use std::time::Duration;

struct Toy;

static INFO: ModelInfo = ModelInfo {
    name: "toy",
    summary: "toy",
    upstream: "",
    variants: &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "",
        },
        VariantInfo {
            name: "buggy",
            kind: VariantKind::Bug,
            upstream: "",
            summary: "",
        },
        VariantInfo {
            name: "runaway",
            kind: VariantKind::Bug,
            upstream: "",
            summary: "",
        },
    ],
    fixes: &[],
    ops: &[],
    config: &[],
};

impl Model for Toy {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }

    fn run(&self, _spec: &ScenarioSpec, variant: &str) {
        let buggy = variant == "buggy";
        let conn = Arc::new((
            Mutex::new("state_lock", LockClass::non_blocking("state"), ()),
            Plain::new(vec![1u32]),
        ));
        probe(Event::ConnCreated { conn: 0 });
        probe(Event::ConnPhase {
            conn: 0,
            phase: ConnPhase::Active,
        });
        probe(Event::StreamOpened {
            conn: 0,
            stream: 1,
            req: 1,
        });
        if variant == "deadlock" {
            return lock_order_inversion();
        }
        if variant == "runaway" {
            loop {
                yield_now("spin");
            }
        }
        let c = conn.clone();
        let a = spawn("A", move || close_last(&c, buggy));
        let c = conn.clone();
        let b = spawn("B", move || open_new(&c, buggy));
        a.join();
        b.join();
    }
}

type Conn = (Mutex<()>, Plain<Vec<u32>>);

/// Two actors take two locks in opposite orders.
fn lock_order_inversion() {
    let locks = Arc::new((
        Mutex::new("mu", LockClass::non_blocking("state"), ()),
        Mutex::new("wmu", LockClass::blocking_ok("write"), ()),
    ));
    let l = locks.clone();
    let a = spawn("A", move || {
        let _m = l.0.lock();
        let _w = l.1.lock();
    });
    let l = locks.clone();
    let b = spawn("B", move || {
        let _w = l.1.lock();
        let _m = l.0.lock();
    });
    a.join();
    b.join();
}

fn close_last(c: &Conn, buggy: bool) {
    if buggy {
        c.1.with(|e| e.retain(|s| *s != 1));
        probe(Event::StreamClosed { conn: 0, stream: 1 });
        yield_now("state_lock");
    }
    let _g = c.0.lock();
    if !buggy {
        c.1.with(|e| e.retain(|s| *s != 1));
        probe(Event::StreamClosed { conn: 0, stream: 1 });
    }
    if c.1.with(|e| e.is_empty()) {
        probe(Event::ConnPhase {
            conn: 0,
            phase: ConnPhase::Idle { expire_at: Some(5) },
        });
    }
}

fn open_new(c: &Conn, buggy: bool) {
    let g = c.0.lock();
    probe(Event::ConnPhase {
        conn: 0,
        phase: ConnPhase::Active,
    });
    if !buggy {
        // The fix on this side: reserve the stream-table entry while still holding the lock.
        c.1.with(|e| e.push(3));
    }
    drop(g);
    yield_now("semaphore.acquire");
    if buggy {
        c.1.with(|e| e.push(3));
    }
    probe(Event::StreamOpened {
        conn: 0,
        stream: 3,
        req: 2,
    });
}

static TOY: Toy = Toy;

fn subject(variant: &str) -> Subject {
    Subject::of_model(
        &TOY,
        Arc::new(ScenarioSpec::default()),
        variant,
        Arc::new(vec!["idle-while-active".into()]),
        200,
    )
}

fn loom() -> SchedulerSpec {
    SchedulerSpec::Loom {
        preemption_bound: 2,
        max_executions: 10_000,
        max_branches: 1_000,
    }
}

fn pct(seed: u64) -> SchedulerSpec {
    SchedulerSpec::Pct {
        seed,
        depth: 3,
        iterations: 2_000,
    }
}

#[test]
fn loom_catches_the_buggy_variant_and_exhausts_the_fixed_one() {
    let bad = run(&subject("buggy"), &loom(), Bounds::default());
    assert_eq!(bad.verdict.name(), "idle-while-active", "{:?}", bad.verdict);
    assert!(bad.loom_checkpoint.is_some());
    let good = run(&subject("fixed"), &loom(), Bounds::default());
    assert_eq!(good.verdict, Verdict::Pass);
    assert!(good.executions > 1);
}

#[test]
fn shuttle_schedulers_catch_the_buggy_variant_and_pass_the_fixed_one() {
    for spec in [
        pct(1),
        SchedulerSpec::Random {
            seed: 1,
            iterations: 2_000,
        },
        SchedulerSpec::Dfs {
            max_iterations: 10_000,
        },
    ] {
        let bad = run(&subject("buggy"), &spec, Bounds::default());
        assert_eq!(
            bad.verdict.name(),
            "idle-while-active",
            "{}: {:?}",
            spec.name(),
            bad.verdict
        );
        assert!(bad.schedule.is_some());
        let good = run(&subject("fixed"), &spec, Bounds::default());
        assert_eq!(good.verdict, Verdict::Pass, "{}", spec.name());
    }
}

#[test]
fn a_recorded_schedule_replays_the_violation_at_once() {
    let bad = run(&subject("buggy"), &pct(7), Bounds::default());
    let schedule = bad.schedule.clone().expect("a schedule");
    let replay = run(
        &subject("buggy"),
        &SchedulerSpec::Replay { schedule },
        Bounds::default(),
    );
    assert_eq!(replay.executions, 1);
    assert_eq!(replay.verdict, bad.verdict);
    assert_eq!(
        replay.ghost.as_ref().map(|g| &g.log),
        bad.ghost.as_ref().map(|g| &g.log)
    );
}

/// A dpor counterexample replays (`dpor-replay`) at once to the same verdict and log: a
/// violation a monitor judges, and a deadlock, which the facade sees only with the step log's
/// pending operations (an actor waiting to attempt a held lock counts as blocked). Without them
/// the replay saw the deadlock a decision late and diverged (issue 13). The committed
/// `settings-lower-max-streams-deadlock/upstream-1.0.9.dpor.json`, an anyio permit wait against a
/// lock, is replayed by `tests/cli.rs`.
#[test]
fn a_dpor_counterexample_replays_at_once_a_deadlock_too() {
    let dpor = SchedulerSpec::Dpor {
        preemption_bound: None,
        max_executions: 10_000,
    };
    for variant in ["buggy", "deadlock"] {
        let bad = run(&subject(variant), &dpor, Bounds::default());
        assert!(
            matches!(bad.verdict, Verdict::Violation(_)),
            "{variant}: {:?}",
            bad.verdict
        );
        let schedule = bad.schedule.clone().expect("a schedule");
        let again = run(
            &subject(variant),
            &SchedulerSpec::DporReplay { schedule },
            Bounds::default(),
        );
        assert_eq!(again.executions, 1, "{variant}");
        assert_eq!(again.verdict, bad.verdict, "{variant}");
        assert_eq!(
            again.ghost.as_ref().map(|g| &g.log),
            bad.ghost.as_ref().map(|g| &g.log),
            "{variant}"
        );
    }
}

#[test]
fn a_loom_checkpoint_replays_the_violation_at_once() {
    let bad = run(&subject("buggy"), &loom(), Bounds::default());
    let checkpoint = bad.loom_checkpoint.clone().expect("a checkpoint");
    let spec = SchedulerSpec::LoomReplay {
        preemption_bound: 2,
        checkpoint,
    };
    let replay = run(&subject("buggy"), &spec, Bounds::default());
    assert_eq!(replay.executions, 1);
    assert_eq!(replay.verdict, bad.verdict);
    assert_eq!(
        replay.ghost.as_ref().map(|g| &g.log),
        bad.ghost.as_ref().map(|g| &g.log)
    );
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let a = run(&subject("buggy"), &pct(3), Bounds::default());
    let b = run(&subject("buggy"), &pct(3), Bounds::default());
    assert_eq!(a.schedule, b.schedule);
    assert_eq!(
        a.ghost.as_ref().map(|g| &g.log),
        b.ghost.as_ref().map(|g| &g.log)
    );
}

#[test]
fn a_runaway_model_stops_at_its_step_bound_under_every_scheduler() {
    for spec in [loom(), pct(1), SchedulerSpec::Std { iterations: 3 }] {
        let r = run(&subject("runaway"), &spec, Bounds::default());
        match &r.verdict {
            Verdict::BoundHit(why) => assert!(why.contains("step bound"), "{why}"),
            other => panic!("{}: expected a bound hit, got {other:?}", spec.name()),
        }
    }
}

#[test]
fn std_threads_pass_the_fixed_variant() {
    let r = run(
        &subject("fixed"),
        &SchedulerSpec::Std { iterations: 200 },
        Bounds::default(),
    );
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.executions, 200);
}

#[test]
fn counterexample_json_round_trips() {
    let bad = run(&subject("buggy"), &pct(1), Bounds::default());
    let ghost = bad.ghost.expect("ghost");
    let trace = poolcheck_harness::trace::Trace::from_ghost(&ghost);
    let text = serde_json::to_string(&trace).unwrap();
    let back: poolcheck_harness::trace::Trace = serde_json::from_str(&text).unwrap();
    assert_eq!(back, trace);
    let _ = Counterexample::replay_command; // the full report round-trip lives in the CLI tests
}

/// Every scheduler reports a deadlock as `request-answered` naming who waits for what. Under
/// shuttle's schedulers and dpor the facade sees it itself, before shuttle's detector would print
/// its message and panic; loom's own detector reports it under loom.
#[test]
fn a_deadlock_is_reported_as_request_answered_naming_each_blocked_actor() {
    let dpor = SchedulerSpec::Dpor {
        preemption_bound: Some(2),
        max_executions: 1_000,
    };
    let random = SchedulerSpec::Random {
        seed: 1,
        iterations: 2_000,
    };
    let dfs = SchedulerSpec::Dfs {
        max_iterations: 1_000,
    };
    let found = run(&subject("deadlock"), &pct(1), Bounds::default());
    let replay = SchedulerSpec::Replay {
        schedule: found.schedule.expect("a schedule"),
    };
    let std = SchedulerSpec::Std { iterations: 2_000 };
    for spec in [loom(), pct(1), random, dfs, replay, dpor, std] {
        let bounds = Bounds {
            std_execution: Duration::from_millis(300),
            ..Bounds::default()
        };
        let r = run(&subject("deadlock"), &spec, bounds);
        let Verdict::Violation(v) = &r.verdict else {
            if spec.name() == "std" && r.verdict == Verdict::Pass {
                continue; // the baseline may never hit it
            }
            panic!("{}: {:?}", spec.name(), r.verdict)
        };
        assert_eq!(v.invariant, "request-answered", "{}", spec.name());
        assert!(
            v.message.contains("A waits for lock wmu (held by B)"),
            "{}",
            v.message
        );
        assert!(
            v.message.contains("B waits for lock mu (held by A)"),
            "{}",
            v.message
        );
        let by_facade = !matches!(spec.name(), "loom" | "std");
        assert_eq!(
            v.message.starts_with(FACADE_DEADLOCK),
            by_facade,
            "{}: {}",
            spec.name(),
            v.message
        );
    }
}

fn toy_scenario() -> Arc<Scenario> {
    Arc::new(Scenario {
        path: "scenarios/toy.toml".into(),
        name: "toy".into(),
        model: &TOY,
        description: "toy".into(),
        origin: None,
        invariants: Arc::new(vec!["idle-while-active".into()]),
        step_bound: 200,
        spec: Arc::new(ScenarioSpec::default()),
        schedulers: vec![pct(5)],
        expect: vec![
            Expectation::all("fixed", "pass"),
            Expectation::all("buggy", "idle-while-active"),
        ],
        pinned: vec![],
        proof_bound: None,
    })
}

#[test]
fn the_same_trial_renders_a_byte_identical_counterexample_twice() {
    let scenario = toy_scenario();
    let trial = trials_of(&AnyScenario::Model(scenario))
        .into_iter()
        .find(|t| t.variant == "buggy")
        .unwrap();
    let a = run_trial(&trial, Bounds::default());
    let b = run_trial(&trial, Bounds::default());
    assert!(a.ok && b.ok, "{}", a.judgement);
    let (ca, cb) = (a.counterexample.unwrap(), b.counterexample.unwrap());
    let (ta, tb) = (ca.render_text(), cb.render_text());
    assert_eq!(ta, tb);
    assert!(ta.contains("VIOLATION idle-while-active"), "{ta}");
    assert!(
        ta.contains("replay: cargo run --release -- replay reports/toy/buggy.pct.json"),
        "{ta}"
    );
}

#[test]
fn a_buggy_variant_that_passes_fails_its_trial() {
    let scenario = toy_scenario();
    let mut trial = trials_of(&AnyScenario::Model(scenario))
        .into_iter()
        .find(|t| t.variant == "fixed")
        .unwrap();
    trial.expected = Some("idle-while-active".into());
    let r = run_trial(&trial, Bounds::default());
    assert!(!r.ok);
    assert!(
        r.judgement.contains("the checker missed the bug"),
        "{}",
        r.judgement
    );
}

#[test]
fn loom_opens_every_race_window_of_the_toy_in_both_orders() {
    let r = run(&subject("fixed"), &loom(), Bounds::default());
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(r.coverage.pairs > 0, "{:?}", r.coverage);
    assert_eq!(r.coverage.both_orders, r.coverage.pairs, "{:?}", r.coverage);
}

#[test]
fn a_minimised_counterexample_is_no_less_simple_than_the_first_found_and_still_replays() {
    for spec in [
        pct(7),
        SchedulerSpec::Random {
            seed: 3,
            iterations: 2_000,
        },
        loom(),
    ] {
        let bad = run(&subject("buggy"), &spec, Bounds::default());
        let s = bad.simplest.expect("a counterexample has counts");
        assert!(s.counts <= s.found, "{}: {s:?}", spec.name());
        assert!(s.counts.preemptions.is_some(), "{}: {s:?}", spec.name());
        assert_eq!(s.counts.steps, bad.ghost.as_ref().map_or(0, |g| g.steps));
        let replay = match (&bad.schedule, &bad.loom_checkpoint) {
            (Some(schedule), _) => SchedulerSpec::Replay {
                schedule: schedule.clone(),
            },
            (None, Some(checkpoint)) => SchedulerSpec::LoomReplay {
                preemption_bound: 2,
                checkpoint: checkpoint.clone(),
            },
            (None, None) => panic!("{}: nothing to replay", spec.name()),
        };
        let again = run(&subject("buggy"), &replay, Bounds::default());
        assert_eq!(again.executions, 1);
        assert_eq!(again.verdict, bad.verdict, "{}", spec.name());
        assert_eq!(
            again.ghost.as_ref().map(|g| &g.log),
            bad.ghost.as_ref().map(|g| &g.log)
        );
        assert_eq!(again.simplest.map(|s| s.counts), Some(s.counts));
    }
}
