//! The facade under the backends a models unit test does not otherwise reach (issue 17): the
//! facade-kept locks and condition variables of shuttle and `dpor`, what a halted execution
//! still does, what `dpor`'s step log is told, and loom's condition variable. The harness's
//! schedulers cannot run here (a unit test of `poolcheck-models` sees another copy of the crate
//! through `poolcheck-harness`), so one seeded random schedule of shuttle's engine runs each
//! body, and an execution that the facade stops ends the test with a failure.

use super::context::{install, install_traced, Exec};
use super::test_exec::{step_accesses, Quiet, TOKEN_PATIENCE};
use super::{
    spawn, yield_now, Backend, Condvar, Ghost, JoinHandle, LockClass, Mutex, MutexGuard, Object,
    Pending, RecordKind, StepLog, Violation, FACADE_DEADLOCK,
};
use shuttle::scheduler::{RandomScheduler, Schedule, Scheduler, Task, TaskId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

/// The execution a body runs in, as far as the scheduler needs to know it.
type Current = Arc<StdMutex<Option<Arc<AtomicBool>>>>;

/// shuttle's random scheduler offered only tasks that are awake (shuttle also offers parked
/// ones, for a spurious wake-up the facade would only answer by parking again), stopping the
/// execution once the facade aborted it (a violation, which under shuttle never unwinds).
struct Awake {
    inner: RandomScheduler,
    current: Current,
}

impl Scheduler for Awake {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.inner.new_execution()
    }

    fn next_task(
        &mut self,
        tasks: &[&Task],
        now: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        let aborted = self
            .current
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|a| a.load(Ordering::SeqCst));
        if aborted {
            return None;
        }
        let awake: Vec<&Task> = tasks.iter().copied().filter(|t| t.runnable()).collect();
        self.inner.next_task(&awake, now, yielding)
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
}

/// Run `body` once under shuttle's engine on `backend` (shuttle or `dpor`), installed with a
/// quiet observer and, under `dpor`, a step log; fails unless the body ran to its end (a
/// violation stops the execution before).
fn under_shuttle(
    backend: Backend,
    body: impl Fn(&Exec, Option<&Arc<StepLog>>) + Send + Sync + 'static,
) {
    let (completed, _) = run_under_shuttle(backend, body);
    assert!(completed, "the facade stopped the execution");
}

/// [`under_shuttle`], returning whether the body ran to its end and the execution's ghost
/// state (its violation, when the facade stopped it).
fn run_under_shuttle(
    backend: Backend,
    body: impl Fn(&Exec, Option<&Arc<StepLog>>) + Send + Sync + 'static,
) -> (bool, Ghost) {
    let ghost = Arc::new(StdMutex::new(None));
    let current = Current::default();
    let completed = Arc::new(AtomicBool::new(false));
    let scheduler = Awake {
        inner: RandomScheduler::new_from_seed(17, 1),
        current: current.clone(),
    };
    let mut config = shuttle::Config::new();
    config.stack_size = 1 << 20;
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.max_steps = shuttle::MaxSteps::FailAfter(20_000);
    config.silence_warnings = true;
    let runner = shuttle::Runner::new(scheduler, config);
    let (done, seen) = (completed.clone(), ghost.clone());
    runner.run(move || {
        let steps = (backend == Backend::Dpor).then(|| Arc::new(StepLog::default()));
        let (exec, _installed) =
            install_traced(backend, Box::new(Quiet), 1_000, "main", steps.clone());
        *seen.lock().unwrap() = Some(exec.ghost());
        // A run token is only ever waited for under std, but a mutant that takes it under
        // another backend must fail here in half a second, not hang for the default minute.
        exec.run_token.set_patience(TOKEN_PATIENCE);
        *current.lock().unwrap() = Some(exec.abort_flag());
        body(&exec, steps.as_ref());
        done.store(true, Ordering::SeqCst);
    });
    let ghost = ghost.lock().unwrap().take().expect("installed");
    let ghost = ghost.lock().unwrap().clone();
    (completed.load(Ordering::SeqCst), ghost)
}

fn lock(name: &str) -> Arc<Mutex<bool>> {
    Arc::new(Mutex::new(name, LockClass::non_blocking("state"), false))
}

#[test]
fn under_shuttle_try_lock_takes_a_free_lock_and_refuses_a_held_one() {
    under_shuttle(Backend::Shuttle, |_, _| {
        let pool = lock("pool");
        assert!(pool.try_lock().is_some());
        assert!(!pool.locked(), "and released with its guard");
        let held = pool.lock();
        assert!(pool.try_lock().is_none(), "held");
        drop(held);
        assert!(pool.try_lock().is_some(), "free again");
    });
}

#[test]
fn under_shuttle_a_violation_stops_the_execution_without_unwinding() {
    // shuttle prints a line for every task that panics: a violation ends the execution at the
    // scheduler instead.
    let v = Violation {
        invariant: "no-leak".into(),
        message: "a connection leaked".into(),
        actor: Some(0),
        seq: 0,
    };
    let failed = v.clone();
    let (completed, ghost) = run_under_shuttle(Backend::Shuttle, move |exec, _| {
        exec.fail(failed.clone());
    });
    assert!(!completed);
    assert_eq!(ghost.violation, Some(v));
}

#[test]
fn under_shuttle_joining_an_actor_that_waits_for_the_joiners_lock_is_a_deadlock() {
    // Whichever runs first, A blocks on the lock main holds and main on A's end.
    let (completed, ghost) = run_under_shuttle(Backend::Shuttle, |_, _| {
        let pool = lock("pool");
        let _held = pool.lock();
        let taker = spawn("A", {
            let pool = pool.clone();
            move || *pool.lock() = true
        });
        taker.join();
    });
    assert!(!completed);
    let v = ghost.violation.expect("a deadlock");
    assert_eq!(v.invariant, "request-answered");
    assert!(v.message.starts_with(FACADE_DEADLOCK), "{}", v.message);
    assert!(
        v.message.contains("A waits for lock pool (held by main)")
            && v.message.contains("main waits for actor A to finish"),
        "{}",
        v.message
    );
}

#[test]
fn a_halted_execution_records_no_release_and_keeps_the_lock() {
    under_shuttle(Backend::Shuttle, |exec, _| {
        let pool = lock("pool");
        let held = pool.lock();
        exec.abort();
        drop(held);
        let ghost = exec.ghost();
        let g = ghost.lock().unwrap();
        assert_eq!(
            g.log.last().map(|r| &r.kind),
            Some(&RecordKind::Lock(pool.id()))
        );
        assert_eq!(g.locks[pool.id()].holder, Some(0));
    });
}

#[test]
fn a_notification_nobody_waits_for_only_reads_the_condition_variable() {
    under_shuttle(Backend::Dpor, |_, steps| {
        let steps = steps.expect("dpor has a step log");
        let freed = Condvar::new("slot freed");
        steps.take();
        freed.notify_one();
        let conds = step_accesses(steps, |o| matches!(o, Object::Cond(_)));
        assert_eq!(conds.len(), 1);
        assert!(!conds[0].write, "{conds:?}");
    });
}

/// Spawn `A`, which sets `ready`'s flag and waits on `freed` until the flag is cleared, and
/// return once A waits, with `ready` locked again.
fn a_waiter<'a>(
    ready: &'a Arc<Mutex<bool>>,
    freed: &Arc<Condvar>,
) -> (JoinHandle<()>, MutexGuard<'a, bool>) {
    let waiter = spawn("A", {
        let (ready, freed) = (ready.clone(), freed.clone());
        move || {
            let mut g = ready.lock();
            *g = true;
            while *g {
                g = freed.wait(g);
            }
        }
    });
    loop {
        let g = ready.lock();
        if *g {
            return (waiter, g); // A set it under the lock: it waits now
        }
        drop(g);
        yield_now("let A start waiting");
    }
}

#[test]
fn under_dpor_a_waiter_on_a_condition_waits_to_attempt_its_relock() {
    under_shuttle(Backend::Dpor, |_, steps| {
        let steps = steps.expect("dpor has a step log").clone();
        let (ready, freed) = (lock("ready"), Arc::new(Condvar::new("ready")));
        let (waiter, mut g) = a_waiter(&ready, &freed);
        assert_eq!(steps.pending_of(1), Some(Pending::Lock(ready.id())));
        *g = false;
        freed.notify_one();
        drop(g);
        waiter.join();
    });
}

#[test]
fn a_notification_someone_waits_for_writes_the_condition_variable() {
    under_shuttle(Backend::Dpor, |_, steps| {
        let steps = steps.expect("dpor has a step log");
        let (ready, freed) = (lock("ready"), Arc::new(Condvar::new("ready")));
        let (waiter, mut g) = a_waiter(&ready, &freed);
        *g = false;
        steps.take();
        freed.notify_one();
        let conds = step_accesses(steps, |o| matches!(o, Object::Cond(_)));
        assert_eq!(conds.len(), 1);
        assert!(conds[0].write, "{conds:?}");
        drop(g);
        waiter.join();
    });
}

#[test]
fn under_loom_a_condition_variable_waits_for_its_notification() {
    loom::model(|| {
        let (exec, _installed) = install(Backend::Loom, Box::new(Quiet), 1_000, "main");
        exec.run_token.set_patience(TOKEN_PATIENCE);
        let (ready, freed) = (lock("ready"), Arc::new(Condvar::new("ready")));
        let notifier = spawn("A", {
            let (ready, freed) = (ready.clone(), freed.clone());
            move || {
                *ready.lock() = true;
                freed.notify_one();
            }
        });
        let mut g = ready.lock();
        while !*g {
            g = freed.wait(g);
        }
        drop(g);
        notifier.join();
    });
}

#[test]
fn under_loom_a_lock_is_ordered_against_another_actors_await() {
    // A's lock touches only its own loom mutex, main's await only the execution's token: loom
    // would take the two as independent and run one order of them, but model state outside
    // loom (the flag here, a `Plain` cell in a model) can tell the orders apart.
    static SEEN: StdMutex<Vec<bool>> = StdMutex::new(Vec::new());
    SEEN.lock().unwrap().clear();
    loom::model(|| {
        let (exec, _installed) = install(Backend::Loom, Box::new(Quiet), 1_000, "main");
        exec.run_token.set_patience(TOKEN_PATIENCE);
        let locked = Arc::new(AtomicBool::new(false));
        let pool = lock("pool");
        let taker = spawn("A", {
            let (locked, pool) = (locked.clone(), pool.clone());
            move || {
                let _held = pool.lock();
                locked.store(true, Ordering::SeqCst);
            }
        });
        yield_now("main awaits");
        SEEN.lock().unwrap().push(locked.load(Ordering::SeqCst));
        taker.join();
    });
    let seen = SEEN.lock().unwrap();
    assert!(
        seen.contains(&true) && seen.contains(&false),
        "both orders of A's lock and main's await are explored: {seen:?}"
    );
}
