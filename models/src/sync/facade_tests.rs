//! The std backend's actors (their run token, spawning, notifications, the counted semaphore)
//! and the step count, which the judge of a mutant (`.cargo/mutants.toml`: the cheap
//! deterministic trials and these unit tests) would otherwise never exercise: the std scheduler
//! is left to the full suite, and no cheap trial comes near its step bound (issue 17). With
//! them, the deadlock check and its message, user events, the names reports print and the
//! held-lock mask.

use super::test_exec::{step_accesses, traced, wait_until_another_actor_sets, StdExecution, HUNG};
use super::{Access, Event, LockClass, LockId, Mutex, Object, RecordKind};
use std::sync::Arc;

#[test]
fn a_std_actor_gives_its_run_token_back() {
    let exec = StdExecution::install();
    let exec = exec.exec();
    // `install` gave the token to main; once main releases it, taking it again must not wait,
    // even with the execution aborted (an aborted wait unwinds the taker).
    exec.release_run_token();
    exec.abort();
    exec.take_run_token();
}

#[test]
fn only_scheduling_points_count_as_steps() {
    let lock: LockId = 0;
    let not_steps = [
        RecordKind::Probe(Event::PoolLimit { max_connections: 1 }),
        RecordKind::Unlock(lock),
        RecordKind::Notify("c".into()),
        RecordKind::Reserve(0, 1),
    ];
    for kind in not_steps {
        assert!(!kind.is_step(), "{kind:?} is not a scheduling point");
    }
    for kind in [
        RecordKind::Lock(lock),
        RecordKind::Yield("await"),
        RecordKind::Done,
    ] {
        assert!(kind.is_step(), "{kind:?} is a scheduling point");
    }
}

/// A ghost with actors `main`, `A`, `B` and the lock `l`.
fn three_actors() -> super::Ghost {
    use super::{ActorInfo, Ghost, LockClass, LockInfo};
    let mut g = Ghost::default();
    for name in ["main", "A", "B"] {
        g.actors.push(ActorInfo {
            name: name.into(),
            waiting: None,
            done: false,
            held: 0,
        });
    }
    g.locks.push(LockInfo {
        name: "l".into(),
        class: LockClass::non_blocking("state"),
        holder: Some(0),
    });
    g
}

#[test]
fn all_are_blocked_when_every_other_actor_is_done_stuck_or_joins_a_live_one() {
    use super::deadlock::all_blocked;
    use super::WaitFor;
    let mut g = three_actors();
    let stuck_b = |a| a == 2;
    assert!(!all_blocked(&g, stuck_b, 0), "A can run");
    g.actors[1].waiting = Some(WaitFor::Join(2));
    assert!(all_blocked(&g, stuck_b, 0), "A joins B, which is stuck");
    g.actors[2].done = true;
    assert!(
        !all_blocked(&g, |_| false, 0),
        "B finished: A's join returns"
    );
    g.actors[1].done = true;
    assert!(all_blocked(&g, |_| false, 0), "only main is left");
}

#[test]
fn a_deadlock_names_each_live_actor_and_what_it_waits_for() {
    use super::deadlock::deadlock_violation;
    use super::WaitFor;
    let mut g = three_actors();
    g.actors[0].waiting = Some(WaitFor::Join(1));
    g.actors[1].waiting = Some(WaitFor::Lock(0));
    g.actors[2].done = true;
    let v = deadlock_violation(Some(&g), "stuck");
    assert_eq!(v.invariant, "request-answered");
    assert_eq!(
        v.message,
        "stuck: main waits for actor A to finish; A waits for lock l (held by main)"
    );
}

#[test]
fn a_user_event_reads_its_first_field_of_a_name() {
    let ev = super::UserEvent::new("sent").with("n", 1).with("n", 2);
    assert_eq!((ev.get("n"), ev.get("m")), (Some(1), None));
    assert!(ev.is("sent") && !ev.is("lost"));
}

#[test]
fn blocking_kinds_and_flavours_have_distinct_kebab_names() {
    let kinds: Vec<&str> = super::BlockKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(kinds[..2], ["net-write", "net-flush"]);
    let flavours: Vec<&str> = super::Flavour::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(flavours, ["std", "go", "asyncio", "anyio"]);
    let distinct: std::collections::BTreeSet<&str> = kinds.iter().copied().collect();
    assert_eq!(distinct.len(), kinds.len(), "{kinds:?}");
}

#[test]
fn a_held_mask_names_only_the_first_128_locks() {
    let mut g = three_actors();
    let lock = g.locks[0].clone();
    g.locks.resize(130, lock);
    assert_eq!(g.locks_in(u128::MAX).count(), 128);
    assert_eq!(
        g.locks_in(0b101).map(|(id, _)| id).collect::<Vec<_>>(),
        [0, 2]
    );
}

#[test]
fn a_user_event_reads_as_its_name_and_fields_and_is_found_in_its_record() {
    let ev = super::UserEvent::new("checked-out")
        .with("conn", 3)
        .with("holders", 1);
    assert_eq!(ev.to_string(), "checked-out conn=3 holders=1");
    let rec = RecordKind::Probe(Event::User(ev.clone()));
    assert_eq!(rec.user_event(), Some(&ev));
    assert_eq!(
        RecordKind::Probe(Event::PoolLimit { max_connections: 1 }).user_event(),
        None
    );
}

#[test]
fn a_spawned_std_actor_runs_in_its_parents_execution() {
    use super::{actor_count, current_actor, spawn, try_current_actor};
    let _exec = StdExecution::install();
    let child = spawn("A", || (current_actor(), actor_count()));
    assert_eq!(child.actor(), 1, "the handle names the actor it spawned");
    assert_eq!(child.join(), (1, 2));
    assert_eq!(spawn("B", || ()).actor(), 2);
    assert_eq!(try_current_actor(), Some(0));
}

#[test]
fn every_notification_is_recorded_with_what_it_signals() {
    let exec = StdExecution::install();
    let freed = super::Condvar::new("slot freed");
    freed.notify_one();
    freed.notify_all();
    let notes: Vec<RecordKind> = exec
        .records()
        .into_iter()
        .map(|(_, kind)| kind)
        .filter(|kind| matches!(kind, RecordKind::Notify(_)))
        .collect();
    let note = RecordKind::Notify("slot freed".into());
    assert_eq!(notes, [note.clone(), note]);
}

#[test]
fn a_std_semaphore_counts_what_is_taken_given_back_and_kept() {
    // A wait that a mutant never satisfies fails at this small step bound within a second.
    let exec = StdExecution::with_step_bound(200);
    let sem = super::Semaphore::new("conns", 2);
    assert_eq!(sem.available(), 2);
    sem.acquire();
    assert_eq!(sem.available(), 1);
    assert!(sem.try_acquire());
    assert_eq!(sem.available(), 0);
    assert!(!sem.try_acquire(), "none left");
    sem.release();
    assert_eq!(sem.available(), 1);
    assert!(sem.try_acquire_reserved());
    let g = exec.ghost();
    assert_eq!(
        (g.sems[0].free, g.sems[0].held, g.sems[0].reserved),
        (0, 2, 1)
    );
}

#[test]
fn a_std_wait_that_no_other_actor_can_end_is_a_deadlock_at_once() {
    use super::{spawn, Condvar, LockClass, Mutex, FACADE_DEADLOCK};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let exec = StdExecution::install();
    let ready = Mutex::new("ready", LockClass::non_blocking("state"), false);
    let set = Condvar::new("ready set");
    spawn("A", || ()).join();
    let g = ready.lock();
    let unwound = catch_unwind(AssertUnwindSafe(|| drop(set.wait(g))));
    assert!(unwound.expect_err("unwinds").is::<super::ViolationPanic>());
    let v = exec.ghost().violation.expect("deadlock");
    assert_eq!(v.invariant, "request-answered");
    assert_eq!(
        v.message,
        format!("{FACADE_DEADLOCK}: main waits for condition `ready set`")
    );
}

#[test]
fn a_lock_is_named_by_its_id_in_the_ghost_and_in_a_wait() {
    use super::Condvar;
    let exec = StdExecution::install();
    let _first = Mutex::new("first", LockClass::non_blocking("state"), ());
    let ready = Arc::new(Mutex::new("ready", LockClass::non_blocking("state"), false));
    let set = Arc::new(Condvar::new("ready set"));
    assert_eq!(ready.id(), 1);
    assert_eq!(exec.ghost().locks[ready.id()].name, "ready");
    wait_until_another_actor_sets(&ready, &set);
    let main_waits: Vec<RecordKind> = exec
        .records()
        .into_iter()
        .filter(|(actor, kind)| *actor == 0 && matches!(kind, RecordKind::Wait(..)))
        .map(|(_, kind)| kind)
        .collect();
    assert!(!main_waits.is_empty());
    assert!(
        main_waits
            .iter()
            .all(|kind| *kind == RecordKind::Wait(1, "ready set".into())),
        "a wait releases the lock it was given: {main_waits:?}"
    );
}

#[test]
fn a_std_join_is_neither_a_scheduling_point_nor_a_pending_step() {
    let (_exec, steps) = traced();
    let child = super::spawn("A", || ());
    steps.take();
    child.join();
    assert!(
        !steps.announced(),
        "only `dpor` makes a join a step of its own"
    );
    assert_eq!(steps.pending_of(0), None, "nor waits to attempt it");
}

#[test]
fn the_records_of_a_step_write_the_locks_and_actors_they_change() {
    let (_exec, steps) = traced();
    let lock = Mutex::new("pool", LockClass::non_blocking("pool"), ());
    steps.take();
    drop(lock.lock());
    let written = |object| Access {
        object,
        write: true,
    };
    assert_eq!(
        step_accesses(&steps, |o| o == Object::Lock(0)),
        [written(Object::Lock(0))],
        "the std lock itself touches nothing: its records do"
    );
    let child = super::spawn("A", || ());
    child.join();
    let actor = step_accesses(&steps, |o| matches!(o, Object::Actor(_) | Object::Registry));
    assert_eq!(
        actor,
        [written(Object::Registry), written(Object::Actor(1))]
    );
}

#[test]
fn a_slot_released_by_a_halted_execution_records_nothing() {
    let (exec, steps) = traced();
    let slot = super::SlotLock::new("reqHeaderMu", LockClass::non_blocking("slot"));
    let held = slot.acquire();
    steps.halt();
    let logged = exec.ghost().log.len();
    drop(held);
    assert_eq!(
        exec.ghost().log.len(),
        logged,
        "no release recorded (nor any notification)"
    );
}

/// Run by [`a_std_execution_that_hangs_exits_the_test_binary`] in a process of its own.
#[test]
#[ignore = "hangs on purpose: run as a child process by the watchdog's test"]
fn a_std_execution_that_never_ends() {
    let _exec = StdExecution::hanging_after(std::time::Duration::from_millis(200));
    loop {
        std::thread::park();
    }
}

#[test]
fn a_std_execution_that_hangs_exits_the_test_binary() {
    let name = "sync::facade_tests::a_std_execution_that_never_ends";
    let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "--ignored", "--test-threads", "1", name])
        .output()
        .expect("the test binary runs");
    assert_eq!(child.status.code(), Some(101), "a failure, not a hang");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(
        stderr.contains(&format!("{name}: {HUNG} after 200ms")),
        "{stderr}"
    );
}
