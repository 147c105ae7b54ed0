//! The library API end to end: a buggy closure is caught under every scheduler the Builder
//! offers and the fixed one passes, a user monitor judges user events, failures replay byte for
//! byte, and bad settings are refused before anything runs.

use poolcheck::monitor::{Cx, Monitor, Record};
use poolcheck::sync::{Arc, Condvar, Mutex};
use poolcheck::{probe, thread, Builder, SchedulerSpec, UserEvent};

/// Two threads each take a ticket from a counter; `buggy` reads and writes it under two
/// separate lock acquisitions (a lost update), and every thread reports the ticket it got.
fn tickets(buggy: bool) {
    let next = Arc::new(Mutex::new(0));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let next = next.clone();
            thread::spawn(move || {
                let ticket = if buggy {
                    let seen = *next.lock().unwrap();
                    *next.lock().unwrap() = seen + 1;
                    seen
                } else {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                probe(UserEvent::new("ticket").with("n", ticket));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// No ticket is handed out twice.
#[derive(Default)]
struct UniqueTickets(Vec<i64>);

impl Monitor for UniqueTickets {
    fn on_record(&mut self, _cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let Some(ev) = rec.kind.user_event().filter(|e| e.is("ticket")) else {
            return Ok(());
        };
        let n = ev.get("n").unwrap_or(-1);
        if self.0.contains(&n) {
            return Err(format!("ticket {n} was handed out twice"));
        }
        self.0.push(n);
        Ok(())
    }
}

const UNIQUE: &str = "unique-tickets";

fn builder() -> Builder {
    let mut b = Builder::new().monitor(
        UNIQUE,
        "no ticket is handed out twice",
        UniqueTickets::default,
    );
    b.step_bound = 500;
    b
}

#[test]
fn a_lost_update_is_caught_under_every_scheduler_and_the_fix_passes() {
    let buggy = builder().variant("buggy").run(|| tickets(true)).unwrap();
    let names: Vec<&str> = buggy.runs.iter().map(|r| r.scheduler.name()).collect();
    assert_eq!(names, ["loom", "random", "pct", "dpor", "std"]);
    for run in buggy.runs.iter().filter(|r| r.scheduler.must_catch()) {
        assert_eq!(run.verdict(), UNIQUE, "{}", run.scheduler.name());
        let text = run.failure_text().unwrap();
        assert!(
            text.contains("ticket 0 was handed out twice") || text.contains("twice"),
            "{text}"
        );
        assert!(
            text.contains("no ticket is handed out twice"),
            "the definition is shown: {text}"
        );
    }
    let fixed = builder().variant("fixed").run(|| tickets(false)).unwrap();
    for run in &fixed.runs {
        assert!(
            run.passed(),
            "{}: {:?}",
            run.scheduler.name(),
            run.failure_text()
        );
    }
}

#[test]
fn check_panics_with_the_counterexample_table() {
    let caught = std::panic::catch_unwind(|| {
        builder()
            .scheduler(SchedulerSpec::Dpor {
                preemption_bound: None,
                max_executions: 1_000,
            })
            .check(|| tickets(true));
    });
    let payload = caught.expect_err("the buggy closure must fail the check");
    let text = payload.downcast_ref::<String>().unwrap();
    assert!(text.contains("unique-tickets"), "{text}");
    assert!(
        text.contains("locks held"),
        "the interleaving table: {text}"
    );
    assert!(text.contains("DporReplay"), "the replay line: {text}");
}

#[test]
fn a_failure_replays_to_the_same_trace() {
    for scheduler in [
        SchedulerSpec::Pct {
            seed: 3,
            depth: 2,
            iterations: 200,
        },
        SchedulerSpec::Dpor {
            preemption_bound: Some(2),
            max_executions: 1_000,
        },
    ] {
        let found = builder()
            .scheduler(scheduler)
            .run(|| tickets(true))
            .unwrap();
        let first = found.failure().expect("caught");
        let replay = first.replay().expect("a schedule");
        let again = builder().scheduler(replay).run(|| tickets(true)).unwrap();
        let second = again.failure().expect("the replay fails too");
        let trace = |r: &poolcheck::SchedulerRun| r.counterexample.as_ref().unwrap().trace.clone();
        assert_eq!(trace(first), trace(second));
        assert_eq!(first.verdict(), second.verdict());
    }
}

#[test]
fn reports_are_written_and_a_loom_failure_replays_from_its_report() {
    let dir = std::env::temp_dir().join(format!("poolcheck-library-{}", std::process::id()));
    let loom = SchedulerSpec::Loom {
        preemption_bound: 2,
        max_executions: 10_000,
        max_branches: 10_000,
    };
    let report = builder()
        .scheduler(loom)
        .name("lost-update")
        .variant("buggy")
        .report_dir(&dir)
        .run(|| tickets(true))
        .unwrap();
    let written = report
        .failure()
        .and_then(|r| r.written.clone())
        .expect("reports");
    assert!(written.json.ends_with("lost-update/buggy.loom.json"));
    assert!(written.markdown.exists() && written.html.exists());
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(md.contains("replay_report"), "{md}");
    let replayed = builder().replay_report(&written.json).unwrap();
    assert_eq!(replayed.schedulers[0].name(), "loom-replay");
    let again = replayed.run(|| tickets(true)).unwrap();
    assert_eq!(again.failure().map(|r| r.verdict()), Some(UNIQUE));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_panic_in_the_closure_is_a_failure_with_its_message() {
    let report = Builder::new()
        .scheduler(SchedulerSpec::Random {
            seed: 0,
            iterations: 200,
        })
        .run(|| {
            let n = Arc::new(Mutex::new(0));
            let t = {
                let n = n.clone();
                thread::spawn(move || *n.lock().unwrap() += 1)
            };
            let seen = *n.lock().unwrap();
            t.join().unwrap();
            assert_eq!(seen, 1, "the thread ran first");
        })
        .unwrap();
    let run = report.failure().expect("some schedule runs main first");
    assert_eq!(run.verdict(), "model-panic");
    assert!(run.failure_text().unwrap().contains("the thread ran first"));
}

#[test]
fn a_lost_wakeup_is_reported_as_a_deadlock_naming_the_waiter() {
    let report = Builder::new()
        .scheduler(SchedulerSpec::Dpor {
            preemption_bound: None,
            max_executions: 1_000,
        })
        .run(|| {
            let ready = Arc::new((Mutex::new(false), Condvar::new()));
            let t = {
                let ready = ready.clone();
                thread::spawn(move || *ready.0.lock().unwrap() = true)
            };
            let (flag, cond) = &*ready;
            let _unused = cond.wait_while(flag.lock().unwrap(), |set| !*set).unwrap();
            t.join().unwrap();
        })
        .unwrap();
    let run = report.failure().expect("the setter never notifies");
    assert_eq!(run.verdict(), "request-answered");
    assert!(run.failure_text().unwrap().contains("waits for condition"));
}

#[test]
fn bad_settings_are_refused_before_anything_runs() {
    let err = |b: Builder| b.run(|| {}).unwrap_err().to_string();
    assert!(err(Builder::new().invariant("no-leek")).contains("did you mean `no-leak`"));
    let clash = Builder::new().monitor("no-leak", "x", UniqueTickets::default);
    assert!(err(clash).contains("already the name"));
    let twice = builder().monitor(UNIQUE, "x", UniqueTickets::default);
    assert!(err(twice).contains("given twice"));
    let mut empty = Builder::new();
    empty.schedulers.clear();
    assert!(err(empty).contains("`schedulers` is empty"));
    let zero = Builder::new().scheduler(SchedulerSpec::Random {
        seed: 0,
        iterations: 0,
    });
    assert!(err(zero).contains("iterations"));
    assert!(err(Builder::new().variant("Not Kebab")).contains("kebab-case"));
}
