//! std threads: the stress-test baseline. Each execution runs the model on real OS threads; a
//! watchdog aborts an execution that exceeds its wall-time bound and reports it as hung.

use super::execute::{classify_panic, execute_once, result, take_ghost, GhostSlot};
use super::panic_hook::Exploring;
use super::{Bounds, RunResult, Subject, Verdict};
use poolcheck_models::sync::{deadlock_violation, Aborted, Backend, Ghost};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(super) fn run(
    subject: &Subject,
    iterations: u64,
    bounds: Bounds,
    slot: &GhostSlot,
) -> RunResult {
    let start = Instant::now();
    for i in 1..=iterations {
        if start.elapsed() >= bounds.wall {
            let v = Verdict::BoundHit(format!(
                "wall-time bound of {:?} hit after {} of {iterations} executions",
                bounds.wall,
                i - 1
            ));
            return result(v, i - 1, start.elapsed(), None);
        }
        if let Some((verdict, ghost)) = one_execution(subject, bounds.std_execution, slot) {
            return result(verdict, i, start.elapsed(), ghost);
        }
    }
    result(Verdict::Pass, iterations, start.elapsed(), None)
}

/// Run one execution; `Some` when it failed or hung.
fn one_execution(
    subject: &Subject,
    limit: Duration,
    shared: &GhostSlot,
) -> Option<(Verdict, Option<Ghost>)> {
    let slot = shared.sharing_coverage();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = spawn_watchdog(slot.clone(), done_rx, limit);
    let outcome = {
        let _quiet = Exploring::enter();
        catch_unwind(AssertUnwindSafe(|| {
            execute_once(subject, Backend::Std, &slot)
        }))
    };
    let _ = done_tx.send(());
    let hung_at = watchdog.join().unwrap_or(None);
    let ghost = take_ghost(&slot);
    match outcome {
        Ok(()) => None,
        Err(_) if hung_at.is_some() => {
            let headline = format!("hung: no progress within {limit:?} on real threads");
            let v = deadlock_violation(hung_at.as_ref(), &headline);
            Some((Verdict::Violation(v), hung_at))
        }
        Err(p) if p.is::<Aborted>() && ghost.as_ref().is_some_and(|g| g.violation.is_none()) => {
            Some((
                Verdict::ModelPanic("an actor aborted without a violation".into()),
                ghost,
            ))
        }
        Err(p) => Some((classify_panic(p.as_ref(), ghost.as_ref()), ghost)),
    }
}

/// Aborts the execution if it is not done within `limit`; returns the ghost state as it was
/// when the execution was declared hung (taken before aborting, while every actor still waits).
fn spawn_watchdog(
    slot: GhostSlot,
    done: mpsc::Receiver<()>,
    limit: Duration,
) -> std::thread::JoinHandle<Option<Ghost>> {
    std::thread::spawn(move || {
        if done.recv_timeout(limit).is_ok() {
            return None;
        }
        let snapshot = take_ghost(&slot);
        if let Some(exec) = super::execute::current_exec(&slot) {
            exec.abort();
        }
        snapshot.or_else(|| Some(Ghost::default()))
    })
}
