//! `AsyncHTTP11Connection`'s cycle on the test's thread against the scripted server: a server
//! that hangs up before its response, a body read to its end, and keep-alive expiry after a
//! finished cycle (issue 17).

use super::Http11Connection;
use crate::httpcore::connection::tests::{peer, server, variant, CONFIG};
use crate::httpcore::connection::ReqError;
use crate::httpcore::peer::{Network, PeerConfig, Respond};
use crate::httpcore::task::Cancels;
use crate::sync::advance_clock;
use crate::sync::test_exec::StdExecution;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Connection 1, connected, of the fixed variant.
fn connection(net: &Arc<Network>) -> Http11Connection {
    net.connect(1, true);
    Http11Connection::new(1, variant("fixed"), CONFIG, net.clone())
}

fn request(c: &Http11Connection) -> Result<u32, ReqError> {
    let cancels = Cancels::new(BTreeSet::new());
    c.handle_async_request(&cancels.task("A", 1, None))
}

#[test]
fn a_server_that_hangs_up_before_its_response_fails_the_request() {
    let _exec = StdExecution::install();
    let net = server(Respond::Manual);
    net.disconnect(1);
    let c = connection(&net);
    let lost = "Server disconnected without sending a response.";
    assert_eq!(request(&c), Err(ReqError::RemoteProtocol(lost.into())));
    assert!(c.is_closed(), "an unfinished cycle closes the connection");
}

#[test]
fn an_idle_connection_expires_keepalive_after_its_cycle() {
    let _exec = StdExecution::install();
    let c = connection(&server(Respond::Full));
    let cycle = request(&c).expect("a response");
    c.receive_response_body().expect("its body");
    advance_clock(3);
    c.response_closed(cycle);
    assert!(c.is_idle());
    advance_clock(5);
    assert!(!c.has_expired(), "5 units after it went idle at 3");
    advance_clock(1);
    assert!(c.has_expired());
}

#[test]
fn a_body_read_to_its_end_leaves_the_connection_reusable() {
    let _exec = StdExecution::install();
    let body = PeerConfig {
        body: true,
        body_frames: 2,
        ..peer(Respond::Full)
    };
    let c = connection(&Arc::new(Network::new(body)));
    let cycle = request(&c).expect("a response");
    c.receive_response_body().expect("its body");
    c.response_closed(cycle);
    assert!(c.is_idle(), "both sides finished the cycle");
}
