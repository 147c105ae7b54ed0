//! `AsyncHTTP2Connection`'s own steps, one request at a time on the test's thread against the
//! scripted server: what a cancelled request leaves, a lowered MAX_CONCURRENT_STREAMS with and
//! without waiting (the debt of pydantic/httpx2#1219), keep-alive expiry, availability after a
//! failed read, the error of a stream refused after GOAWAY (and a permit taken after h2 took
//! one), and where `_events` is deleted. The scenarios reach these only through schedules that
//! their trials do not all explore (issue 17).

use super::{ConnConfig, Http2Connection, ReqError};
use crate::httpcore::h2state::ServerFrame;
use crate::httpcore::peer::{Network, PeerConfig, Respond};
use crate::httpcore::task::Cancels;
use crate::httpcore::Variant;
use crate::sync::test_exec::StdExecution;
use crate::sync::{advance_clock, Event};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Two stream permits, keep-alive of 5 time units.
pub(in crate::httpcore) const CONFIG: ConnConfig = ConnConfig {
    keepalive_expiry: Some(5),
    local_max_streams: 2,
    stream_ids: 100,
    stream_window: None,
};

/// A server answering as `respond` says, with MAX_CONCURRENT_STREAMS 100, no bodies and no
/// stream window (a test changes what it needs: `PeerConfig { body: true, ..peer(respond) }`).
pub(in crate::httpcore) fn peer(respond: Respond) -> PeerConfig {
    PeerConfig {
        respond,
        initial_max_streams: Some(100),
        body: false,
        body_frames: 1,
        stream_window: None,
    }
}

/// The network of a [`peer`] server.
pub(in crate::httpcore) fn server(respond: Respond) -> Arc<Network> {
    Arc::new(Network::new(peer(respond)))
}

pub(in crate::httpcore) fn variant(name: &str) -> Variant {
    Variant::parse(name).expect("a variant of the model")
}

/// Connection 1 of `variant` on `net` (the execution must be installed).
fn connection(name: &str, net: &Arc<Network>) -> Http2Connection {
    Http2Connection::new(1, variant(name), CONFIG, net.clone())
}

/// Request `req` on `c`, cancelled at `cancel_at` if given: its stream, or what it raised.
fn request(
    c: &Http2Connection,
    req: u32,
    cancel_at: Option<&'static str>,
) -> Result<u32, ReqError> {
    let cancels = Cancels::new(BTreeSet::new());
    c.handle_async_request(&cancels.task("A", req, cancel_at))
}

/// `_max_streams` and the debt still to retire.
fn limit_and_debt(c: &Http2Connection) -> (u32, u32) {
    c.f.with(|f| (f.max_streams, f.debt))
}

#[test]
fn a_request_cancelled_before_its_stream_leaves_the_connection_idle_once_fixed() {
    for (name, idle) in [
        ("fixed", true),
        ("fixed-without=undo-active-on-cancel", false),
    ] {
        let _exec = StdExecution::install();
        let c = connection(name, &server(Respond::Full));
        assert_eq!(request(&c, 1, Some("permit")), Err(ReqError::Cancelled));
        assert_eq!(c.is_idle(), idle, "{name}");
        // Either way the cancelled request no longer counts as pending: the next stream's
        // close finds nothing in flight.
        let stream = request(&c, 2, None).expect("a response");
        c.response_closed(stream);
        assert!(c.is_idle(), "{name}");
    }
}

#[test]
fn a_lowered_limit_waits_for_its_permits_in_httpx2_1219() {
    let exec = StdExecution::install();
    let c = connection("httpx2-1219", &server(Respond::Manual));
    c.ensure_connection_init().expect("the preface is written");
    // http2.py 399: a limit of 0 is no limit, and changes nothing.
    for (new, limit, free) in [(2, 2, 2), (1, 1, 1), (0, 1, 1)] {
        c.change_limit_waiting(new);
        assert_eq!(c.f.with(|f| f.max_streams), limit, "after {new}");
        assert_eq!(c.sem.available(), free, "after {new}");
    }
    // One release or acquire per step (http2.py 400-405), none beyond the new limit.
    let reported = |e: Event| match e {
        Event::StreamPermits { limit, .. } => Some(limit),
        _ => None,
    };
    let limits: Vec<u32> = exec.probes().into_iter().filter_map(reported).collect();
    assert_eq!(limits, [1, 2, 1]);
}

#[test]
fn a_lowered_limit_takes_free_permits_at_once() {
    let _exec = StdExecution::install();
    let c = connection("fixed", &server(Respond::Manual));
    c.ensure_connection_init().expect("the preface is written");
    c.change_limit_without_waiting(2);
    assert_eq!((limit_and_debt(&c), c.sem.available()), ((2, 0), 2));
    c.change_limit_without_waiting(1);
    assert_eq!((limit_and_debt(&c), c.sem.available()), ((1, 0), 1));
}

#[test]
fn a_lowered_limit_with_every_permit_in_use_is_a_debt_that_closing_streams_pay() {
    let _exec = StdExecution::install();
    let c = connection("fixed", &server(Respond::Manual));
    c.ensure_connection_init().expect("the preface is written");
    c.change_limit_without_waiting(2);
    // Two streams in flight hold both permits.
    c.sem.acquire();
    c.sem.acquire();
    c.change_limit_without_waiting(1);
    assert_eq!(limit_and_debt(&c), (2, 1), "nothing free to retire: owed");
    c.change_limit_without_waiting(2);
    assert_eq!(
        limit_and_debt(&c),
        (2, 0),
        "raised back: the debt is cancelled"
    );
    c.change_limit_without_waiting(1);
    c.return_permit();
    assert_eq!(limit_and_debt(&c), (1, 0), "the first closing stream pays");
    assert_eq!(c.sem.available(), 0, "by keeping its permit");
    c.return_permit();
    assert_eq!((limit_and_debt(&c), c.sem.available()), ((1, 0), 1));
}

#[test]
fn a_stream_refused_after_goaway_raises_the_goaway() {
    let _exec = StdExecution::install();
    let net = server(Respond::Full);
    // Read with the response to stream 1: h2 is closed before stream 3 is sent.
    net.goaway(1, 1);
    let c = connection("upstream-1.0.9", &net);
    assert_eq!(request(&c, 1, None), Ok(1));
    let refused = ReqError::RemoteProtocol("ConnectionTerminated(last_stream_id=1)".into());
    assert_eq!(request(&c, 2, None), Err(refused));
}

#[test]
fn an_idle_connection_expires_keepalive_after_its_last_response() {
    let _exec = StdExecution::install();
    let c = connection("fixed", &server(Respond::Full));
    let stream = request(&c, 1, None).expect("a response");
    advance_clock(3);
    c.response_closed(stream);
    assert!(c.is_idle());
    advance_clock(5);
    assert!(!c.has_expired(), "5 units after it went idle at 3");
    advance_clock(1);
    assert!(c.has_expired());
}

#[test]
fn an_idle_connection_whose_read_failed_is_not_available() {
    let _exec = StdExecution::install();
    let net = server(Respond::Manual);
    // The server hangs up once its SETTINGS are read, before any response.
    net.disconnect(1);
    let c = connection("fixed", &net);
    let lost = ReqError::RemoteProtocol("Server disconnected".into());
    assert_eq!(request(&c, 1, None), Err(lost));
    assert!(c.is_idle());
    assert!(!c.is_available());
}

#[test]
fn events_are_deleted_inside_the_state_lock_once_fixed() {
    for (name, before_lock) in [("fixed", false), ("upstream-1.0.9", true)] {
        let exec = StdExecution::install();
        let c = connection(name, &server(Respond::Full));
        let stream = request(&c, 1, None).expect("a response");
        c.response_closed(stream);
        let trail = exec.trail();
        let deleted = trail.iter().position(|t| t.starts_with("StreamClosed"));
        let locked = trail.iter().rposition(|t| t == "lock conn1._state_lock");
        assert_eq!(deleted < locked, before_lock, "{name}: {trail:#?}");
    }
}

#[test]
fn a_request_that_gets_its_permit_after_h2_took_a_goaway_opens_no_stream_once_fixed() {
    let _exec = StdExecution::install();
    let c = connection("fixed", &server(Respond::Manual));
    c.ensure_connection_init().expect("the preface is written");
    c.mark_active().expect("an open connection");
    c.acquire_stream_permit();
    // h2 has taken the GOAWAY; its `ConnectionTerminated` is not dispatched yet (the reader
    // still waits in a SETTINGS before it, as in `fixed-without=lower-limit-without-waiting`).
    c.h2.with(|h| h.receive_data(&[ServerFrame::Goaway { last_stream: 0 }]));
    assert_eq!(c.allocate_stream(1), Err(ReqError::ConnectionNotAvailable));
    assert_eq!(c.sem.available(), 1, "the permit is given back");
    assert!(c.is_idle());
}
