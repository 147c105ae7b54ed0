//! The flow-control arithmetic of the response body's `Read` and `Close`
//! ([`super::refresh_flow`], [`super::close_body`]), called directly on one connection: the
//! connection refresh runs only once half of the 1 GiB connection window is used, and the
//! refund of unread data only when a body is closed unread, which no scenario's budget reaches
//! or exercises (issue 17). The windows after the call, the frames the client declared it
//! writes (`WINDOW_UPDATE(stream, increment)`, `RST_STREAM(stream)`) and the locks it took are
//! what is checked.

use super::super::client_conn::ResAndError;
use super::super::client_conn::{
    ClientConn, ClientStream, ConnOptions, PipeEnd, CONN_FLOW, STREAM_FLOW, STREAM_MIN_REFRESH,
};
use super::super::ctx::Goroutines;
use super::super::net::Net;
use super::super::peer::PeerConfig;
use super::super::state::StreamState;
use super::super::variant::Variant;
use super::{close_body, refresh_flow, Request};
use crate::sync::test_exec::StdExecution;
use crate::sync::BlockKind;
use std::sync::Arc;

/// Connection 1 of variant `fixed`, with stream 1 open on it.
pub(in crate::go_h2) fn connection_with_stream() -> (Arc<ClientConn>, Arc<ClientStream>) {
    let net = Net::new(PeerConfig::default(), 1024);
    let opts = ConnOptions {
        variant: Variant::parse("fixed").expect("fixed is a variant"),
        goroutines: Arc::new(Goroutines::new()),
        body_goroutine: false,
        strict_max_streams: false,
    };
    let cc = Arc::new(ClientConn::new("a", &opts, net.accept()));
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    (cc, cs)
}

fn set_conn_window(cc: &ClientConn, inflow: i64) {
    cc.mu.lock().inflow = inflow;
}

/// The connection's receive window (`cc.inflow`).
pub(in crate::go_h2) fn conn_window(cc: &ClientConn) -> i64 {
    cc.mu.lock().inflow
}

/// The writes declared since the last call (each is one `write_frames`).
fn writes_since(exec: &StdExecution, seen: &mut usize) -> Vec<String> {
    let all = exec.blocking(BlockKind::NetWrite);
    let new = all[*seen..].to_vec();
    *seen = all.len();
    new
}

#[test]
fn the_connection_window_is_topped_up_once_half_of_it_is_used() {
    let exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    let mut seen = 0;
    set_conn_window(&cc, CONN_FLOW / 2);
    refresh_flow(&cc, &cs, 1);
    assert_eq!(conn_window(&cc), CONN_FLOW / 2, "half left: no refresh yet");
    assert_eq!(writes_since(&exec, &mut seen), Vec::<String>::new());
    set_conn_window(&cc, CONN_FLOW / 2 - 1);
    refresh_flow(&cc, &cs, 1);
    assert_eq!(conn_window(&cc), CONN_FLOW, "back to the full window");
    let inc = CONN_FLOW / 2 + 1;
    assert_eq!(
        writes_since(&exec, &mut seen),
        [format!("cc1: WINDOW_UPDATE(0, {inc})")]
    );
}

#[test]
fn the_stream_window_counts_buffered_data_before_it_is_refreshed() {
    let exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    let mut seen = 0;
    let threshold = STREAM_FLOW - STREAM_MIN_REFRESH;
    cs.inflow.set(threshold);
    refresh_flow(&cc, &cs, 1);
    assert_eq!(cs.inflow.get(), threshold, "at the threshold: no refresh");
    cs.inflow.set(threshold - 10);
    cs.pipe_write(10);
    refresh_flow(&cc, &cs, 1);
    assert_eq!(
        cs.inflow.get(),
        threshold - 10,
        "buffered data still counts"
    );
    assert_eq!(writes_since(&exec, &mut seen), Vec::<String>::new());
    cs.pipe_read();
    refresh_flow(&cc, &cs, 10);
    assert_eq!(
        cs.inflow.get(),
        STREAM_FLOW,
        "read: refreshed to the full window"
    );
    let inc = STREAM_MIN_REFRESH + 10;
    assert_eq!(
        writes_since(&exec, &mut seen),
        [format!("cc1: WINDOW_UPDATE(1, {inc})")]
    );
}

/// Close stream 1's body with `unread` octets buffered, after the server ended the stream or
/// not; returns the connection window's growth and the writes.
fn close_with(unread: u32, server_ended: bool) -> (i64, Vec<String>, bool) {
    let exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    if unread > 0 {
        cs.pipe_write(unread);
    }
    if server_ended {
        cs.pipe_close(PipeEnd::Eof);
    }
    let before = conn_window(&cc);
    close_body(&cc, &cs);
    assert!(cc.mu.lock().streams.is_empty(), "the stream is forgotten");
    let writes = exec.blocking(BlockKind::NetWrite);
    (conn_window(&cc) - before, writes, cs.did_reset.get())
}

#[test]
fn closing_a_body_refunds_what_was_not_read_and_resets_an_unended_stream() {
    let (grew, writes, reset) = close_with(100, true);
    assert_eq!(
        (grew, writes, reset),
        (100, vec!["cc1: WINDOW_UPDATE(0, 100)".to_owned()], false)
    );
    let (grew, writes, reset) = close_with(0, true);
    assert_eq!((grew, writes, reset), (0, vec![], false), "nothing to do");
    let (grew, writes, reset) = close_with(0, false);
    assert_eq!(
        (grew, writes, reset),
        (0, vec!["cc1: RST_STREAM(1)".to_owned()], true)
    );
    let (grew, writes, reset) = close_with(100, false);
    let both = "cc1: RST_STREAM(1) + WINDOW_UPDATE(0, 100)".to_owned();
    assert_eq!((grew, writes, reset), (100, vec![both], true));
}

#[test]
fn the_body_pipe_hands_over_what_is_buffered_before_its_end() {
    let _exec = StdExecution::install();
    let (_cc, cs) = connection_with_stream();
    cs.pipe_write(10);
    cs.pipe_close(PipeEnd::Eof);
    assert_eq!(cs.pipe_read(), (10, None), "the data first");
    assert_eq!(cs.pipe_read(), (0, Some(PipeEnd::Eof)), "then the end");
}

#[test]
fn closing_a_body_read_to_its_end_takes_cc_mu_only_to_forget_the_stream() {
    let exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    cs.pipe_close(PipeEnd::Eof);
    let before = exec.locks_taken().len();
    close_body(&cc, &cs);
    // Upstream takes `cc.mu` for Close's refund and reset only when there is one to make; a
    // body with nothing to give back does not queue behind a read loop (or, at 95888ee7, a
    // write stalled) holding it. Its last lock is `forgetStreamID`'s.
    let taken = exec.locks_taken()[before..].to_vec();
    assert_eq!(taken, ["cs1.bufPipe", "cs1.bufPipe", "cc1.mu"]);
}

#[test]
fn a_stream_hands_over_a_waiting_response_once_and_books_its_headers() {
    let _exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    assert!(cs.try_response().is_none(), "nothing yet");
    cs.send_res(ResAndError::Response(true));
    let waiting = cs.try_response();
    assert!(
        matches!(waiting, Some(ResAndError::Response(true))),
        "{waiting:?}"
    );
    assert!(cs.try_response().is_none(), "taken");
    cs.headers_sent();
    assert_eq!(cs.state.get(), StreamState::HeadersSent);
    cc.forget_stream_id(cs.id);
    assert_eq!(cs.state.get(), StreamState::Forgotten);
}

#[test]
fn a_request_announces_its_body_length_only_when_it_has_a_body() {
    let request = |body| Request {
        num: 1,
        host: "a".into(),
        headers: 0,
        body,
        trailers: 0,
        deadline: false,
    };
    let length = |body| {
        let fields = request(body).header_fields();
        fields
            .into_iter()
            .find(|(name, _)| name == "content-length")
            .map(|(_, value)| value)
    };
    assert_eq!(length(5).as_deref(), Some("5"));
    assert_eq!(length(0), None);
}
