//! `AsyncHTTPConnection` before and around its connect: who may share a connection still
//! connecting, and what a failed connect reports (issue 17).

use super::{HttpConnection, Negotiation};
use crate::httpcore::connection::tests::{server, variant, CONFIG};
use crate::httpcore::connection::ReqError;
use crate::httpcore::peer::{Network, Respond};
use crate::httpcore::task::Cancels;
use crate::sync::test_exec::StdExecution;
use crate::sync::{CloseReason, Event};
use std::collections::BTreeSet;
use std::sync::Arc;

const H2: Negotiation = Negotiation {
    http2_offered: true,
    selects_http11: false,
};

fn connection(name: &str, negotiation: Negotiation, net: &Arc<Network>) -> HttpConnection {
    HttpConnection::new(1, variant(name), CONFIG, negotiation, net.clone())
}

/// Request `req` on `c`, cancelled at `cancel_at` if given: what it raised, if anything.
fn request(c: &HttpConnection, req: u32, cancel_at: Option<&'static str>) -> Option<ReqError> {
    let cancels = Cancels::new(BTreeSet::new());
    c.handle_async_request(&cancels.task("A", req, cancel_at))
        .err()
}

/// The `ConnClosed` probes so far.
fn closes(exec: &StdExecution) -> Vec<CloseReason> {
    let closed = |e: Event| match e {
        Event::ConnClosed { reason, .. } => Some(reason),
        _ => None,
    };
    exec.probes().into_iter().filter_map(closed).collect()
}

#[test]
fn only_a_pool_offering_http2_may_share_a_connection_still_connecting() {
    let _exec = StdExecution::install();
    let net = server(Respond::Full);
    let http11_only = Negotiation {
        http2_offered: false,
        selects_http11: true,
    };
    assert!(!connection("fixed", http11_only, &net).is_available());
    let c = connection("fixed", H2, &net);
    assert!(c.is_available());
    assert_eq!(request(&c, 1, Some("connect")), Some(ReqError::Cancelled));
    assert!(!c.is_available() && c.is_closed(), "its connect failed");
}

#[test]
fn a_connection_that_never_connected_is_reported_closed_once() {
    let exec = StdExecution::install();
    let c = connection("fixed", H2, &server(Respond::Full));
    for req in [1, 2] {
        assert_eq!(request(&c, req, Some("connect")), Some(ReqError::Cancelled));
    }
    assert_eq!(closes(&exec), [CloseReason::Error]);
}

#[test]
fn a_connected_connection_marked_failed_is_not_reported_closed() {
    let exec = StdExecution::install();
    // 1.0.9 marks the connection failed for a cancellation at its `_request_lock` too.
    let c = connection("upstream-1.0.9", H2, &server(Respond::Full));
    assert_eq!(request(&c, 1, None), None);
    let cancelled = request(&c, 2, Some("request-lock"));
    assert_eq!(cancelled, Some(ReqError::Cancelled));
    assert_eq!(closes(&exec), []);
}
