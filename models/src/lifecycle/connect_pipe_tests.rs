//! The `connect_pipe` future's machine, and the duplex pipe transport's delivery of what the
//! server writes: no invariant judges that the data reaches the protocol (issue 17). With it,
//! what one turn of the loop runs, and what a protocol counts as its peer gone.

use super::super::event_loop::ProtocolView;
use super::super::variant::Variant;
use super::*;
use crate::sync::test_exec::StdExecution;

#[test]
fn the_future_completes_once_and_a_cancelled_one_drops_the_result() {
    assert_eq!(Fut::Pending.set_result(7), Ok(Fut::Done(7)));
    assert_eq!(Fut::Cancelled.set_result(7), Ok(Fut::Cancelled));
    assert!(Fut::Done(7).set_result(8).is_err());
    assert_eq!(Fut::Done(7).cancel(), Ok(Fut::Done(7)));
    assert_eq!(Fut::Done(7).take(), Ok((Fut::Taken, Some(7))));
    assert_eq!(Fut::Pending.take(), Ok((Fut::Pending, None)));
    assert!(Fut::Taken.take().is_err() && Fut::Cancelled.take().is_err());
    assert!(Fut::Taken.cancel().is_err());
}

/// The callbacks transport `id`'s protocol ran, in order.
fn callbacks_of(exec: &StdExecution, id: u32) -> Vec<CallbackKind> {
    let of_id = |ev| match ev {
        Event::Callback { transport, kind } if transport == id => Some(kind),
        _ => None,
    };
    exec.probes().into_iter().filter_map(of_id).collect()
}

/// Probes recorded, a loop of the `fixed` variant, and a pipe transport (fd 7) registered on it.
fn pipe_on_a_loop() -> (StdExecution, Loop, u32, Arc<PipeTransport>) {
    let exec = StdExecution::install();
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    let id = lp.reserve_transport_id();
    let t = Arc::new(PipeTransport::new(&lp, id, 7));
    lp.register(id, Transport::Pipe(t.clone()));
    (exec, lp, id, t)
}

#[test]
fn what_the_server_writes_reaches_the_protocol_before_its_end_of_file() {
    let (exec, lp, id, t) = pipe_on_a_loop();
    t.peer_write(&lp);
    t.peer_write(&lp);
    t.peer_close(&lp);
    lp.drain();
    t.peer_write(&lp);
    lp.drain();
    use CallbackKind::{Data, Exited, Lost, Made};
    // One `data_received` per chunk, `eof_received`, then nothing after the close.
    assert_eq!(callbacks_of(&exec, id), [Made, Data, Data, Exited, Lost]);
}

#[test]
fn nothing_the_server_writes_after_its_end_of_file_is_delivered() {
    let (exec, lp, id, t) = pipe_on_a_loop();
    t.peer_close(&lp);
    t.peer_write(&lp);
    lp.drain();
    use CallbackKind::{Exited, Lost, Made};
    assert_eq!(callbacks_of(&exec, id), [Made, Exited, Lost]);
}

#[test]
fn a_turn_runs_what_was_ready_when_it_started() {
    let (exec, lp, id, t) = pipe_on_a_loop();
    t.peer_write(&lp);
    t.peer_close(&lp);
    let callbacks = || callbacks_of(&exec, id);
    use CallbackKind::{Data, Exited, Lost, Made};
    lp.turn();
    assert_eq!(
        callbacks(),
        [Made, Data, Exited],
        "connection_lost waits a turn"
    );
    lp.turn();
    assert_eq!(callbacks(), [Made, Data, Exited, Lost]);
}

#[test]
fn the_peer_is_gone_once_an_exit_or_the_loss_is_seen() {
    let mut view = ProtocolView::default();
    assert!(!view.peer_gone(), "a new connection");
    view.made = true;
    assert!(!view.peer_gone(), "made");
    assert!(ProtocolView {
        exited: true,
        ..view
    }
    .peer_gone());
    assert!(ProtocolView { lost: true, ..view }.peer_gone());
}

#[test]
fn the_awaited_future_hands_over_the_handle_the_poll_opened_numbered_per_call() {
    let _exec = StdExecution::install();
    // 7ffa2c5f: the task awaits the future its `call_later` chain completes.
    let lp = Loop::new(Variant::parse("upstream-7ffa2c5f").expect("a release"));
    assert_eq!(lp.variant().pipe_connect(), PipeConnect::CallLaterPoll);
    assert_eq!(connect_pipe(&lp, "main", 0), Ok(1001), "connected at once");
    assert_eq!(
        connect_pipe(&lp, "main", 2),
        Ok(1002),
        "after two busy attempts, one a turn"
    );
}
