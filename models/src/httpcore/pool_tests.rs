//! `AsyncConnectionPool`'s sections, one request at a time on the test's thread against the
//! scripted server: what a reclaimed orphan and a made room leave in the pool, and when the
//! first removed connection is CLOSED (issue 17).

use super::{Pool, PoolConfig, PoolRequest, Response};
use crate::httpcore::connection::tests::{server, variant, CONFIG};
use crate::httpcore::http_connection::Protocol;
use crate::httpcore::ops::finish_response;
use crate::httpcore::peer::{Network, Plan, Respond};
use crate::httpcore::task::Cancels;
use crate::sync::test_exec::StdExecution;
use crate::sync::{advance_clock, CloseReason, Event};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A pool of `variant` with room for two connections; `http11` as [`PoolConfig::http11`].
pub(in crate::httpcore) fn pool(
    name: &str,
    http2: bool,
    http11: Vec<bool>,
    net: &Arc<Network>,
) -> Pool {
    let config = PoolConfig {
        max_connections: 2,
        max_keepalive_connections: 2,
        conn: CONFIG,
        http2,
        http11,
    };
    Pool::new(
        variant(name),
        config,
        net.clone(),
        Cancels::new(BTreeSet::new()),
    )
}

fn send(pool: &Pool, req: u32, cancel_at: Option<&'static str>) -> Option<Response> {
    pool.handle_async_request(&pool.cancels.task("A", req, cancel_at))
}

/// The connections the pool holds idle, as the end of a run reports them.
fn pooled(pool: &Pool, exec: &StdExecution) -> Vec<u32> {
    pool.release_pooled();
    let pooled = |e: Event| match e {
        Event::ConnPooled { conn } => Some(conn),
        _ => None,
    };
    exec.probes().into_iter().filter_map(pooled).collect()
}

const ANSWER: Plan = Plan::Respond {
    end_stream: true,
    body: false,
};

#[test]
fn a_reclaimed_orphan_leaves_the_other_connections_in_the_pool() {
    let exec = StdExecution::install();
    let pool = pool("fixed", false, vec![], &server(Respond::Full));
    let kept = send(&pool, 1, None).expect("a response on connection 1");
    // Connection 2 is made for request 2, which is cancelled before it connects it.
    assert!(send(&pool, 2, Some("request-lock")).is_none());
    finish_response(&pool, &kept, true);
    assert_eq!(pooled(&pool, &exec), [1]);
}

#[test]
fn making_room_closes_only_the_idle_connection() {
    let exec = StdExecution::install();
    let net = server(Respond::Manual);
    net.plan(1, 0, ANSWER);
    // Connection 2's server hangs up after its SETTINGS: idle, and never available again.
    net.disconnect(2);
    net.plan(3, 0, ANSWER);
    // Connection 1 speaks HTTP/1.1: busy with its kept response.
    let pool = pool("fixed", true, vec![true, false], &net);
    let kept = send(&pool, 1, None).expect("a response on connection 1");
    assert!(send(&pool, 2, None).is_none(), "connection 2 failed");
    let third = send(&pool, 3, None).expect("a response on connection 3");
    finish_response(&pool, &third, true);
    finish_response(&pool, &kept, true);
    assert_eq!(pooled(&pool, &exec), [1, 3]);
}

#[test]
fn the_first_removed_connection_is_closed_before_the_requests_assigned_wake() {
    for name in ["fixed", "upstream-1.0.9"] {
        let exec = StdExecution::install();
        let pool = pool(name, true, vec![], &server(Respond::Full));
        let first = send(&pool, 1, None).expect("a response on connection 1");
        finish_response(&pool, &first, true);
        advance_clock(6);
        // A request waiting for a connection when a pass expires connection 1.
        pool.st.with(|st| {
            st.requests.push(PoolRequest {
                req: 2,
                connection: None,
            })
        });
        pool.maintain();
        let trail = exec.trail();
        let closed = trail
            .iter()
            .position(|t| t.starts_with("ConnClosed { conn: 1"));
        let woken = trail
            .iter()
            .position(|t| t == "notify pool: connection assigned to request");
        assert!(closed.is_some() && closed < woken, "{name}: {trail:#?}");
    }
}

#[test]
fn closing_the_pool_closes_every_connection_busy_or_idle() {
    for name in ["fixed", "upstream-1.0.9"] {
        let exec = StdExecution::install();
        // HTTP/1.1: connection 1 is busy with a kept response, connection 2 idle.
        let pool = pool(name, false, vec![], &server(Respond::Full));
        let kept = send(&pool, 1, None).expect("a response on connection 1");
        let done = send(&pool, 2, None).expect("a response on connection 2");
        finish_response(&pool, &done, true);
        pool.aclose();
        let closed = |e: Event| match e {
            Event::ConnClosed {
                conn,
                reason: CloseReason::Owner,
            } => Some(format!("CLOSED {conn}")),
            Event::ResourceClosed { kind: "conn", id } => Some(format!("socket {id}")),
            _ => None,
        };
        let closes: Vec<_> = exec.probes().into_iter().filter_map(closed).collect();
        // close-in-section marks both CLOSED in the section, then closes the sockets; 1.0.9
        // closes one connection at a time.
        let order = if name == "fixed" {
            ["CLOSED 1", "CLOSED 2", "socket 1", "socket 2"]
        } else {
            ["CLOSED 1", "socket 1", "CLOSED 2", "socket 2"]
        };
        assert_eq!(closes, order, "{name}");
        assert!(pool.st.with(|st| st.connections.is_empty()), "{name}");
        // The kept response, read to its end, is closed after its connection: it stays CLOSED.
        finish_response(&pool, &kept, true);
        let Protocol::H11(c) = &kept.conn else {
            panic!("connection 1 speaks HTTP/1.1");
        };
        assert!(c.is_closed() && !c.is_idle(), "{name}");
    }
}
