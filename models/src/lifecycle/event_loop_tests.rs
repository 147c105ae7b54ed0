//! The loop's plain awaits and task cancellation, and what a pool asks a transport before
//! reusing it. No scenario consumes a cancellation, cancels code that cannot see it, or reuses
//! a pipe connection whose server went away (issue 17).

use super::super::connect_pipe::create_pipe_connection;
use super::super::transport::SubprocessTransport;
use super::*;
use crate::sync::test_exec::StdExecution;

/// Probes recorded, a loop of the `fixed` variant, and a connected named-pipe transport on it
/// (the fixed `connect_pipe` connects at its first attempt: no await).
fn pipe_connection() -> (StdExecution, Loop, Transport) {
    let exec = StdExecution::install();
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    let id = lp.reserve_transport_id();
    let t = create_pipe_connection(&lp, "main", id, 0).expect("not busy, not cancelled");
    (exec, lp, t)
}

fn made_ran(exec: &StdExecution) -> bool {
    let made = |ev: &Event| {
        matches!(
            ev,
            Event::Callback {
                kind: CallbackKind::Made,
                ..
            }
        )
    };
    exec.probes().iter().any(made)
}

#[test]
fn a_plain_await_runs_what_became_ready() {
    let (exec, lp, _t) = pipe_connection();
    assert!(!made_ran(&exec), "connection_made is only scheduled");
    lp.await_plain("await");
    assert!(made_ran(&exec), "the loop ran it when the task resumed");
}

#[test]
fn a_pool_sees_the_peer_of_a_pipe_connection_go_only_once_its_end_of_file_ran() {
    let (_exec, lp, t) = pipe_connection();
    lp.drain();
    assert!(!t.peer_gone(), "connected, the server still there");
    let Transport::Pipe(pipe) = &t else {
        panic!("create_pipe_connection makes pipe transports");
    };
    pipe.peer_close(&lp);
    assert!(!t.peer_gone(), "eof_received has not run yet");
    lp.drain();
    assert!(t.peer_gone(), "eof_received ran");
}

#[test]
fn a_cancellation_reaches_only_an_operation_under_way() {
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    assert!(!lp.cancel("A"), "A runs nothing cancellable");
    lp.begin_cancellable("A");
    assert!(!lp.cancel_requested("A"));
    assert!(lp.cancel("A"));
    assert!(lp.cancel_requested("A") && !lp.cancel_requested("B"));
    lp.end_cancellable("A");
    assert!(!lp.cancel_requested("A"), "the operation ended");
    assert!(!lp.cancel("A"));
}

#[test]
fn a_consumed_cancellation_is_spent() {
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    lp.begin_cancellable("A");
    assert!(lp.cancel("A"));
    lp.consume_cancel("A");
    assert!(!lp.cancel_requested("A"), "wait_for returned the result");
    assert!(lp.cancel("A"), "a new cancellation still lands");
    assert!(lp.cancel_requested("A"));
}

#[test]
fn code_unaware_of_a_cancellation_sees_it_only_once_it_returns() {
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    lp.begin_cancellable("A");
    assert!(lp.cancel("A"));
    let inside = lp.unaware_of_cancel("A", || lp.cancel_requested("A"));
    assert!(!inside, "v3.4.2's inner task runs on");
    assert!(lp.cancel_requested("A"), "recorded, and seen again after");
}

#[test]
fn a_pool_sees_the_peer_of_a_subprocess_go_once_its_exit_was_reported() {
    let _exec = StdExecution::install();
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    let id = lp.reserve_transport_id();
    let t = SubprocessTransport::create(&lp, "main", id, 0, None).expect("no pipe to fail");
    lp.drain();
    assert!(!t.peer_gone(), "the child runs");
    let Transport::Subprocess(s) = &t else {
        panic!("create makes subprocess transports");
    };
    s.child_exit(&lp);
    lp.drain();
    assert!(t.peer_gone(), "process_exited ran");
}
