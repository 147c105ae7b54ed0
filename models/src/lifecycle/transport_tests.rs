//! The subprocess transport's two state machines, and what a child that exits by itself leaves
//! to be read: every pipe's end of file, then `connection_lost`. Every scenario's owner closes
//! the transport, which closes the pipes too, so none shows a pipe the exit alone must end
//! (issue 17).

use super::*;
use crate::sync::test_exec::StdExecution;

/// Probes recorded, a loop of the `fixed` variant, and a transport id reserved on it.
fn fixed_loop() -> (StdExecution, Loop, u32) {
    let exec = StdExecution::install();
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    let id = lp.reserve_transport_id();
    (exec, lp, id)
}

/// [`fixed_loop`] with a subprocess transport of one pipe registered, post-init not run.
fn started_with_one_pipe() -> (StdExecution, Loop, u32, Arc<SubprocessTransport>) {
    let (exec, lp, id) = fixed_loop();
    let t = Arc::new(SubprocessTransport::start(lp.variant(), id, 1));
    lp.register(id, Transport::Subprocess(t.clone()));
    (exec, lp, id, t)
}

#[test]
fn the_exit_machine_finishes_once_after_the_exit() {
    let e = Exit::Running;
    assert_eq!(e.try_finish(true), Ok((Exit::Running, false)));
    let e = e.exited(0).expect("first exit");
    assert_eq!(e.try_finish(false), Ok((e, false)));
    let (e, done) = e.try_finish(true).expect("finishes");
    assert!(done && e.has_exited());
    assert!(
        e.try_finish(true).is_err(),
        "finishing again is a model bug"
    );
    assert!(e.exited(0).is_err(), "exiting again is a model bug");
}

#[test]
fn pending_calls_queue_until_flushed_once() {
    let mut p = PendingCalls::Queueing(Vec::new());
    assert!(p.call(Ready::ConnectionLost(1)).is_none());
    assert_eq!(p.flush().map(|q| q.len()), Ok(1));
    assert!(p.call(Ready::ConnectionLost(1)).is_some());
    assert!(p.flush().is_err(), "post-init finishes once");
}

/// The protocol callbacks the probes reported, in order.
fn callbacks(exec: &StdExecution) -> Vec<CallbackKind> {
    let callback = |ev| match ev {
        Event::Callback { kind, .. } => Some(kind),
        _ => None,
    };
    exec.probes().into_iter().filter_map(callback).collect()
}

#[test]
fn a_child_that_exits_by_itself_ends_every_pipe_then_its_transport() {
    let (exec, lp, id) = fixed_loop();
    let Ok(Transport::Subprocess(t)) = SubprocessTransport::create(&lp, "main", id, 2, None) else {
        panic!("post-init fails only when told to");
    };
    lp.drain();
    // Pipe 1 is readable already; pipe 0 only the exit makes readable.
    t.child_write(&lp, 1);
    t.child_exit(&lp);
    lp.drain();
    use CallbackKind::{Data, Exited, Lost, Made};
    assert_eq!(callbacks(&exec), [Made, Data, Exited, Exited, Exited, Lost]);
    assert_eq!(
        closed_pipes(&exec),
        [pipe_resource(id, 1), pipe_resource(id, 0)]
    );
}

/// The pipe resources the probes reported closed, in order.
fn closed_pipes(exec: &StdExecution) -> Vec<u32> {
    let closed = |ev| match ev {
        Event::ResourceClosed { kind: "pipe", id } => Some(id),
        _ => None,
    };
    exec.probes().into_iter().filter_map(closed).collect()
}

#[test]
fn a_pipe_is_read_only_once_post_init_stored_it_even_after_the_exit() {
    let (exec, lp, id, t) = started_with_one_pipe();
    // The child exits while post-init awaits the pipe's connect: its transport exists, and
    // nobody reads it until `_pipes[fd]` holds it.
    t.open_pipe(0);
    t.child_exit(&lp);
    lp.drain();
    assert_eq!(
        closed_pipes(&exec),
        Vec::<u32>::new(),
        "not read before it is stored"
    );
    t.store_pipe(&lp, 0);
    lp.drain();
    assert_eq!(
        closed_pipes(&exec),
        [pipe_resource(id, 0)],
        "then its EOF is read"
    );
}

#[test]
fn a_pipe_the_child_closes_during_post_init_is_read_once_stored() {
    let (exec, lp, id, t) = started_with_one_pipe();
    t.open_pipe(0);
    t.child_write(&lp, 0);
    t.child_close(&lp, 0);
    t.child_close(&lp, 5);
    lp.drain();
    assert_eq!(
        closed_pipes(&exec),
        Vec::<u32>::new(),
        "not read before it is stored"
    );
    t.store_pipe(&lp, 0);
    t.connected(&lp);
    lp.drain();
    assert_eq!(
        closed_pipes(&exec),
        [pipe_resource(id, 0)],
        "then read to its end"
    );
    use CallbackKind::{Data, Exited, Made};
    assert_eq!(
        callbacks(&exec),
        [Made, Data, Exited],
        "one chunk, then the pipe's end"
    );
}

#[test]
fn the_child_writes_nothing_after_its_exit_and_chunks_are_counted() {
    let (exec, lp, id) = fixed_loop();
    let Ok(Transport::Subprocess(t)) = SubprocessTransport::create(&lp, "main", id, 1, None) else {
        panic!("post-init fails only when told to");
    };
    t.child_write(&lp, 0);
    t.child_write(&lp, 0);
    t.child_exit(&lp);
    t.child_write(&lp, 0);
    lp.drain();
    use CallbackKind::{Data, Exited, Lost, Made};
    assert_eq!(callbacks(&exec), [Made, Data, Data, Exited, Exited, Lost]);
}

#[test]
fn pipe_resources_are_numbered_apart_per_transport_and_fd() {
    let numbers = [(1, 0), (1, 1), (2, 0), (2, 1)].map(|(t, fd)| pipe_resource(t, fd));
    assert_eq!(numbers, [10, 11, 20, 21]);
}

/// A `fixed` loop with a started subprocess transport of one pipe, post-init done and its
/// `connection_made` run.
fn connected_with_one_pipe() -> (StdExecution, Loop, Arc<SubprocessTransport>) {
    let (exec, lp, id) = fixed_loop();
    let Ok(Transport::Subprocess(t)) = SubprocessTransport::create(&lp, "main", id, 1, None) else {
        panic!("post-init fails only when told to");
    };
    lp.drain();
    (exec, lp, t)
}

#[test]
fn what_the_child_wrote_during_post_init_is_read_once_stored() {
    let (exec, lp, _id, t) = started_with_one_pipe();
    t.open_pipe(0);
    t.child_write(&lp, 0);
    t.store_pipe(&lp, 0);
    t.connected(&lp);
    lp.drain();
    use CallbackKind::{Data, Made};
    assert_eq!(
        callbacks(&exec),
        [Made, Data],
        "the chunk, its pipe still open"
    );
}

#[test]
fn nothing_the_child_writes_after_closing_a_pipe_is_read() {
    let (exec, lp, t) = connected_with_one_pipe();
    t.child_close(&lp, 0);
    t.child_write(&lp, 0);
    lp.drain();
    use CallbackKind::{Exited, Made};
    assert_eq!(callbacks(&exec), [Made, Exited], "only the pipe's end");
}

#[test]
fn a_closed_transport_reads_nothing_more_from_its_pipes() {
    let (exec, lp, t) = connected_with_one_pipe();
    // Readable already when the owner closes the transport: `close()` removes the reader.
    t.child_write(&lp, 0);
    t.close(&lp);
    lp.drain();
    use CallbackKind::{Exited, Lost, Made};
    assert_eq!(callbacks(&exec), [Made, Exited, Exited, Lost]);
}

#[test]
fn closing_a_transport_whose_pipe_is_closing_loses_that_pipe_once() {
    let (exec, lp, t) = connected_with_one_pipe();
    t.child_close(&lp, 0);
    lp.turn();
    // The pipe's `_call_connection_lost` is scheduled; the transport's close must not
    // schedule it again.
    t.close(&lp);
    lp.drain();
    use CallbackKind::{Exited, Lost, Made};
    assert_eq!(callbacks(&exec), [Made, Exited, Exited, Lost]);
}

#[test]
fn the_loop_delivers_what_two_children_wrote_in_the_order_they_wrote_it() {
    let exec = StdExecution::install();
    let lp = Loop::new(Variant::parse("fixed").expect("fixed is a variant"));
    let connect = || {
        let id = lp.reserve_transport_id();
        let Ok(Transport::Subprocess(t)) = SubprocessTransport::create(&lp, "main", id, 1, None)
        else {
            panic!("post-init fails only when told to");
        };
        t
    };
    let (first, second) = (connect(), connect());
    // Nothing was written when post-init stored the pipes: no read is due before the writes.
    first.child_write(&lp, 0);
    second.child_write(&lp, 0);
    lp.drain();
    let data_from = |ev| match ev {
        Event::Callback {
            transport,
            kind: CallbackKind::Data,
        } => Some(transport),
        _ => None,
    };
    let order: Vec<u32> = exec.probes().into_iter().filter_map(data_from).collect();
    assert_eq!(order, [first.id(), second.id()]);
}
