//! poolcheck explores the pool under every scheduler its Builder offers: the buggy version
//! opens more connections than the pool allows, with a counterexample; the fixed one never does.

use own_pool::{Pool, Version};
use poolcheck::monitor::{Cx, Monitor, Record};
use poolcheck::sync::Arc;
use poolcheck::{thread, Builder};

/// The invariant: never more connections opened than the pool's `max`.
const WITHIN_MAX: &str = "within-max";

#[derive(Default)]
struct WithinMax {
    max: Option<i64>,
    opened: i64,
}

impl Monitor for WithinMax {
    fn on_record(&mut self, _cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let Some(ev) = rec.kind.user_event() else {
            return Ok(());
        };
        match ev.name {
            "pool-created" => self.max = ev.get("max"),
            "connected" => self.opened += 1,
            _ => return Ok(()),
        }
        match self.max {
            Some(max) if self.opened > max => Err(format!(
                "connection {} opened while {max} of at most {max} were open",
                ev.get("conn").unwrap_or(-1)
            )),
            _ => Ok(()),
        }
    }
}

/// Three callers share a pool of at most two connections: each gets one, uses it, gives it back.
fn three_callers(version: Version) {
    let pool = Arc::new(Pool::new(2, version));
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            thread::spawn(move || {
                let conn = pool.get();
                thread::yield_now();
                pool.put(conn);
            })
        })
        .collect();
    for c in callers {
        c.join().unwrap();
    }
}

fn builder(variant: &str) -> Builder {
    Builder::new()
        .name("three-callers")
        .variant(variant)
        .monitor(
            WITHIN_MAX,
            "the pool never has more connections open than its max",
            WithinMax::default,
        )
        .report_dir("target/poolcheck-reports")
}

#[test]
fn the_fixed_pool_passes_under_every_scheduler() {
    builder("fixed").check(|| three_callers(Version::Fixed));
}

#[test]
fn counting_after_connect_is_caught_with_a_counterexample() {
    let report = builder("count-after-connect")
        .run(|| three_callers(Version::CountAfterConnect))
        .unwrap();
    for run in &report.runs {
        let name = run.scheduler.name();
        if !run.scheduler.must_catch() && run.passed() {
            continue; // std threads are the baseline: they may miss it.
        }
        assert_eq!(run.verdict(), WITHIN_MAX, "{name}");
        let text = run.failure_text().unwrap();
        assert!(text.contains("of at most 2 were open"), "{name}: {text}");
        assert!(
            run.written.as_ref().is_some_and(|p| p.html.exists()),
            "{name}"
        );
    }
}

#[test]
fn the_counterexample_replays_exactly_from_its_report() {
    let found = builder("count-after-connect")
        .run(|| three_callers(Version::CountAfterConnect))
        .unwrap();
    for name in ["loom", "pct", "dpor"] {
        let first = found.run_named(name).unwrap();
        let json = &first.written.as_ref().unwrap().json;
        let again = builder("count-after-connect")
            .replay_report(json)
            .unwrap()
            .run(|| three_callers(Version::CountAfterConnect))
            .unwrap();
        let trace = |r: &poolcheck::SchedulerRun| r.counterexample.clone().unwrap().trace;
        assert_eq!(trace(first), trace(&again.runs[0]), "{name}");
    }
}
