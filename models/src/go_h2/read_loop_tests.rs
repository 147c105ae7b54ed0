//! The read loop's flow-control books for one DATA frame ([`super::process_data`],
//! [`super::refund_unknown_stream`]), called directly on one connection: the windows after the
//! frame and the WINDOW_UPDATEs the client declared it writes. The scenarios' padded DATA and
//! DATA for a forgotten stream are judged by their invariants only when a later frame would
//! overrun a window, which their budgets rarely reach (issue 17).

use super::super::client_conn::{
    ClientConn, ClientStream, ReqErr, ResAndError, DEFAULT_MAX_CONCURRENT_STREAMS,
    INITIAL_MAX_CONCURRENT_STREAMS,
};
use super::super::net::{ErrCode, Net, PeerFrame, Settings};
use super::super::pool::Pool;
use super::super::round_trip::tests::{
    conn_options, conn_window, connection, connection_with_stream,
};
use super::{
    process_data, process_headers, process_reset_stream, process_settings, read_loop,
    refund_unknown_stream, set_go_away, ReadLoop,
};
use crate::sync::test_exec::StdExecution;
use crate::sync::{BlockKind, CloseReason, Event};
use std::sync::Arc;

#[test]
fn data_for_a_forgotten_stream_is_given_back_to_the_connection_window() {
    let exec = StdExecution::install();
    let (cc, _cs) = connection_with_stream();
    let before = conn_window(&cc);
    refund_unknown_stream(&cc, 100);
    assert_eq!(conn_window(&cc), before + 100);
    refund_unknown_stream(&cc, 0);
    assert_eq!(conn_window(&cc), before + 100, "nothing to give back");
    let writes = exec.blocking(BlockKind::NetWrite);
    assert_eq!(writes, ["cc1: WINDOW_UPDATE(0, 100)"]);
}

/// What one DATA frame did on stream 1 ([`receive`]).
#[derive(Debug, PartialEq)]
struct Received {
    /// The growth of the connection window.
    conn: i64,
    /// The growth of the stream window.
    stream: i64,
    /// The WINDOW_UPDATEs written.
    writes: Vec<String>,
    /// The octets the body pipe holds.
    buffered: i64,
    /// The frame took the body pipe's lock (a write into it, however small, is seen there).
    pipe_touched: bool,
}

/// DATA of (payload, padding) octets on stream 1 of a connection of `variant`, after the
/// client reset the stream when `reset`: [`super::super::round_trip`]'s `close_body` of a body
/// the server had not ended sets `cs.didReset` under `mu` and breaks the pipe only after its
/// RST_STREAM is written, so the read loop can take DATA in between and find the pipe unbroken.
fn receive(variant: &str, data: (u32, u32), reset: bool) -> Received {
    let exec = StdExecution::install();
    let (_net, cc) = connection(variant, false);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    cs.did_reset.set(reset);
    let (conn, stream) = (conn_window(&cc), cs.inflow.get());
    let peer_windows = (stream, conn);
    let locks_before = exec.locks_taken().len();
    process_data(&cc, &mut ReadLoop::default(), 1, data, false, peer_windows)
        .expect("within the windows");
    let pipe_touched = exec.locks_taken()[locks_before..].contains(&"cs1.bufPipe".to_owned());
    Received {
        conn: conn_window(&cc) - conn,
        stream: cs.inflow.get() - stream,
        writes: exec.blocking(BlockKind::NetWrite),
        buffered: cs.pipe_state().0,
        pipe_touched,
    }
}

/// A [`Received`] of `conn`, `stream` window growth and `writes`, with `buffered` octets in
/// the pipe, which the frame touched iff it buffered something.
fn received(conn: i64, stream: i64, writes: &[&str], buffered: i64) -> Received {
    Received {
        conn,
        stream,
        writes: writes.iter().map(|w| (*w).to_owned()).collect(),
        buffered,
        pipe_touched: buffered > 0,
    }
}

#[test]
fn data_takes_its_octets_from_both_windows_and_gives_its_padding_back_at_once() {
    // go-48491 gives the stream its padding back outside `cc.mu`; alone, it gets it all the same.
    for variant in ["fixed", "go-48491"] {
        let unpadded = receive(variant, (10, 0), false);
        assert_eq!(
            unpadded,
            received(-10, -10, &[], 10),
            "{variant}: no padding"
        );
        let refund = "cc1: WINDOW_UPDATE(0, 5) + WINDOW_UPDATE(1, 5)";
        let padded = receive(variant, (10, 5), false);
        let want = received(-10, -10, &[refund], 10);
        assert_eq!(padded, want, "{variant}: 5 of padding");
    }
}

#[test]
fn data_for_a_stream_the_client_reset_goes_back_to_the_connection_and_not_to_the_pipe() {
    // 4e4d966f processData 2420-2446: `refund += len(data)` when `cs.didReset`, the connection
    // window alone refunded, and no `bufPipe.Write`: nobody will read the data.
    for variant in ["fixed", "go-48491"] {
        let unpadded = receive(variant, (10, 0), true);
        let want = received(0, -10, &["cc1: WINDOW_UPDATE(0, 10)"], 0);
        assert_eq!(unpadded, want, "{variant}: no padding");
        let padded = receive(variant, (10, 5), true);
        let want = received(0, -15, &["cc1: WINDOW_UPDATE(0, 15)"], 0);
        assert_eq!(padded, want, "{variant}: 5 of padding");
    }
}

#[test]
fn data_without_payload_leaves_the_body_pipe_alone() {
    // 4e4d966f processData 2442: `if len(data) > 0 && !didReset { cs.bufPipe.Write(data) }`.
    let empty = receive("fixed", (0, 0), false);
    assert_eq!(empty, received(0, 0, &[], 0), "no octets at all");
    let refund = "cc1: WINDOW_UPDATE(0, 5) + WINDOW_UPDATE(1, 5)";
    let padding_only = receive("fixed", (0, 5), false);
    assert_eq!(padding_only, received(0, 0, &[refund], 0), "padding only");
}

/// Streams 1 and 3 (no request bodies) open on a fresh connection of variant `fixed`.
fn two_streams() -> (Arc<Net>, Arc<ClientConn>, [Arc<ClientStream>; 2]) {
    let (net, cc) = connection("fixed", false);
    let streams = {
        let mut st = cc.mu.lock();
        [1, 2].map(|req| cc.new_stream(&mut st, req, false))
    };
    (net, cc, streams)
}

#[test]
fn a_response_that_does_not_end_a_stream_with_a_body_leaves_it_open() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let (posting, ending) = {
        let mut st = cc.mu.lock();
        (
            cc.new_stream(&mut st, 1, true),
            cc.new_stream(&mut st, 2, true),
        )
    };
    process_headers(&cc, 1, false);
    let open = |id| cc.mu.lock().streams.contains_key(&id);
    assert!(open(1), "its body may still be written and read");
    let response = posting.try_response();
    assert!(
        matches!(response, Some(ResAndError::Response(false))),
        "{response:?}"
    );
    process_headers(&cc, 3, true);
    assert!(
        !open(3),
        "ended: forgotten after the response was handed over"
    );
    let response = ending.try_response();
    assert!(
        matches!(response, Some(ResAndError::Response(true))),
        "{response:?}"
    );
}

#[test]
fn a_response_that_does_not_end_a_stream_leaves_it_open_in_every_variant() {
    for variant in ["fixed", "fixed-without=forget-after-response"] {
        let _exec = StdExecution::install();
        let (_net, cc) = connection(variant, false);
        let (_get, _post) = {
            let mut st = cc.mu.lock();
            (
                cc.new_stream(&mut st, 1, false),
                cc.new_stream(&mut st, 2, true),
            )
        };
        process_headers(&cc, 1, false);
        process_headers(&cc, 3, false);
        let open: Vec<u32> = cc.mu.lock().streams.keys().copied().collect();
        assert_eq!(
            open,
            [1, 3],
            "{variant}: their response bodies are still to come"
        );
    }
}

#[test]
fn data_that_ends_a_stream_of_an_idle_do_not_reuse_connection_marks_it_to_close() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    cc.mu.lock().do_not_reuse = true;
    let mut rl = ReadLoop::default();
    // A cancelled request's stream: the connection has none left.
    process_data(&cc, &mut rl, 1, (10, 0), false, (0, 0)).expect("refunded");
    assert!(!rl.close_when_idle, "the stream has not ended");
    process_data(&cc, &mut rl, 1, (10, 0), true, (0, 0)).expect("refunded");
    assert!(rl.close_when_idle, "END_STREAM");
}

#[test]
fn the_first_settings_without_a_stream_limit_sets_gos_default_and_later_ones_keep_it() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let limit = || cc.mu.lock().max_concurrent_streams;
    assert_eq!(
        limit(),
        INITIAL_MAX_CONCURRENT_STREAMS,
        "before any SETTINGS"
    );
    process_settings(&cc, Settings::default()).expect("acked");
    assert_eq!(limit(), DEFAULT_MAX_CONCURRENT_STREAMS);
    let five = Settings {
        max_streams: Some(5),
        ..Settings::default()
    };
    process_settings(&cc, five).expect("acked");
    process_settings(&cc, Settings::default()).expect("acked");
    assert_eq!(limit(), 5, "a later SETTINGS without the limit leaves it");
}

#[test]
fn settings_are_acked_under_mu_before_978cfadd_and_after_mu_from_it() {
    for (variant, order) in [
        ("upstream-95888ee7", ["cc1.mu", "cc1.wmu"]),
        ("fixed", ["cc1.wmu", "cc1.mu"]),
    ] {
        let exec = StdExecution::install();
        let (_net, cc) = connection(variant, false);
        let before = exec.locks_taken().len();
        process_settings(&cc, Settings::default()).expect("acked");
        let taken = exec.locks_taken()[before..].to_vec();
        assert_eq!(taken[..2], order, "{variant}: {taken:?}");
    }
}

#[test]
fn goaway_fails_only_the_streams_above_its_last_stream_id() {
    let _exec = StdExecution::install();
    let (_net, cc, [one, three]) = two_streams();
    set_go_away(&cc, 1);
    assert!(one.try_response().is_none(), "stream 1 is still processed");
    let failed = three.try_response();
    let retryable = matches!(failed, Some(ResAndError::Err(ReqErr::GotGoAway)));
    assert!(retryable, "{failed:?}");
}

#[test]
fn only_a_protocol_error_reset_makes_the_connection_do_not_reuse() {
    for (code, do_not_reuse) in [(ErrCode::RefusedStream, false), (ErrCode::Protocol, true)] {
        let _exec = StdExecution::install();
        let (_net, cc, _streams) = two_streams();
        let mut rl = ReadLoop::default();
        process_reset_stream(&cc, &mut rl, 1, code);
        let marked = (cc.mu.lock().do_not_reuse, rl.close_when_idle);
        // Stream 3 is still open: the connection is not idle yet, it is to close once it is.
        assert_eq!(marked, (do_not_reuse, do_not_reuse), "{code:?}");
    }
}

#[test]
fn before_76eb614f_a_do_not_reuse_connection_is_not_closed_when_idle() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("go-48491", false);
    let _stream = cc.new_stream(&mut cc.mu.lock(), 1, false);
    let mut rl = ReadLoop::default();
    process_reset_stream(&cc, &mut rl, 1, ErrCode::Protocol);
    let marked = (cc.mu.lock().do_not_reuse, rl.close_when_idle);
    assert_eq!(marked, (true, false), "978cfadd has no closeWhenIdle");
}

#[test]
fn a_do_not_reuse_connection_is_closed_by_its_read_loop_once_a_reply_leaves_it_idle() {
    let exec = StdExecution::install();
    let (net, cc, _streams) = two_streams();
    let pool = Arc::new(Pool::new(net.clone(), conn_options("fixed", false)));
    net.peer_op(
        1,
        |_| true,
        |p| {
            let reset = PeerFrame::RstStream {
                stream: 3,
                code: ErrCode::Protocol,
            };
            p.inbound.push_back(reset);
            let last_reply = PeerFrame::Headers {
                stream: 1,
                end_stream: true,
            };
            p.inbound.push_back(last_reply);
            p.close();
        },
    );
    read_loop(cc, pool);
    let closes: Vec<CloseReason> = exec
        .probes()
        .into_iter()
        .filter_map(|e| match e {
            Event::ConnClosed { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    // `closeIfIdle` after the reply, then the read loop's cleanup at EOF.
    assert_eq!(closes, [CloseReason::Terminated, CloseReason::Error]);
}
