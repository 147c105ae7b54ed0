//! The fair flavours' locks and semaphores (asyncio, anyio) under the std backend: who holds a
//! released lock, who records the acquisition, what is free (issue 17: the cheap trials of the
//! mutation judge never tell a hand-off from a wake-up, nor read a fair semaphore's count).

use super::test_exec::StdExecution;
use super::{
    spawn, use_flavour, yield_now, ActorId, Flavour, LockClass, Mutex, RecordKind, Semaphore,
    StepLog, WaitFor,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A std execution whose locks and semaphores are of flavour `flavour`.
fn flavoured(flavour: Flavour) -> StdExecution {
    let exec = StdExecution::install();
    use_flavour(flavour);
    exec
}

fn pool_lock() -> Arc<Mutex<()>> {
    Arc::new(Mutex::new("pool", LockClass::non_blocking("pool"), ()))
}

/// Let the other actors run until `actor` waits for `what`.
fn until_waiting(exec: &StdExecution, actor: ActorId, what: &WaitFor) {
    for _ in 0..10_000 {
        if exec
            .ghost()
            .actors
            .get(actor)
            .and_then(|a| a.waiting.as_ref())
            == Some(what)
        {
            return;
        }
        yield_now("let the waiter queue");
    }
    panic!("actor {actor} never waited for {what:?}");
}

/// Hold `lock`, let actor 1 queue for it, release it; returns whether it was held right after
/// the release, and the waiter (joined once it took and released the lock).
fn release_to_a_waiter(exec: &StdExecution, lock: &Arc<Mutex<()>>) -> bool {
    let held = lock.lock();
    let waiter = spawn("A", {
        let lock = lock.clone();
        move || drop(lock.lock())
    });
    until_waiting(exec, 1, &WaitFor::Lock(lock.id()));
    drop(held);
    let locked = lock.locked();
    waiter.join();
    locked
}

/// How many acquisitions of `lock` the log has for `actor`.
fn locks_by(exec: &StdExecution, actor: ActorId, lock: &Mutex<()>) -> usize {
    let taken =
        |(a, kind): &(ActorId, RecordKind)| *a == actor && *kind == RecordKind::Lock(lock.id());
    exec.records().iter().filter(|r| taken(r)).count()
}

#[test]
fn an_asyncio_lock_is_held_by_whoever_took_it_and_free_until_its_waiter_runs() {
    let exec = flavoured(Flavour::Asyncio);
    let lock = pool_lock();
    assert!(!lock.locked());
    drop(lock.try_lock().expect("a free lock is taken at once"));
    let guard = lock.lock();
    assert!(lock.locked());
    drop(guard);
    assert!(
        !release_to_a_waiter(&exec, &lock),
        "released to a waiter that has not run yet, an asyncio lock is free"
    );
    assert_eq!(
        locks_by(&exec, 1, &lock),
        1,
        "the waiter records its own acquisition"
    );
    assert!(!lock.locked());
    drop(
        lock.try_lock()
            .expect("its turn over, the waiter left the queue: the free lock is taken at once"),
    );
}

#[test]
fn an_anyio_lock_is_handed_to_its_first_waiter_at_the_release() {
    let exec = flavoured(Flavour::Anyio);
    let lock = pool_lock();
    assert!(
        release_to_a_waiter(&exec, &lock),
        "an anyio lock released to a waiter is the waiter's at once"
    );
    assert_eq!(
        locks_by(&exec, 1, &lock),
        1,
        "the hand-off is the one acquisition"
    );
}

#[test]
fn an_asyncio_semaphore_counts_its_permits_through_a_wake_up() {
    let exec = flavoured(Flavour::Asyncio);
    let sem = Arc::new(Semaphore::new("streams", 1));
    assert_eq!(sem.available(), 1);
    sem.acquire();
    assert_eq!(sem.available(), 0);
    let waiter = spawn("A", {
        let sem = sem.clone();
        move || sem.acquire()
    });
    until_waiting(&exec, 1, &WaitFor::Permit(sem.id()));
    sem.release();
    waiter.join();
    assert_eq!(
        sem.available(),
        0,
        "the woken waiter took the released permit"
    );
}

#[test]
fn only_an_anyio_acquire_checkpoints_after_taking_a_free_lock() {
    for (flavour, checkpoints) in [(Flavour::Asyncio, false), (Flavour::Anyio, true)] {
        let steps = Arc::new(StepLog::default());
        let _exec = StdExecution::traced(&steps);
        use_flavour(flavour);
        let lock = pool_lock();
        steps.take();
        let guard = lock.lock();
        assert_eq!(steps.announced(), checkpoints, "{flavour:?}");
        drop(guard);
    }
}

#[test]
fn a_fair_lock_whose_holder_unwinds_is_given_back_to_nobody() {
    let _exec = flavoured(Flavour::Asyncio);
    let lock = pool_lock();
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let _held = lock.lock();
        std::panic::panic_any("the holder fails");
    }));
    assert!(unwound.is_err());
    assert!(
        lock.try_lock().is_none(),
        "the execution has failed: nobody takes the lock any more"
    );
}
