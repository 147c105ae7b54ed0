//! The pool's reuse check, the connection a cancelled `wait_for` drops, and the wake-up a
//! cancellation sends its waiters. No scenario reuses a connection whose server went away
//! (issue 17).

use super::super::event_loop::Transport;
use super::super::variant::Variant;
use super::*;
use crate::sync::test_exec::StdExecution;

/// Probes recorded, a loop of `variant` and a pool of one named-pipe connection at most.
fn pipe_pool(variant: &str) -> (StdExecution, Loop, Pool) {
    let exec = StdExecution::install();
    let lp = Loop::new(Variant::parse(variant).expect("a variant"));
    let pool = Pool::new(Config {
        max_connections: 1,
        connector: Connector::Pipe { busy: 0 },
    });
    (exec, lp, pool)
}

#[test]
fn a_pooled_connection_whose_server_went_away_fails_the_next_request() {
    let (exec, lp, pool) = pipe_pool("fixed");
    pool.request(&lp, "main", 1, Request::default());
    let Some(Transport::Pipe(pipe)) = lp.transport(1) else {
        panic!("the request connected transport 1");
    };
    pipe.peer_close(&lp);
    lp.drain();
    pool.request(&lp, "main", 2, Request::default());
    let lost = Outcome::Error("connection lost".into());
    assert_eq!(exec.finished(), [(1, Outcome::Response), (2, lost)]);
}

#[test]
fn a_cancelled_wait_for_drops_the_connection_its_acquire_returned() {
    let (exec, lp, pool) = pipe_pool("upstream-3.8.5");
    lp.begin_cancellable("main");
    let t = pool.acquire(&lp, "main", None).expect("a new connection");
    assert!(lp.cancel("main"));
    assert!(wait_for_resumes(&lp, "main", t).is_none(), "raises");
    let note = Event::Note("wait_for raises CancelledError and drops connection 1".into());
    assert!(exec.probes().contains(&note), "{:?}", exec.probes());
}

#[test]
fn waking_the_pool_notifies_its_waiters() {
    let (exec, _lp, pool) = pipe_pool("fixed");
    pool.wake();
    assert_eq!(
        exec.notified(),
        ["pool.cond: connection returned, permit freed or cancelled"]
    );
}

#[test]
fn closing_the_pool_closes_its_idle_connections_transports() {
    let (exec, lp, pool) = pipe_pool("fixed");
    pool.request(&lp, "main", 1, Request::default());
    pool.close(&lp);
    lp.drain();
    let transport_closed = Event::ResourceClosed {
        kind: "transport",
        id: 1,
    };
    assert!(exec.probes().contains(&transport_closed));
}
