//! The pool's books, how a checkout ends, the slot count of `size-check-then-create`, the
//! lifetime reaper, a shared connect finished for its waiters, a cancelled `use`, and the idle
//! timers, one actor at a time. Scenarios judge these only through invariants, which a
//! wrong outcome or a bookkeeping slip often does not break (issue 17).

use super::*;
use crate::sync::advance_clock;
use crate::sync::test_exec::StdExecution;

/// One connection at most, one await to connect, nothing optional enabled.
fn small() -> Config {
    Config {
        max_size: 1,
        idle_timeout: 5,
        create_steps: 1,
        connect_failures: 0,
        max_lifetime: 0,
        idle_timers: false,
        shared_connect: false,
        conn_tasks: false,
        peer_stops_reading: false,
    }
}

/// Probes recorded, and a pool of `variant` with `config` that nothing cancels by name.
fn pool(variant: &str, config: Config) -> (StdExecution, Pool) {
    let exec = StdExecution::install();
    let variant = Variant::parse(variant).expect("a variant");
    (exec, Pool::new(variant, config, BTreeSet::new()))
}

fn books(pool: &Pool, conn: u32) -> Option<Books> {
    pool.state.lock().books.get(&conn).copied()
}

/// The connections the probes reported closed, with why.
fn closed(exec: &StdExecution) -> Vec<(u32, CloseReason)> {
    let closed = |ev| match ev {
        Event::ConnClosed { conn, reason } => Some((conn, reason)),
        _ => None,
    };
    exec.probes().into_iter().filter_map(closed).collect()
}

#[test]
fn the_books_follow_a_connection_through_the_fixed_pool_and_reject_the_rest() {
    let b = Books::Connecting
        .checked_out(7)
        .expect("its creator holds it");
    let b = b.checked_in(7).expect("checked in");
    let b = b.returned(Some(8)).expect("handed to a waiter");
    assert!(b.checked_out(9).is_err(), "handed to 8, not to 9");
    let b = b.checked_out(8).expect("the waiter takes it");
    assert!(b.checked_in(7).is_err(), "only its holder checks it in");
    assert_eq!(b.retired(), Ok(Books::Retired));
    assert!(Books::Retired.retired().is_err(), "retired twice");
    assert!(Books::Idle.returned(None).is_err(), "idle twice");
    assert_eq!(Books::Untracked.returned(None), Ok(Books::Untracked));
}

#[test]
fn a_connection_checked_in_is_booked_idle_and_reused() {
    let (exec, pool) = pool("fixed", small());
    assert_eq!(pool.checkout("A", 1, None), Some(1), "a new connection");
    assert_eq!(books(&pool, 1), Some(Books::Held(1)));
    pool.checkin(1, 1);
    assert_eq!(books(&pool, 1), Some(Books::Idle), "back in the pool");
    assert_eq!(pool.checkout("A", 2, None), Some(1), "the same one again");
    assert_eq!(books(&pool, 1), Some(Books::Held(2)));
    assert_eq!(exec.finished(), [(1, Outcome::Response)]);
}

#[test]
fn the_fixed_pool_ignores_a_second_release_and_keeps_tracking_the_connection() {
    let (exec, pool) = pool("fixed", small());
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    pool.checkin(1, conn);
    assert_eq!(books(&pool, conn), Some(Books::Idle), "still tracked");
    assert_eq!(pool.state.lock().idle.len(), 1, "put back once");
    let note = Event::Note("ignores request 1's second release of conn 1".into());
    assert!(exec.probes().contains(&note));
}

#[test]
fn a_checkout_ends_cancelled_failed_or_refused_for_what_ended_it() {
    let (exec, pool) = pool("fixed", small());
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    assert_eq!(pool.checkout("B", 2, Some("wait")), None, "no room");
    // `shared-connect-cancels-waiters` fails a waiter with the connect's cancellation.
    pool.state.lock().shared_failed.insert(3);
    assert_eq!(pool.checkout("C", 3, None), None);
    pool.checkin(1, conn);
    pool.close();
    assert_eq!(pool.checkout("D", 4, None), None);
    let closed = Outcome::RetryableError("pool closed".into());
    let ends = [
        (2, Outcome::Cancelled),
        (3, Outcome::Cancelled),
        (1, Outcome::Response),
        (4, closed),
    ];
    assert_eq!(exec.finished(), ends);
}

#[test]
fn a_failed_connect_ends_its_checkout_with_the_error() {
    let (exec, pool) = pool(
        "fixed",
        Config {
            connect_failures: 1,
            ..small()
        },
    );
    assert_eq!(pool.checkout("A", 1, None), None);
    assert_eq!(
        exec.finished(),
        [(1, Outcome::Error("connect failed".into()))]
    );
    assert_eq!(pool.checkout("A", 2, None), Some(2), "the server is back");
}

#[test]
fn a_pool_that_sizes_after_the_connect_still_counts_the_connection() {
    let (_exec, pool) = pool("size-check-then-create", small());
    assert_eq!(pool.checkout("A", 1, None), Some(1));
    assert_eq!(pool.state.lock().size, 1);
    assert_eq!(pool.checkout("B", 2, Some("wait")), None, "no room left");
}

#[test]
fn the_reaper_closes_an_idle_connection_only_once_its_lifetime_is_over() {
    let config = Config {
        idle_timeout: 100,
        max_lifetime: 10,
        ..small()
    };
    let (exec, pool) = pool("fixed", config);
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    advance_clock(9);
    pool.reap();
    assert!(closed(&exec).is_empty(), "9 of its 10");
    advance_clock(1);
    pool.reap();
    assert_eq!(closed(&exec), [(conn, CloseReason::Expired)]);
}

/// [`small`] sharing its connects, each of two awaits.
fn shared() -> Config {
    Config {
        shared_connect: true,
        create_steps: 2,
        ..small()
    }
}

#[test]
fn a_shared_connect_whose_driver_is_cancelled_is_finished_for_its_waiter() {
    let (exec, pool) = pool("fixed", shared());
    // Request 9 waits on the connect request 1 drives.
    pool.state.lock().waiters.push_back(9);
    assert_eq!(pool.checkout("A", 1, Some("connect")), None);
    assert_eq!(exec.finished(), [(1, Outcome::Cancelled)]);
    assert_eq!(pool.state.lock().delivered.get(&9), Some(&1), "handed over");
    assert!(closed(&exec).is_empty());
    let connect_awaits = exec
        .yields()
        .into_iter()
        .filter(|l| l.starts_with("connect"))
        .count();
    assert_eq!(connect_awaits, 2, "the two awaits of one connect");
}

#[test]
fn a_connect_nobody_waits_on_is_abandoned_with_its_driver() {
    let (exec, pool) = pool("fixed", shared());
    assert_eq!(pool.checkout("A", 1, Some("connect")), None);
    assert_eq!(closed(&exec), [(1, CloseReason::Owner)]);
    assert!(pool.state.lock().idle.is_empty());
}

#[test]
fn a_lease_cancelled_at_a_use_ends_cancelled_and_gives_its_connection_back() {
    let (exec, pool) = pool("fixed", small());
    let lease = (1, pool.checkout("A", 1, None).expect("a new connection"));
    assert!(pool.use_conn("A", lease, 1, None), "nothing cancels it");
    assert!(!pool.use_conn("A", lease, 2, Some("use")));
    assert_eq!(exec.finished(), [(1, Outcome::Cancelled)]);
    assert_eq!(books(&pool, 1), Some(Books::Idle));
}

#[test]
fn a_discard_by_a_request_that_lost_its_connection_drops_no_lease_reference() {
    // double-release puts connection 1 back twice: two checkouts then share it, and the
    // first holder no longer holds it when it discards.
    let config = Config {
        conn_tasks: true,
        ..small()
    };
    let (_exec, pool) = pool("double-release", config);
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    pool.checkin(1, conn);
    assert_eq!(pool.state.lock().idle.len(), 2, "put back twice");
    assert_eq!(pool.checkout("B", 2, None), Some(conn));
    assert_eq!(pool.checkout("C", 3, None), Some(conn), "the second copy");
    let refs = || pool.state.lock().refs.get(&conn).copied();
    assert_eq!(refs(), Some(3), "the pool's, B's and C's");
    pool.discard(2, conn);
    assert_eq!(refs(), Some(2), "only the pool's reference is dropped");
}

/// [`small`] with idle timers.
fn timed() -> Config {
    Config {
        idle_timers: true,
        ..small()
    }
}

#[test]
fn an_idle_connection_is_closed_when_its_timer_fires() {
    let (exec, pool) = pool("fixed", timed());
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    advance_clock(4);
    pool.fire_timers();
    assert!(closed(&exec).is_empty(), "not due yet");
    advance_clock(1);
    pool.fire_timers();
    assert_eq!(closed(&exec), [(conn, CloseReason::Expired)]);
}

#[test]
fn the_callback_of_a_timer_armed_before_a_checkout_closes_nothing() {
    let (exec, pool) = pool("fixed", timed());
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    let first = pool.state.lock().idle_gen[&conn];
    assert_eq!(pool.checkout("A", 2, None), Some(conn));
    pool.checkin(2, conn);
    // The first timer fired before the checkout; its callback runs only now.
    pool.on_idle_timer(conn, first);
    assert!(closed(&exec).is_empty());
    assert_eq!(books(&pool, conn), Some(Books::Idle));
}

#[test]
fn a_checkout_stops_the_idle_timer_even_where_a_fired_one_closes_in_use() {
    let (exec, pool) = pool("idle-timer-closes-in-use", timed());
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.checkin(1, conn);
    assert_eq!(books(&pool, conn), Some(Books::Idle));
    advance_clock(5);
    assert_eq!(pool.checkout("A", 2, None), Some(conn));
    pool.fire_timers();
    assert!(
        closed(&exec).is_empty(),
        "its timer was stopped before it fired"
    );
}

#[test]
fn a_lease_discarded_after_close_pool_is_closed_by_its_task_as_broken() {
    let config = Config {
        conn_tasks: true,
        ..small()
    };
    let (exec, pool) = pool("fixed", config);
    let conn = pool.checkout("A", 1, None).expect("a new connection");
    pool.close();
    pool.discard(1, conn);
    assert!(closed(&exec).is_empty(), "the connection task closes it");
    pool.drive();
    assert_eq!(
        closed(&exec),
        [(conn, CloseReason::Error)],
        "the last reason"
    );
}

#[test]
fn a_pool_of_two_opens_a_second_connection_for_a_second_checkout() {
    let (_exec, pool) = pool(
        "fixed",
        Config {
            max_size: 2,
            ..small()
        },
    );
    assert_eq!(pool.checkout("A", 1, None), Some(1));
    assert_eq!(pool.state.lock().size, 1, "one slot taken");
    assert_eq!(pool.checkout("B", 2, None), Some(2), "room for one more");
}

#[test]
fn an_abandoned_connect_that_frees_no_slot_and_fails_no_waiter_announces_nothing() {
    let (exec, pool) = pool("cancel-leaks-slot", small());
    assert_eq!(pool.checkout("A", 1, Some("connect")), None);
    assert!(exec.notified().is_empty(), "{:?}", exec.notified());
}

#[test]
fn a_query_reads_its_own_reply_unless_a_cancelled_one_left_its_reply_unread() {
    for (variant, second) in [
        ("fixed", None),
        (
            "cancel-returns-dirty",
            Some(Outcome::Error(
                "read the reply to request 3: the connection is out of sync".into(),
            )),
        ),
    ] {
        let (exec, pool) = pool(variant, small());
        let lease = (1, pool.checkout("A", 1, None).expect("a new connection"));
        assert!(pool.query("A", 2, lease, None), "{variant}");
        let kept = pool.query("A", 3, lease, Some("reply"));
        assert_eq!(kept, second.is_some(), "{variant}: the lease goes on");
        let mut ends = vec![(2, Outcome::Response), (3, Outcome::Cancelled)];
        if let Some(outcome) = second {
            assert!(pool.query("A", 4, lease, None));
            ends.push((4, outcome));
        }
        let replies: Vec<_> = exec
            .finished()
            .into_iter()
            .filter(|(r, _)| *r > 1)
            .collect();
        assert_eq!(replies, ends, "{variant}");
    }
}

#[test]
fn a_cancel_reaches_the_lease_of_its_target_at_its_next_use() {
    let _exec = StdExecution::install();
    let variant = Variant::parse("fixed").expect("a variant");
    let pool = Pool::new(variant, small(), BTreeSet::from(["A".to_owned()]));
    let lease = (1, pool.checkout("A", 1, None).expect("a new connection"));
    pool.cancel("B");
    assert!(pool.use_conn("A", lease, 1, None), "B runs nothing");
    pool.cancel("A");
    assert!(!pool.use_conn("A", lease, 1, None), "cancelled at the use");
}

#[test]
fn a_checkin_ends_only_its_own_lease_and_a_cancel_still_reaches_the_others() {
    let _exec = StdExecution::install();
    let variant = Variant::parse("fixed").expect("a variant");
    let two = Config {
        max_size: 2,
        ..small()
    };
    let pool = Pool::new(
        variant,
        two,
        BTreeSet::from(["A".to_owned(), "B".to_owned()]),
    );
    let a = (1, pool.checkout("A", 1, None).expect("a new connection"));
    let b = (2, pool.checkout("B", 2, None).expect("a second connection"));
    pool.checkin(a.0, a.1);
    pool.cancel("B");
    assert!(
        !pool.use_conn("B", b, 1, None),
        "B's lease is cancelled at its use"
    );
    let busy = pool.state.lock().busy.clone();
    assert!(busy.is_empty(), "both leases ended: {busy:?}");
}
