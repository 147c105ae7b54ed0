//! Where a task is cancelled: what a trace shows where a cancellation is raised (the await
//! itself, as upstream writes it: a label is diagnostics, but it reaches every
//! counterexample), which request a `cancel target=...` reaches, and what asking the book
//! costs a task nothing may cancel (issue 17).

use super::{point_label, Cancels, POINTS};
use crate::httpcore::connection::ReqError;
use crate::sync::test_exec::StdExecution;
use crate::sync::StepLog;
use std::collections::BTreeSet;
use std::sync::Arc;

#[test]
fn each_cancellation_point_is_labelled_with_its_await() {
    let labels = [
        "await wait_for_connection() -> CancelledError",
        "async with _request_lock -> CancelledError",
        "await _connect() -> CancelledError",
        "async with _state_lock -> CancelledError",
        "async with _init_lock -> CancelledError",
        "await _max_streams_semaphore.acquire() -> CancelledError",
        "await network_stream.write() -> CancelledError",
        "await _receive_response() -> CancelledError",
        "await response.aread() -> CancelledError",
    ];
    assert_eq!(POINTS.len(), labels.len());
    for (point, label) in POINTS.iter().zip(labels) {
        assert_eq!(point_label(point), label, "{point}");
    }
    let cleanup = point_label("cleanup");
    assert_eq!(cleanup, "shielded async with _state_lock (cleanup)");
    assert_eq!(point_label("elsewhere"), "await -> CancelledError");
}

/// The cancellations of an execution in which `cancel` operations target actor `A`.
fn targeting_a() -> Cancels {
    Cancels::new(BTreeSet::from(["A".to_owned()]))
}

#[test]
fn a_cancel_reaches_the_request_its_target_runs_until_that_one_finishes() {
    let _exec = StdExecution::install();
    let cancels = targeting_a();
    cancels.task("A", 1, None);
    cancels.task("A", 2, None);
    // A kept response 1 open and runs request 2 now: closing response 1 finishes request 1
    // only.
    cancels.finished("A", 1);
    assert!(cancels.cancel("A"), "request 2 is still under way");
    cancels.finished("A", 2);
    assert!(!cancels.cancel("A"), "nothing left to cancel");
}

#[test]
fn a_task_about_to_wait_raises_a_cancellation_delivered_earlier() {
    let _exec = StdExecution::install();
    let cancels = targeting_a();
    let task = cancels.task("A", 1, None);
    assert_eq!(task.pending(), Ok(()));
    assert!(cancels.cancel("A"));
    assert_eq!(task.pending(), Err(ReqError::Cancelled));
}

#[test]
fn only_a_task_something_may_cancel_looks_at_the_book_and_only_reads_it_until_then() {
    let steps = Arc::new(StepLog::default());
    let _exec = StdExecution::traced(&steps);
    let cancels = Cancels::new(BTreeSet::new());
    let unwatched = cancels.task("A", 1, None);
    let watched = cancels.task("A", 2, Some("body"));
    steps.take();
    assert_eq!(unwatched.checkpoint("write"), Ok(()));
    let untouched = steps.take().footprint;
    assert!(untouched.is_empty(), "{untouched:?}");
    assert_eq!(watched.checkpoint("write"), Ok(()));
    let looked = steps.take().footprint;
    let writes: Vec<bool> = looked.accesses().iter().map(|a| a.write).collect();
    assert_eq!(writes, [false], "one read: {looked:?}");
}
