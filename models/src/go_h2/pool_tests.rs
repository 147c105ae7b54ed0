//! The pool's dial calls: each dial is its own call, which is what a requester waiting for a
//! dial (`<-call.done`) looks up.

use super::super::ctx::Contexts;
use super::super::net::Net;
use super::super::peer::PeerConfig;
use super::super::round_trip::tests::conn_options;
use super::Pool;
use crate::sync::test_exec::StdExecution;
use std::collections::BTreeSet;
use std::sync::Arc;

#[test]
fn every_dial_is_a_call_of_its_own() {
    let _exec = StdExecution::install();
    let net = Arc::new(Net::new(PeerConfig::default(), 1024));
    let pool = Arc::new(Pool::new(net, conn_options("fixed", false)));
    let a = pool.get_client_conn(1, "a").expect("dialed");
    let b = pool.get_client_conn(2, "b").expect("dialed");
    let calls: Vec<(u32, u32)> = pool
        .mu
        .lock()
        .dialed
        .iter()
        .map(|(call, cc)| (*call, cc.id))
        .collect();
    assert_eq!(calls, [(1, a.id), (2, b.id)]);
    pool.shutdown(&Contexts::new(BTreeSet::new()));
}
