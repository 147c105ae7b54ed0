//! std threads: the stress-test baseline. Each execution runs the model on real OS threads; a
//! watchdog aborts an execution that is stalled (every live actor waits on a facade primitive and
//! nothing changes for [`STALL`]) or that exceeds its wall-time bound, and reports it as hung.

use super::execute::{classify_panic, execute_once, result, take_ghost, GhostSlot};
use super::panic_hook::Exploring;
use super::{Bounds, RunResult, Subject, Verdict};
use poolcheck_models::sync::{deadlock_violation, Aborted, ActorInfo, Backend, Ghost, WaitFor};
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
    let hung = watchdog.join().unwrap_or(None);
    let ghost = take_ghost(&slot);
    match outcome {
        Ok(()) => None,
        Err(_) if hung.is_some() => {
            let (hung_at, why) = hung.unzip();
            let headline = match why {
                Some(Hang::Stalled) => format!(
                    "hung: every actor waited, with no change, for {STALL:?} on real threads"
                ),
                _ => format!("hung: no progress within {limit:?} on real threads"),
            };
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

/// How often the watchdog looks at the actors' waits.
const TICK: Duration = Duration::from_millis(10);

/// How long every live actor must wait, with no wait, lock or end changing, before a std
/// execution counts as stalled. An execution runs in milliseconds between two facade waits, so
/// this is far beyond any wait that another actor will end; it only has to outlast an OS
/// scheduling delay (a woken waiter still marked as waiting until its thread runs).
const STALL: Duration = Duration::from_millis(250);

/// Why the watchdog declared an execution hung.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hang {
    /// Every live actor waited on a facade primitive and nothing changed for [`STALL`].
    Stalled,
    /// The execution ran past its wall-time bound.
    OverTime,
}

/// Aborts the execution if it stalls or is not done within `limit`; returns the ghost state as
/// it was when the execution was declared hung (taken before aborting, while every actor still
/// waits) and why.
fn spawn_watchdog(
    slot: GhostSlot,
    done: mpsc::Receiver<()>,
    limit: Duration,
) -> std::thread::JoinHandle<Option<(Ghost, Hang)>> {
    std::thread::spawn(move || {
        let why = watch(&slot, &done, limit)?;
        let snapshot = take_ghost(&slot);
        if let Some(exec) = super::execute::current_exec(&slot) {
            exec.abort();
        }
        Some((snapshot.unwrap_or_default(), why))
    })
}

/// Wait for `done`, looking at the actors' waits every [`TICK`]; `None` once the execution is
/// done, else why it is hung.
fn watch(slot: &GhostSlot, done: &mpsc::Receiver<()>, limit: Duration) -> Option<Hang> {
    let start = Instant::now();
    let mut stall = Stall::default();
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Some(Hang::OverTime);
        }
        if done.recv_timeout(left.min(TICK)).is_ok() {
            return None;
        }
        let waits = slot.with_ghost(|g| waits_if_all_blocked(&g.actors));
        if stall.observe(waits.flatten(), Instant::now()) >= STALL {
            return Some(Hang::Stalled);
        }
    }
}

/// What every actor waits for and holds, if every live actor waits on a facade primitive.
type Waits = Vec<(bool, Option<WaitFor>, u128)>;

fn waits_if_all_blocked(actors: &[ActorInfo]) -> Option<Waits> {
    let live_all_wait = actors.iter().all(|a| a.done || a.waiting.is_some());
    live_all_wait.then(|| {
        actors
            .iter()
            .map(|a| (a.done, a.waiting.clone(), a.held))
            .collect()
    })
}

/// How long the same all-blocked waits have been seen in a row.
#[derive(Default)]
struct Stall {
    since: Option<(Waits, Instant)>,
}

impl Stall {
    /// Look at the waits at `now` (`None`: some actor runs); how long they have been the same.
    fn observe(&mut self, waits: Option<Waits>, now: Instant) -> Duration {
        let Some(waits) = waits else {
            self.since = None;
            return Duration::ZERO;
        };
        match &self.since {
            Some((seen, at)) if *seen == waits => now.saturating_duration_since(*at),
            _ => {
                self.since = Some((waits, now));
                Duration::ZERO
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(waiting: Option<WaitFor>, done: bool) -> ActorInfo {
        ActorInfo {
            name: "a".into(),
            waiting,
            done,
            held: 0,
        }
    }

    #[test]
    fn actors_are_all_blocked_only_when_every_live_one_waits() {
        let lock = Some(WaitFor::Lock(0));
        let blocked = [actor(lock.clone(), false), actor(None, true)];
        let waits = waits_if_all_blocked(&blocked).expect("all blocked");
        assert_eq!(waits, vec![(false, lock.clone(), 0), (true, None, 0)]);
        let running = [actor(lock, false), actor(None, false)];
        assert_eq!(waits_if_all_blocked(&running), None);
    }

    #[test]
    fn a_stall_lasts_while_the_same_waits_are_seen_and_restarts_on_a_change() {
        let t0 = Instant::now();
        let later = |ms| t0 + Duration::from_millis(ms);
        let a = || Some(vec![(false, Some(WaitFor::Lock(0)), 1)]);
        let b = || Some(vec![(false, Some(WaitFor::Lock(1)), 1)]);
        let mut stall = Stall::default();
        assert_eq!(stall.observe(a(), t0), Duration::ZERO);
        assert_eq!(stall.observe(a(), later(100)), Duration::from_millis(100));
        assert_eq!(stall.observe(a(), later(300)), Duration::from_millis(300));
        assert_eq!(
            stall.observe(b(), later(310)),
            Duration::ZERO,
            "a wait changed"
        );
        assert_eq!(stall.observe(b(), later(320)), Duration::from_millis(10));
        assert_eq!(
            stall.observe(None, later(330)),
            Duration::ZERO,
            "an actor runs"
        );
        assert_eq!(stall.observe(b(), later(340)), Duration::ZERO);
    }
}
