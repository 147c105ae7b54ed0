//! The dpor reduction is sound and tight: on small facade programs with known numbers of
//! Mazurkiewicz traces, and on shipped scenarios small enough to enumerate without reduction,
//! dpor reaches exactly the traces, verdicts and final states of the unreduced search, and runs no
//! two complete executions of the same trace. A deliberately broken reduction fails the same
//! comparison.

use poolcheck_harness::backend::dpor::{
    explore_program, explore_subject, Exploration, ExploreOptions, Reduction,
};
use poolcheck_harness::scenario::{load_file, AnyScenario};
use poolcheck_models::sync::{spawn, yield_now, Condvar, LockClass, Mutex, Plain};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Spawn `n` actors running `body(i)`, join them all.
fn actors(n: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let body = body.clone();
            spawn(&format!("t{i}"), move || body(i))
        })
        .collect();
    handles.into_iter().for_each(|h| h.join());
}

fn cells(n: usize) -> Arc<Vec<Plain<u64>>> {
    Arc::new((0..n).map(|_| Plain::new(0)).collect())
}

/// Explore `program` reduced and unreduced; both exhaust; same traces; dpor never repeats one.
fn compare(program: impl Fn() + Send + Sync + Clone + 'static) -> (Exploration, Exploration) {
    let full = explore_program(ExploreOptions::new(Reduction::None), program.clone());
    let dpor = explore_program(ExploreOptions::new(Reduction::Source), program);
    assert!(full.stats.exhausted && dpor.stats.exhausted);
    assert_eq!(dpor.traces, full.traces, "dpor must reach every trace");
    assert_eq!(
        dpor.outcomes, full.outcomes,
        "dpor must reach every final state"
    );
    assert_eq!(
        dpor.complete,
        dpor.traces.len() as u64,
        "dpor ran two complete executions of one trace"
    );
    (full, dpor)
}

fn independent(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let c = cells(n);
        actors(n, move |i| c[i].set(1));
    }
}

/// Every actor writes the one shared cell once.
fn shared_writers(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let c = cells(1);
        actors(n, move |i| c[0].set(i as u64));
    }
}

/// lastzero(n) (Abdulla et al., POPL 2014): actor 0 scans the array from the end for the last
/// zero; actor j sets `a[j] = a[j-1] + 1` (a read step, then a write step).
fn lastzero(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let a = cells(n + 1);
        actors(n + 1, move |t| {
            if t == 0 {
                for i in (0..=n).rev() {
                    if a[i].get() == 0 {
                        break;
                    }
                    yield_now("scan");
                }
            } else {
                let v = a[t - 1].get();
                yield_now("between read and write");
                a[t].set(v + 1);
            }
        });
    }
}

/// indexer(n) (Flanagan and Godefroid, POPL 2005): each actor inserts 4 values into a 128-slot
/// hash table by compare-and-swap, probing linearly; a failed CAS only reads. Only from 12
/// actors on do two hashes collide.
fn indexer(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let table = cells(128);
        actors(n, move |tid| {
            for m in 0..4u64 {
                let mut w = ((m * 11 + tid as u64) * 7) % 128;
                loop {
                    yield_now("cas");
                    let free = table[w as usize].read(|v| *v == 0);
                    if free {
                        table[w as usize].set(tid as u64 + 1);
                        break;
                    }
                    w = (w + 1) % 128;
                }
            }
        });
    }
}

/// filesystem(n) (Flanagan and Godefroid, POPL 2005): actor i locks inode i % 32 and, finding
/// it unallocated, searches for a free block from (2i) % 26, each block under its own lock.
/// Below 14 actors no two start at the same block: one trace; each actor beyond 13 shares its
/// first block with one earlier actor, doubling the traces (the published 2^(n-13)).
fn filesystem(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let lock = |name: String| Mutex::new(name, LockClass::blocking_ok("fs"), ());
        let inode_locks: Arc<Vec<_>> =
            Arc::new((0..32).map(|i| lock(format!("inode{i}"))).collect());
        let block_locks: Arc<Vec<_>> =
            Arc::new((0..26).map(|b| lock(format!("block{b}"))).collect());
        let (inode, busy) = (cells(32), cells(26));
        actors(n, move |i| {
            let _inode_guard = inode_locks[i % 32].lock();
            if inode[i % 32].get() == 0 {
                let mut b = (i * 2) % 26;
                loop {
                    let _block_guard = block_locks[b].lock();
                    if busy[b].get() == 0 {
                        busy[b].set(1);
                        inode[i % 32].set(b as u64 + 1);
                        break;
                    }
                    b = (b + 1) % 26;
                }
            }
        });
    }
}

/// Readers and writers of one cell under a lock, plus an unlocked counter the readers bump.
fn readers_writers(readers: usize, writers: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let lock = Arc::new(Mutex::new("rw", LockClass::blocking_ok("state"), 0u64));
        let seen = cells(1);
        actors(readers + writers, move |t| {
            if t < readers {
                let v = *lock.lock();
                seen[0].with(|s| *s += v);
            } else {
                *lock.lock() += 1;
            }
        });
    }
}

/// Each actor holds one lock across a scheduling point and leaves its mark in the cell behind it:
/// one trace per order of the critical sections (n!). The release between two critical sections
/// orders them in every execution, so only the race of the acquisitions themselves reverses
/// them (a reduction without it found 1 trace of 2).
fn critical_sections(n: usize) -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let lock = Arc::new(Mutex::new("cs", LockClass::blocking_ok("state"), 0u64));
        let seen = cells(1);
        actors(n, move |i| {
            let mut g = lock.lock();
            yield_now("inside");
            *g = *g * 10 + i as u64 + 1;
            seen[0].set(*g);
        });
    }
}

/// A waiter and a notifier on one condition variable, the notifier's flag set under the lock:
/// the notification may come before the wait (then the waiter sees the flag) or wake it.
fn wait_and_notify() -> impl Fn() + Send + Sync + Clone + 'static {
    move || {
        let lock = Arc::new(Mutex::new("flag", LockClass::blocking_ok("state"), false));
        let cond = Arc::new(Condvar::new("flag set"));
        let seen = cells(1);
        actors(2, move |i| {
            if i == 0 {
                let mut g = lock.lock();
                while !*g {
                    g = cond.wait(g);
                    seen[0].with(|v| *v += 1);
                }
            } else {
                *lock.lock() = true;
                cond.notify_all();
            }
        });
    }
}

#[test]
fn critical_sections_across_a_scheduling_point_have_n_factorial_traces() {
    for (n, traces) in [(2, 2), (3, 6)] {
        let (_, dpor) = compare(critical_sections(n));
        assert_eq!(dpor.traces.len(), traces, "{n} critical sections");
    }
}

#[test]
fn wait_and_notify_match_the_unreduced_search() {
    compare(wait_and_notify());
}

#[test]
fn independent_actors_have_one_trace() {
    let (full, dpor) = compare(independent(3));
    assert_eq!(dpor.traces.len(), 1);
    assert!(
        full.complete > dpor.complete,
        "the unreduced search runs every interleaving"
    );
}

#[test]
fn shared_writers_have_n_factorial_traces() {
    for (n, traces) in [(2, 2), (3, 6), (4, 24)] {
        let (_, dpor) = compare(shared_writers(n));
        assert_eq!(dpor.traces.len(), traces, "{n} writers");
    }
}

#[test]
fn lastzero_matches_the_unreduced_search() {
    for n in [2, 3] {
        compare(lastzero(n));
    }
}

#[test]
fn indexer_has_the_published_trace_counts() {
    for (n, traces) in [(3, 1), (11, 1), (12, 8)] {
        let dpor = explore_program(ExploreOptions::new(Reduction::Source), indexer(n));
        assert!(dpor.stats.exhausted, "indexer({n})");
        assert_eq!(dpor.traces.len(), traces, "indexer({n})");
        assert_eq!(
            dpor.complete, traces as u64,
            "indexer({n}) ran a trace twice"
        );
    }
}

#[test]
fn filesystem_has_the_published_trace_counts() {
    for (n, traces) in [(13, 1), (14, 2), (15, 4)] {
        let dpor = explore_program(ExploreOptions::new(Reduction::Source), filesystem(n));
        assert!(dpor.stats.exhausted, "filesystem({n})");
        assert_eq!(dpor.traces.len(), traces, "filesystem({n})");
        assert_eq!(
            dpor.complete, traces as u64,
            "filesystem({n}) ran a trace twice"
        );
    }
}

#[test]
fn readers_writers_match_the_unreduced_search() {
    compare(readers_writers(2, 1));
}

#[test]
fn a_broken_reduction_misses_traces() {
    let full = explore_program(ExploreOptions::new(Reduction::None), lastzero(2));
    let broken = explore_program(
        ExploreOptions::new(Reduction::BrokenSkipsReadRaces),
        lastzero(2),
    );
    assert!(
        broken.traces.len() < full.traces.len(),
        "skipping read races must lose traces ({} of {})",
        broken.traces.len(),
        full.traces.len()
    );
}

/// A checkout pool of one connection shared by two requests: small enough to enumerate without
/// reduction.
const SMALL_POOL: &str = r#"
version = 1
name = "small-pool"
model = "checkout-pool"
description = "two checkouts of one connection"
invariants = ["closed-while-active", "no-leak", "request-answered", "max-connections"]
[config]
max_size = 1
[[actors]]
name = "A"
ops = ["checkout", "checkin"]
[[actors]]
name = "B"
ops = ["checkout", "checkin"]
[schedulers.dpor]
[expect]
"*" = "pass"
"#;

/// One go-h2 request with headers and trailers: the client, its read loop and the peer, judged
/// by monitors that say which records they read (hpack-consistent, max-streams,
/// stream-after-goaway) and by ones that read none in order (lock-held-blocking,
/// request-answered, flow-control-consistent).
const ONE_H2_REQUEST: &str = r#"
version = 1
name = "one-h2-request"
model = "go-h2"
description = "one request with trailers"
invariants = ["hpack-consistent", "max-streams", "stream-after-goaway", "lock-held-blocking", "request-answered", "flow-control-consistent"]
[[actors]]
name = "A"
ops = [{ op = "request", headers = 64, body = 64, trailers = 64 }]
[schedulers.dpor]
[expect]
"*" = "pass"
"#;

fn inline_scenario(name: &str, text: &str) -> poolcheck_harness::scenario::Scenario {
    let dir = std::env::temp_dir().join(format!("poolcheck-dpor-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    let loaded = load_file(&path, &[]);
    std::fs::remove_dir_all(&dir).unwrap();
    match loaded {
        Ok(AnyScenario::Model(s)) => (*s).clone(),
        other => panic!("{name}: {:?}", other.err()),
    }
}

/// On scenarios small enough to enumerate without reduction, dpor reaches the same
/// (verdict, final state) pairs and traces, for fixed and buggy variants.
#[test]
fn scenarios_match_the_unreduced_search() {
    let pool = inline_scenario("small-pool", SMALL_POOL);
    for (scenario, variant) in [
        (&pool, "fixed"),
        (&pool, "lost-wakeup"),
        (&pool, "cancel-leaks-slot"),
    ] {
        let subject = scenario.subject(variant);
        let full = explore_subject(&subject, ExploreOptions::new(Reduction::None));
        let dpor = explore_subject(&subject, ExploreOptions::new(Reduction::Source));
        let counts = format!("{variant}: {:?} / {:?}", full.stats, dpor.stats);
        assert!(full.stats.exhausted && dpor.stats.exhausted, "{counts}");
        eprintln!("{counts}");
        assert_eq!(dpor.outcomes, full.outcomes, "{variant}");
        assert_eq!(dpor.traces, full.traces, "{variant}");
        assert!(dpor.stats.executions < full.stats.executions, "{variant}");
    }
}

/// What monitors say they read (one ghost object per stateful monitor and per part of the world
/// view, none for the others) loses no verdict and no final state against one ghost object for
/// every judged record, on a go-h2 request too big for the unreduced search (over a million
/// executions). Both unbounded: a preemption bound prunes differently under different
/// dependencies, so bounded runs are not comparable.
#[test]
fn monitors_finer_ghost_objects_lose_no_verdict() {
    let h2 = inline_scenario("one-h2-request", ONE_H2_REQUEST);
    for variant in ["fixed", "upstream-95888ee7"] {
        let subject = h2.subject(variant);
        let options = ExploreOptions::new(Reduction::Source);
        let coarse = explore_subject(
            &subject,
            ExploreOptions {
                one_ghost_object: true,
                ..options
            },
        );
        let fine = explore_subject(&subject, options);
        assert!(coarse.stats.exhausted && fine.stats.exhausted, "{variant}");
        let missing: Vec<_> = coarse.outcomes.difference(&fine.outcomes).collect();
        let extra: Vec<_> = fine.outcomes.difference(&coarse.outcomes).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{variant}: {} of {} missing, {} extra; first missing {:?}; first extra {:?}",
            missing.len(),
            coarse.outcomes.len(),
            extra.len(),
            missing.first(),
            extra.first()
        );
        assert!(
            fine.stats.executions <= coarse.stats.executions,
            "{variant}"
        );
    }
}

/// One go-h2 request, then a GOAWAY on the idle connection: at golang/net 4e4d966f the client
/// never closes it. The leak needs the read loop's `MarkDead` (under `pool.mu`) to come before
/// main's `CloseIdleConnections` (under `pool.mu` too): before dpor raced an acquisition with the
/// start of the lock's last holding period, it passed this exhaustively in 48 executions while
/// loom and PCT found the leak.
const IDLE_GOAWAY: &str = r#"
version = 1
name = "one-req-idle-goaway"
model = "go-h2"
description = "one request, then GOAWAY on the idle connection"
invariants = ["no-leak", "request-answered"]
[[actors]]
name = "A"
ops = ["request", { op = "goaway", conn = 1, close = false }]
[schedulers.dpor]
[expect]
"*" = "pass"
"#;

#[test]
fn an_order_of_two_critical_sections_is_not_lost_in_a_scenario() {
    let scenario = inline_scenario("one-req-idle-goaway", IDLE_GOAWAY);
    let subject = scenario.subject("upstream-4e4d966f");
    let dpor = explore_subject(&subject, ExploreOptions::new(Reduction::Source));
    assert!(dpor.stats.exhausted, "{:?}", dpor.stats);
    assert!(
        dpor.outcomes
            .iter()
            .any(|(verdict, _)| verdict == "no-leak"),
        "dpor must reach the leak: {:?}",
        dpor.outcomes.iter().map(|o| &o.0).collect::<BTreeSet<_>>()
    );
}
