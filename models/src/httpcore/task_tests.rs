//! What a trace shows where a cancellation is raised: the await itself, as upstream writes it
//! (issue 17: a label is diagnostics, but it reaches every counterexample).

use super::{point_label, POINTS};

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
