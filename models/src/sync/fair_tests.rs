//! A fair core's release, on its state directly (issue 17): whom an asyncio release wakes and
//! an anyio release hands the unit to. Through actors, a release that woke nobody would leave
//! the waiter parked and the test hanging instead of failing.

use super::{FairCore, Ticket};
use crate::sync::backend::Backend;
use crate::sync::context::exec;
use crate::sync::controlled::Waiter;
use crate::sync::footprint::Object;
use crate::sync::test_exec::{wait_until_another_actor_sets, StdExecution};
use crate::sync::Flavour;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A core of flavour `flavour` with no free unit and one queued ticket per entry of `turns`
/// (actor i + 1, its turn already come or not); returns the core and the tickets' flags.
fn queued(flavour: Flavour, turns: &[bool]) -> (FairCore, Vec<Arc<AtomicBool>>) {
    let core = FairCore::new(flavour, Object::Lock(0), 0);
    let flags: Vec<_> = turns
        .iter()
        .map(|&t| Arc::new(AtomicBool::new(t)))
        .collect();
    for (i, flag) in flags.iter().enumerate() {
        core.state().queue.push_back(Ticket {
            waiter: Waiter::current(Backend::Std, i + 1),
            turn: flag.clone(),
        });
    }
    (core, flags)
}

fn turns(flags: &[Arc<AtomicBool>]) -> Vec<bool> {
    flags.iter().map(|f| f.load(Ordering::SeqCst)).collect()
}

#[test]
fn an_asyncio_release_frees_the_unit_and_wakes_the_first_waiter_not_yet_woken() {
    let _exec = StdExecution::install();
    let (core, flags) = queued(Flavour::Asyncio, &[true, false, false]);
    assert_eq!(core.give_back(&exec()), None, "asyncio hands nothing over");
    assert_eq!(turns(&flags), [true, true, false]);
    assert_eq!(
        core.available(&exec()),
        1,
        "the woken waiter takes it when it runs"
    );
}

#[test]
fn an_anyio_release_hands_the_unit_to_the_first_waiter() {
    let _exec = StdExecution::install();
    let (core, flags) = queued(Flavour::Anyio, &[false, false]);
    assert_eq!(core.give_back(&exec()), Some(1));
    assert_eq!(turns(&flags), [true, false]);
    assert_eq!(core.available(&exec()), 0, "handed over, never free");
    let (nobody, _) = queued(Flavour::Anyio, &[]);
    assert_eq!(nobody.give_back(&exec()), None);
    assert_eq!(
        nobody.available(&exec()),
        1,
        "with nobody queued it is freed"
    );
}

#[test]
fn a_wait_with_a_fair_lock_is_kept_by_the_facade_under_the_std_backend() {
    use crate::sync::{use_flavour, Condvar, LockClass, Mutex};
    let _exec = StdExecution::install();
    use_flavour(Flavour::Asyncio);
    let ready = Arc::new(Mutex::new("ready", LockClass::non_blocking("state"), false));
    let set = Arc::new(Condvar::new("ready set"));
    // std's own condition variable cannot wait with a guard of a lock the facade keeps.
    wait_until_another_actor_sets(&ready, &set);
}
