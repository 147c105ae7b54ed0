//! The execution context's own bookkeeping, which the cheap trials of the mutation judge never
//! take to its edges (issue 17): the std run token and its patience, the step bound, a
//! violation's unwinding, the deadlock check, and what the step log is told.

use super::super::test_exec::{on_another_thread, step_accesses, traced, StdExecution};
use super::super::{
    actor_count, probe, try_current_actor, uninstall, yield_now, Access, Backend, Event, LockClass,
    Mutex, Object, Pending, RecordKind, WaitFor, FACADE_DEADLOCK,
};
use super::{Aborted, Refused, Violation, ViolationPanic, Waiter};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Run `f`, which must unwind, and return its panic payload.
fn unwinds(f: impl FnOnce()) -> Box<dyn std::any::Any + Send> {
    catch_unwind(AssertUnwindSafe(f)).expect_err("unwinds")
}

#[test]
fn the_main_actor_holds_the_run_token_from_the_start() {
    let exec = StdExecution::install();
    let token = &exec.exec().run_token;
    assert_eq!(
        on_another_thread(|| token.acquire(|| true)),
        Err(Refused::Aborted),
        "held by main, the token is waited for until the abort"
    );
}

#[test]
fn a_kept_token_is_reported_as_a_bound_hit_of_the_waiting_actor() {
    // Reaching the patience itself is `run_token_tests.rs`'s: a test that waited for it here
    // would hang under a mutant that never gives up.
    let exec = StdExecution::install();
    exec.exec().run_token.set_patience(2);
    let v = exec.exec().token_wait_violation();
    assert_eq!((v.invariant.as_str(), v.actor), ("bound-hit", Some(0)));
    assert_eq!(
        v.message,
        "waited 2 polls of 5 ms for the std backend's run token, which nobody gave back: the \
         actor holding it blocked or ended with it (a facade bug)"
    );
}

#[test]
fn an_aborted_std_execution_unwinds_its_next_facade_call() {
    let exec = StdExecution::install();
    exec.exec().abort();
    assert!(unwinds(|| yield_now("after the abort")).is::<Aborted>());
}

#[test]
fn a_violation_unwinds_a_std_actor_and_ends_the_log() {
    let exec = StdExecution::install();
    let v = Violation {
        invariant: "no-leak".into(),
        message: "a connection leaked".into(),
        actor: Some(0),
        seq: 0,
    };
    assert!(unwinds(|| exec.exec().fail(v.clone())).is::<ViolationPanic>());
    assert!(exec.exec().is_aborted());
    let logged = exec.ghost().log.len();
    probe(Event::PoolLimit { max_connections: 1 });
    let g = exec.ghost();
    assert_eq!(g.violation, Some(v));
    assert_eq!(
        g.log.len(),
        logged,
        "nothing is recorded after the violation"
    );
}

#[test]
fn scheduling_points_count_up_to_the_step_bound_and_the_next_one_stops() {
    let exec = StdExecution::with_step_bound(3);
    yield_now("second step"); // the first was main's start
    yield_now("third step");
    assert_eq!(exec.ghost().steps, 3, "the bound itself is allowed");
    assert!(unwinds(|| yield_now("fourth step")).is::<ViolationPanic>());
    let g = exec.ghost();
    let v = g.violation.expect("bound-hit");
    assert_eq!(v.invariant, "bound-hit");
    assert_eq!(v.seq, g.log.len() - 1, "the record that crossed it");
    assert_eq!(g.log[v.seq].kind, RecordKind::Yield("fourth step"));
    assert_eq!(
        v.message,
        "the execution exceeded its step bound of 3 scheduling steps (a runaway model or a \
         livelock); raise `step_bound` in the scenario if the model needs more"
    );
}

#[test]
fn a_wait_woken_past_its_bound_is_reported_as_a_bound_hit_of_the_waiter() {
    // Waking a million times is the bound's own loop, which `Exec::park` replaced by nothing
    // runs; a test that waited for it here would take over 80 minutes of std park timeouts.
    let exec = StdExecution::install();
    let v = exec.exec().wake_bound_violation(0);
    assert_eq!((v.invariant.as_str(), v.actor), ("bound-hit", Some(0)));
    assert_eq!(
        v.message,
        "main woke 1000000 times in one wait and what it waits for never came true: its park \
         returns at once (a facade bug) or a livelock"
    );
}

#[test]
fn parking_the_only_live_actor_is_a_deadlock() {
    let exec = StdExecution::install();
    assert!(unwinds(|| exec.exec().park(0)).is::<ViolationPanic>());
    let v = exec.ghost().violation.expect("deadlock");
    assert_eq!(v.invariant, "request-answered");
    assert!(v.message.starts_with(FACADE_DEADLOCK), "{}", v.message);
}

#[test]
fn an_actor_is_done_once_it_recorded_its_end() {
    let exec = StdExecution::install();
    let a = exec.exec().new_actor("A");
    assert!(!exec.exec().is_done(a));
    exec.exec().record(a, RecordKind::Done);
    assert!(exec.exec().is_done(a));
}

#[test]
fn under_std_a_wake_unparks_at_once() {
    // Only shuttle's unpark is a switch that must wait for the waker's next scheduling point.
    let exec = StdExecution::install();
    let exec = exec.exec();
    let a = exec.new_actor("A");
    exec.lock_parked().insert(a);
    exec.wake(Waiter::current(Backend::Std, a));
    assert!(exec.deferred.lock().unwrap().is_empty(), "nothing deferred");
    assert!(!exec.lock_parked().contains(&a), "no longer parked");
    // The unpark went to this thread: take it back, so that no later park returns early.
    std::thread::park_timeout(std::time::Duration::ZERO);
}

#[test]
fn the_default_observer_names_one_ghost_object_for_every_judged_record() {
    let (_exec, steps) = traced();
    steps.take();
    probe(Event::PoolLimit { max_connections: 1 });
    let ghost = step_accesses(&steps, |o| matches!(o, Object::Ghost(_)));
    let written = Access {
        object: Object::Ghost(0),
        write: true,
    };
    assert_eq!(ghost, [written]);
    assert_eq!(steps.name_of(Object::Ghost(0)), "ghost #0");
}

#[test]
fn a_thread_outside_an_execution_has_no_current_actor() {
    assert_eq!(try_current_actor(), None, "nothing installed");
    let _exec = StdExecution::install();
    assert_eq!(try_current_actor(), Some(0));
    uninstall();
    assert_eq!(try_current_actor(), None, "uninstalled");
}

#[test]
fn an_uninstalled_execution_gives_the_thread_back_to_the_previous_one() {
    let outer = StdExecution::install();
    outer.exec().new_actor("not spawned");
    assert_eq!((actor_count(), try_current_actor()), (2, Some(0)));
    {
        let _inner = StdExecution::install();
        assert_eq!(actor_count(), 1);
    }
    assert_eq!(actor_count(), 2, "the outer execution is current again");
}

#[test]
fn every_other_actor_parked_or_unable_to_attempt_its_lock_is_a_deadlock() {
    let (exec, steps) = traced();
    let exec = exec.exec();
    let a = exec.new_actor("A");
    let b = exec.new_actor("B");
    exec.lock_parked().insert(a);
    exec.set_waiting(a, Some(WaitFor::Condition("slot freed".into())));
    exec.fail_if_deadlocked(0); // B can run
    assert!(exec.ghost().lock().unwrap().violation.is_none());
    steps.set_pending(b, Some(Pending::Lock(0)));
    steps.set_held(0, true);
    assert!(unwinds(|| exec.fail_if_deadlocked(0)).is::<ViolationPanic>());
    let v = exec
        .ghost()
        .lock()
        .unwrap()
        .violation
        .clone()
        .expect("deadlock");
    assert_eq!(v.invariant, "request-answered");
    assert!(v.message.starts_with(FACADE_DEADLOCK), "{}", v.message);
    assert!(
        v.message.contains("A waits for condition `slot freed`"),
        "{}",
        v.message
    );
}

#[test]
fn the_step_log_learns_who_holds_a_lock_and_what_objects_are_called() {
    let (exec, steps) = traced();
    let exec = exec.exec();
    let pool = Mutex::new("pool", LockClass::non_blocking("pool"), ());
    assert_eq!(steps.name_of(Object::Lock(pool.id())), "lock pool");
    steps.set_pending(0, Some(Pending::Lock(3)));
    exec.lock_taken(0, Object::Lock(3), true);
    assert_eq!((steps.held_locks(), steps.pending_of(0)), (vec![3], None));
    exec.lock_taken(0, Object::Lock(3), false);
    assert!(steps.held_locks().is_empty());
}

#[test]
fn a_lock_past_the_first_128_is_held_without_a_mask_bit() {
    let exec = StdExecution::install();
    let locks: Vec<_> = (0..129)
        .map(|i| Mutex::new(format!("l{i}"), LockClass::non_blocking("state"), ()))
        .collect();
    let last = locks[128].lock();
    assert_eq!(exec.ghost().held_by(0), 0);
    let first = locks[0].lock();
    assert_eq!(exec.ghost().held_by(0), 1);
    drop((first, last));
}
