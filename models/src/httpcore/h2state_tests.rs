//! h2's flow-control books as the model keeps them (in DATA frames): a stream's window admits
//! as many unacknowledged DATA frames as the client advertised; an overrun by the model's
//! server, or a frame after its END_STREAM, is a model bug. The scenarios' server does neither,
//! so only these tests see the checks fire (issue 17).

use super::{ClientFrame, H2Error, H2Event, H2State, ServerFrame};
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

/// A connection with streams `sent` open and no window.
fn with_streams(sent: &[u32]) -> H2State {
    let mut h = H2State::new(1, 100, None);
    h.initiate_connection();
    for s in sent {
        h.send_headers(*s).expect("the stream opens");
    }
    h
}

#[test]
fn each_refusal_reads_as_h2_words_it() {
    let words = [
        (H2Error::NoAvailableStreamId, "NoAvailableStreamIDError"),
        (
            H2Error::TooManyStreams {
                max: 100,
                open: 100,
            },
            "Max outbound streams is 100, 100 open",
        ),
        (
            H2Error::ConnectionClosed,
            "Invalid input SEND_HEADERS in state CLOSED",
        ),
    ];
    for (e, text) in words {
        assert_eq!(e.to_string(), text);
    }
}

#[test]
fn a_stream_counts_as_open_from_its_headers_until_the_connection_closes() {
    let _exec = StdExecution::install();
    let mut h = with_streams(&[1]);
    assert!(h.is_open(1) && !h.is_open(3) && !h.is_closed());
    h.close_connection();
    h.close_connection();
    assert!(!h.is_open(1) && h.is_closed());
    let sent = [
        ClientFrame::Preface,
        ClientFrame::Headers { stream: 1 },
        ClientFrame::Goaway,
    ];
    assert_eq!(
        h.data_to_send(),
        sent,
        "one GOAWAY, however often it is closed"
    );
    assert_eq!(h.send_headers(3), Err(H2Error::ConnectionClosed));
}

#[test]
fn the_peers_settings_and_goaway_are_what_h2_enforces_and_reports() {
    let _exec = StdExecution::install();
    let mut h = with_streams(&[]);
    assert_eq!((h.remote_max_streams(), h.goaway_received()), (None, None));
    let limit = Some(1);
    let events = h.receive_data(&[ServerFrame::Settings { max_streams: limit }]);
    assert_eq!(
        events,
        [H2Event::RemoteSettingsChanged { max_streams: limit }]
    );
    assert_eq!(h.remote_max_streams(), limit);
    h.send_headers(1).expect("the first stream fits the limit");
    assert_eq!(
        h.send_headers(3),
        Err(H2Error::TooManyStreams { max: 1, open: 1 })
    );
    h.receive_data(&[ServerFrame::Goaway { last_stream: 1 }]);
    assert_eq!(h.goaway_received(), Some(1));
    assert!(h.is_closed());
}

#[test]
fn frames_for_a_stream_that_is_not_open_produce_no_event() {
    let _exec = StdExecution::install();
    let mut h = with_streams(&[1]);
    let stray = [
        ServerFrame::Headers {
            stream: 3,
            end_stream: false,
        },
        ServerFrame::Data {
            stream: 3,
            end_stream: false,
        },
        ServerFrame::RstStream { stream: 3 },
    ];
    assert_eq!(h.receive_data(&stray), []);
    let reset = [ServerFrame::RstStream { stream: 1 }];
    assert_eq!(h.receive_data(&reset), [H2Event::StreamReset { stream: 1 }]);
    assert!(!h.is_open(1));
    assert_eq!(h.receive_data(&reset), [], "a stream is reset once");
}
