//! Exploring one case with one scheduler, on a thread of its own, under a watchdog.
//!
//! shuttle runs every task of an execution on one OS thread and cannot see std mutexes: a task
//! that blocks on one (hyper-util's pool lock, say) stops the whole thread, silently and for
//! ever. The explorer therefore runs shuttle on its own thread and waits for it with a
//! watchdog: if no scheduling decision is taken for the watchdog period, the run is reported as
//! a `request-answered` violation with the seed and the schedule prefix of the stuck execution,
//! and the stuck thread is abandoned (it stays blocked; the process carries on).
//!
//! shuttle's own failures (a deadlock among tasks it can see, the step bound, a panic in the
//! subject) come back as panics from `Runner::run` and are judged here.

use crate::exec::{execute_once, judge, Aggregate, CurrentWorld, RequestRow};
use crate::glue::config;
use crate::outcome::OutcomeClass;
use crate::scenario::Case;
use crate::wire::WireRow;
use poolcheck_harness::backend::{install_quiet_panic_hook, Exploring, Recording, Tape};
use shuttle::scheduler::Scheduler;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What exploring one case found.
#[derive(Clone, Debug, Default)]
pub struct CaseRun {
    /// `pass` or the violated property.
    pub verdict: String,
    /// The violation in words.
    pub detail: Option<String>,
    /// Executions judged.
    pub executions: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The violating execution's schedule.
    pub schedule: Option<String>,
    /// Requests per class.
    pub counts: BTreeMap<OutcomeClass, u64>,
    /// Digest of every byte on every wire.
    pub digest: u64,
    /// The requests of the reported execution (the violating one, else the last).
    pub requests: Vec<RequestRow>,
    /// Its wire.
    pub rows: Vec<WireRow>,
    /// Executions in which some host got a replacement connection.
    pub replaced: u64,
}

enum Finish {
    Done(Option<String>),
    Stuck(u64),
}

/// The shared state of one case's exploration: what the exploring thread writes and the
/// caller reads once it finishes (or is abandoned by the watchdog).
#[derive(Clone)]
struct Shared {
    case: Arc<Case>,
    tape: Tape,
    agg: Arc<Mutex<Aggregate>>,
    current: CurrentWorld,
}

/// Explore `case` with `scheduler`.
pub fn explore_case(
    case: &Case,
    invariants: &[String],
    step_bound: u64,
    scheduler: Box<dyn Scheduler + Send>,
    watchdog: Duration,
) -> CaseRun {
    install_quiet_panic_hook();
    let shared = Shared {
        case: Arc::new(case.clone()),
        tape: Tape::default(),
        agg: Arc::default(),
        current: Arc::default(),
    };
    let start = Instant::now();
    let rx = match spawn_explorer(&shared, invariants, step_bound, scheduler) {
        Ok(rx) => rx,
        Err(e) => {
            return CaseRun {
                verdict: "model-panic".into(),
                detail: Some(format!("cannot start the exploring thread: {e}")),
                ..CaseRun::default()
            }
        }
    };
    let finish = wait(&rx, &shared.tape, watchdog);
    let mut run = CaseRun {
        elapsed: start.elapsed(),
        ..CaseRun::default()
    };
    let Some(mut agg) = try_lock(&shared.agg) else {
        run.verdict = "request-answered".into();
        run.detail = Some("the stuck execution holds the aggregate".into());
        return run;
    };
    let (verdict, detail) = judge_finish(&shared, invariants, &mut agg, finish, watchdog);
    if verdict != "pass" {
        run.schedule = Some(crate::case_schedule(
            &shared.case.name,
            &shared.tape.choices(),
        ));
    }
    run.verdict = verdict;
    run.detail = detail;
    take_results(&mut run, &mut agg);
    run
}

/// Run shuttle on a thread of its own (so a task stuck on a std mutex cannot stop the caller);
/// the receiver gets the panic text of the exploration, if it panicked.
fn spawn_explorer(
    shared: &Shared,
    invariants: &[String],
    step_bound: u64,
    scheduler: Box<dyn Scheduler + Send>,
) -> std::io::Result<std::sync::mpsc::Receiver<Option<String>>> {
    let (tx, rx) = channel();
    let Shared {
        case,
        tape,
        agg,
        current,
    } = shared.clone();
    let invariants = invariants.to_vec();
    std::thread::Builder::new()
        .name(format!("realstack-{}", case.name))
        .spawn(move || {
            let _quiet = Exploring::enter();
            let runner =
                shuttle::Runner::new(Recording::new(scheduler, tape.clone()), config(step_bound));
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                runner.run(move || {
                    if execute_once(&case, &invariants, &agg, &current) {
                        tape.stop();
                    }
                })
            }));
            let _ = tx.send(outcome.err().map(|p| panic_text(p.as_ref())));
        })?;
    Ok(rx)
}

/// The case's verdict and its words, from how the exploration finished.
fn judge_finish(
    shared: &Shared,
    invariants: &[String],
    agg: &mut Aggregate,
    finish: Finish,
    watchdog: Duration,
) -> (String, Option<String>) {
    let (case, current) = (&shared.case, &shared.current);
    match finish {
        Finish::Done(None) => match &agg.violation {
            Some(v) => (v.verdict.clone(), Some(v.detail.clone())),
            None => ("pass".to_owned(), None),
        },
        Finish::Done(Some(panic)) => failed_execution(case, invariants, current, agg, panic),
        Finish::Stuck(execution) => {
            let hang = format!(
                "no scheduling decision for {watchdog:?} in execution {execution}: a task blocks \
                 the OS thread on something shuttle cannot see (a std mutex or a blocking call)"
            );
            stuck_execution(case, invariants, current, agg, hang)
        }
    }
}

fn take_results(run: &mut CaseRun, agg: &mut Aggregate) {
    run.executions = agg.executions;
    run.counts = std::mem::take(&mut agg.counts);
    run.digest = agg.digest;
    run.replaced = agg.replaced;
    run.requests = std::mem::take(&mut agg.requests);
    run.rows = std::mem::take(&mut agg.rows);
}

fn wait(rx: &std::sync::mpsc::Receiver<Option<String>>, tape: &Tape, limit: Duration) -> Finish {
    let mut last = (tape.decisions(), Instant::now());
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(p) => return Finish::Done(p),
            Err(RecvTimeoutError::Disconnected) => {
                return Finish::Done(Some("the exploring thread died".into()))
            }
            Err(RecvTimeoutError::Timeout) => {
                let steps = tape.decisions();
                if steps != last.0 {
                    last = (steps, Instant::now());
                } else if last.1.elapsed() >= limit {
                    return Finish::Stuck(tape.executions());
                }
            }
        }
    }
}

fn try_lock<T>(m: &Mutex<T>) -> Option<std::sync::MutexGuard<'_, T>> {
    match m.try_lock() {
        Ok(g) => Some(g),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

/// shuttle stopped an execution with a panic: a deadlock it could see, its step bound, or a
/// panic in the subject (or in a replay that diverged).
fn failed_execution(
    case: &Case,
    invariants: &[String],
    current: &CurrentWorld,
    agg: &mut Aggregate,
    panic: String,
) -> (String, Option<String>) {
    if let Some(v) = &agg.violation {
        return (v.verdict.clone(), Some(v.detail.clone()));
    }
    let world = try_lock(current).and_then(|c| c.clone());
    if panic.contains("deadlock") {
        let hang = format!("shuttle: {}", first_line(&panic));
        if let Some(w) = world.as_ref().and_then(|w| w.try_lock()) {
            judge(case, invariants, &w, agg, Some(hang.clone()));
        }
        return match &agg.violation {
            Some(v) => (v.verdict.clone(), Some(v.detail.clone())),
            None => ("request-answered".into(), Some(hang)),
        };
    }
    if panic.contains("max_steps") {
        return ("bound-hit".into(), Some(first_line(&panic)));
    }
    if panic.contains("nondeterminism") {
        return ("nondeterminism".into(), Some(first_line(&panic)));
    }
    ("model-panic".into(), Some(first_line(&panic)))
}

fn stuck_execution(
    case: &Case,
    invariants: &[String],
    current: &CurrentWorld,
    agg: &mut Aggregate,
    hang: String,
) -> (String, Option<String>) {
    let world = try_lock(current).and_then(|c| c.clone());
    if let Some(w) = world.as_ref().and_then(|w| w.try_lock()) {
        judge(case, invariants, &w, agg, Some(hang.clone()));
    }
    match &agg.violation {
        Some(v) if v.verdict == "request-answered" => (v.verdict.clone(), Some(v.detail.clone())),
        _ => ("request-answered".into(), Some(hang)),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else {
        "a panic without a message".to_owned()
    }
}
