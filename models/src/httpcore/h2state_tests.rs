//! h2's flow-control books as the model keeps them (in DATA frames): a stream's window admits
//! as many unacknowledged DATA frames as the client advertised; an overrun by the model's
//! server, or a frame after its END_STREAM, is a model bug. The scenarios' server does neither,
//! so only these tests see the checks fire (issue 17).

use super::{H2State, ServerFrame};
use crate::sync::test_exec::StdExecution;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A connection with stream 1 sent, and a window of one DATA frame.
fn one_frame_window() -> H2State {
    let mut h = H2State::new(1, 100, Some(1));
    h.initiate_connection();
    h.send_headers(1).expect("stream 1 opens");
    h
}

fn data(end_stream: bool) -> ServerFrame {
    ServerFrame::Data {
        stream: 1,
        end_stream,
    }
}

#[test]
fn an_acknowledged_frame_makes_room_for_the_next() {
    let _exec = StdExecution::install();
    let mut h = one_frame_window();
    h.receive_data(&[data(false)]);
    h.acknowledge_received_data(1);
    h.receive_data(&[data(true)]);
}

/// What `frames` received on a fresh [`one_frame_window`] connection panics with.
fn panic_of(frames: &[ServerFrame], acknowledge: bool) -> String {
    let _exec = StdExecution::install();
    let mut h = one_frame_window();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for f in frames {
            h.receive_data(&[*f]);
            if acknowledge {
                h.acknowledge_received_data(1);
            }
        }
    }));
    let message = outcome.expect_err("a model bug");
    message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_frame_beyond_the_window_is_a_model_bug() {
    let text = panic_of(&[data(false), data(true)], false);
    assert!(text.contains("overran stream 1's window"), "{text}");
}

#[test]
fn a_frame_after_the_servers_end_stream_is_a_model_bug() {
    let text = panic_of(&[data(true), data(false)], true);
    assert!(text.contains("after it ended stream 1"), "{text}");
}
