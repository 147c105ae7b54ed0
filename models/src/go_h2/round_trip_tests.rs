//! The flow-control arithmetic of the response body's `Read` and `Close`
//! ([`super::refresh_flow`], [`super::close_body`]), called directly on one connection: the
//! connection refresh runs only once half of the 1 GiB connection window is used, and the
//! refund of unread data only when a body is closed unread, which no scenario's budget reaches
//! or exercises (issue 17). The windows after the call, the frames the client declared it
//! writes (`WINDOW_UPDATE(stream, increment)`, `RST_STREAM(stream)`) and the locks it took are
//! what is checked.

use super::super::client_conn::{
    ClientConn, ClientStream, ConnOptions, PipeEnd, ReqErr, ResAndError, CONN_FLOW, STREAM_FLOW,
    STREAM_MIN_REFRESH,
};
use super::super::ctx::{Contexts, Goroutines};
use super::super::encoder::Held;
use super::super::net::ClientFrame;
use super::super::net::Net;
use super::super::peer::PeerConfig;
use super::super::pool::Pool;
use super::super::read_loop::read_loop;
use super::super::state::StreamState;
use super::super::variant::Variant;
use super::{
    await_response, close_body, open_stream, read_and_close_body, refresh_flow, round_trip_opt,
    trailer_frame_size_before_body, write_request_body, Request,
};
use crate::sync::test_exec::StdExecution;
use crate::sync::{spawn, BlockKind, Event, Outcome};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a connection of `variant` gets from the transport (`body_goroutine`: the request body
/// is written by its own goroutine).
pub(in crate::go_h2) fn conn_options(variant: &str, body_goroutine: bool) -> ConnOptions {
    ConnOptions {
        variant: Variant::parse(variant).expect("a variant"),
        goroutines: Arc::new(Goroutines::new()),
        body_goroutine,
        strict_max_streams: false,
    }
}

/// Connection 1 of `variant` (default peer), not in any pool, and its network.
pub(in crate::go_h2) fn connection(
    variant: &str,
    body_goroutine: bool,
) -> (Arc<Net>, Arc<ClientConn>) {
    let net = Arc::new(Net::new(PeerConfig::default(), 1024));
    let opts = conn_options(variant, body_goroutine);
    let cc = Arc::new(ClientConn::new("a", &opts, net.accept()));
    (net, cc)
}

/// Connection 1 of variant `fixed`, with stream 1 open on it.
pub(in crate::go_h2) fn connection_with_stream() -> (Arc<ClientConn>, Arc<ClientStream>) {
    let (_net, cc) = connection("fixed", false);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    (cc, cs)
}

/// Request 1 to host `a` with `body` octets of body and `trailers` octets of trailer.
fn request(body: u32, trailers: u32) -> Request {
    Request {
        num: 1,
        host: "a".into(),
        headers: 0,
        body,
        trailers,
        deadline: false,
    }
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
    assert_eq!(cs.pipe_state(), (10, true), "data, then the end");
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
    let length = |body| {
        let fields = request(body, 0).header_fields();
        fields
            .into_iter()
            .find(|(name, _)| name == "content-length")
            .map(|(_, value)| value)
    };
    assert_eq!(length(5).as_deref(), Some("5"));
    assert_eq!(length(0), None);
}

#[test]
fn a_request_carries_its_big_header_only_when_it_has_one() {
    let big = |headers| {
        let req = Request {
            headers,
            ..request(0, 0)
        };
        let fields = req.header_fields();
        fields
            .into_iter()
            .find(|(name, _)| name == "x-big")
            .map(|(_, value)| value)
    };
    assert_eq!(big(7).as_deref(), Some("h1-h1-h"), "7 octets of filler");
    assert_eq!(big(0), None, "no empty header for a request without one");
}

#[test]
fn a_request_with_a_body_or_trailers_is_a_post() {
    let method = |body, trailers| {
        let fields = request(body, trailers).header_fields();
        fields
            .into_iter()
            .find(|(name, _)| name == ":method")
            .map(|(_, value)| value)
    };
    assert_eq!(method(0, 0).as_deref(), Some("GET"));
    assert_eq!(method(5, 0).as_deref(), Some("POST"));
    assert_eq!(method(0, 3).as_deref(), Some("POST"));
}

/// Request 1 written on a fresh connection: the frames written, and what the peer saw of it in
/// order (`headers` for each header block it decoded, `complete` when the request ended).
fn written(body: u32, trailers: u32) -> (Vec<String>, Vec<&'static str>) {
    let exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let req = request(body, trailers);
    let (cs, headers) = open_stream(&cc, &req, None).expect("a stream slot");
    headers.expect("HEADERS written");
    write_request_body(&cc, &cs, &req).expect("body written");
    let seen = exec.probes().into_iter().filter_map(|e| match e {
        Event::HeaderBlockDecoded { headers: Ok(_), .. } => Some("headers"),
        Event::PeerProcessed { .. } => Some("complete"),
        _ => None,
    });
    (exec.blocking(BlockKind::NetWrite), seen.collect())
}

#[test]
fn the_last_data_frame_ends_the_stream_unless_trailers_follow() {
    let (frames, seen) = written(5, 0);
    assert_eq!(frames, ["cc1: HEADERS(1)", "cc1: DATA(1, 5)"]);
    assert_eq!(seen, ["headers", "complete"]);
    let (frames, seen) = written(5, 3);
    let with_trailers = ["cc1: HEADERS(1)", "cc1: DATA(1, 5)", "cc1: HEADERS(1)"];
    assert_eq!(frames, with_trailers);
    assert_eq!(
        seen,
        ["headers", "headers", "complete"],
        "the trailers end it"
    );
}

#[test]
fn a_request_ends_with_its_headers_unless_a_body_or_trailers_follow() {
    let (frames, seen) = written(0, 0);
    assert_eq!(frames, ["cc1: HEADERS(1)"]);
    assert_eq!(seen, ["headers", "complete"], "a GET");
    let (frames, seen) = written(0, 3);
    assert_eq!(frames, ["cc1: HEADERS(1)", "cc1: HEADERS(1)"]);
    assert_eq!(seen, ["headers", "headers", "complete"], "trailers only");
}

#[test]
fn a_request_with_trailers_announces_them_and_sends_its_own() {
    let announced = |trailers| {
        let fields = request(0, trailers).header_fields();
        fields.into_iter().any(|(name, _)| name == "trailer")
    };
    assert!(announced(3));
    assert!(!announced(0));
    let trailer = ("x-trailer".to_owned(), "t1-t1".to_owned());
    assert_eq!(request(0, 5).trailer_fields(), [trailer]);
}

#[test]
fn a_body_larger_than_the_stream_window_is_read_to_its_end() {
    let _exec = StdExecution::install();
    let (net, cc) = connection("fixed", false);
    let pool = Arc::new(Pool::new(net.clone(), conn_options("fixed", false)));
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    let preface = ClientFrame::Preface {
        initial_window: STREAM_FLOW,
        conn_window_update: CONN_FLOW,
    };
    let headers = ClientFrame::Headers {
        stream: 1,
        end_stream: true,
        end_headers: true,
        block: Vec::new(),
    };
    cc.tconn.write(vec![preface, headers]).expect("written");
    let (cc2, pool2) = (cc.clone(), pool.clone());
    cc.goroutines
        .go("conn1.readLoop", move || read_loop(cc2, pool2));
    let window = u32::try_from(STREAM_FLOW).expect("4 MiB");
    let peer = spawn("peer", move || {
        // The whole stream window, then 10 octets more once the client has read some.
        for (len, end) in [(window, false), (10, true)] {
            let send = |p: &mut super::super::peer::Peer| p.data(1, len, 0, end);
            net.peer_op(1, |up| up.peer.can_send(1, len), send);
        }
        net
    });
    read_and_close_body(&cc, &cs, false);
    assert!(
        cc.mu.lock().streams.is_empty(),
        "read to its end and closed"
    );
    peer.join().teardown();
    cc.goroutines.join_all();
}

#[test]
fn the_trailers_frame_size_is_read_before_the_body_only_where_upstream_does() {
    let _exec = StdExecution::install();
    for (variant, snapshot) in [("upstream-4e4d966f", Some(16_384)), ("fixed", None)] {
        let (_net, cc) = connection(variant, false);
        let taken = trailer_frame_size_before_body(&cc, true);
        assert_eq!(taken, snapshot, "{variant}");
        assert_eq!(
            trailer_frame_size_before_body(&cc, false),
            None,
            "no trailers"
        );
    }
}

#[test]
fn a_request_that_opens_no_stream_returns_its_reservation() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    assert!(cc.reserve_new_request(1));
    cc.decr_stream_reservations();
    assert_eq!(cc.mu.lock().streams_reserved, 0);
}

#[test]
fn only_a_field_use_no_lock_excludes_from_another_is_bracketed() {
    let exec = StdExecution::install();
    let (_net, cc) = connection("fixed", false);
    let bracketed = || {
        let probes = exec.probes();
        probes
            .iter()
            .filter(|e| matches!(e, Event::FieldEnter { .. }))
            .count()
    };
    cc.max_frame_size.store(Held::MU, 20_000);
    assert_eq!(cc.max_frame_size.load(Held::BOTH), 20_000);
    assert_eq!(bracketed(), 0, "both uses hold mu");
    assert_eq!(cc.max_frame_size.load(Held::WMU), 20_000);
    assert_eq!(bracketed(), 1, "a load under wmu alone of a store under mu");
}

#[test]
fn an_error_response_tells_the_body_writer_to_stop_and_forgets_the_stream() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", true);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    cs.send_res(ResAndError::Err(ReqErr::GotGoAway));
    // No body is being written: nothing to wait for (waiting would be for ever).
    let ended = await_response(&cc, &cs, false, None);
    assert_eq!(ended.err(), Some(ReqErr::GotGoAway));
    assert_eq!(cs.stop_req_body.get(), Some(ReqErr::StopReqBody));
    assert!(cc.mu.lock().streams.is_empty(), "forgotten");
}

#[test]
fn a_failed_body_write_ends_the_request_when_no_response_came() {
    let _exec = StdExecution::install();
    let (_net, cc) = connection("fixed", true);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, true);
    cs.send_body_res(Err(ReqErr::StreamClosed));
    let ended = await_response(&cc, &cs, true, None);
    assert_eq!(ended.err(), Some(ReqErr::StreamClosed));
    assert!(cc.mu.lock().streams.is_empty(), "forgotten");
}

#[test]
fn a_cancelled_request_without_a_body_writer_resets_its_stream_itself() {
    let exec = StdExecution::install();
    let (_net, cc) = connection("fixed", true);
    let cs = cc.new_stream(&mut cc.mu.lock(), 1, false);
    let contexts = Contexts::new(BTreeSet::from(["A".to_owned()]));
    let ctx = contexts.for_request("A", 1, false).expect("cancellable");
    contexts.cancel("A");
    // No body writer runs (the request has no body): `handleError` writes RST_STREAM(CANCEL).
    let ended = await_response(&cc, &cs, false, Some(&ctx));
    assert_eq!(ended.err(), Some(ReqErr::Canceled));
    assert_eq!(exec.blocking(BlockKind::NetWrite), ["cc1: RST_STREAM(1)"]);
    contexts.tear_down();
}

#[test]
fn a_request_refused_every_time_gives_up_after_six_retries() {
    let exec = StdExecution::install();
    let net = Arc::new(Net::new(PeerConfig::default(), 1024));
    let pool = Arc::new(Pool::new(net.clone(), conn_options("fixed", false)));
    let peer = spawn("peer", move || {
        for _ in 0..7 {
            let refuse = |p: &mut super::super::peer::Peer| {
                let stream = p.unanswered(None).expect("ready");
                p.refuse(stream);
            };
            net.peer_op(1, |up| up.peer.unanswered(None).is_some(), refuse);
        }
    });
    round_trip_opt(&pool, &request(0, 0), None);
    peer.join();
    let outcome = exec.probes().into_iter().find_map(|e| match e {
        Event::RequestFinished { outcome, .. } => Some(outcome),
        _ => None,
    });
    let refused = Outcome::RetryableError("stream error: RefusedStream".into());
    assert_eq!(outcome, Some(refused), "the first try and 6 retries");
    pool.shutdown(&Contexts::new(BTreeSet::new()));
}
