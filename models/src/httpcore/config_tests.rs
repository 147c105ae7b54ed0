//! The scenario configuration as the model reads it (the server's answers, its first
//! MAX_CONCURRENT_STREAMS and the stream window), and what the end of an actor does with the
//! responses it kept (issue 17).

use super::{peer_config, pool_config, stream_window, HttpcoreModel, Op, Respond, World};
use crate::httpcore::connection::tests::server;
use crate::httpcore::pool::tests::pool;
use crate::model::{Args, Value};
use crate::sync::test_exec::StdExecution;
use crate::sync::Outcome;
use crate::typed::{OpAt, TypedModel};
use std::collections::VecDeque;

fn config(pairs: &[(&str, Value)]) -> Args {
    Args(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn respond(mode: &str) -> Respond {
    peer_config(&config(&[("respond", Value::Str(mode.into()))])).respond
}

#[test]
fn respond_names_the_servers_answer() {
    assert_eq!(respond("full"), Respond::Full);
    assert_eq!(respond("headers"), Respond::HeadersOnly);
    assert_eq!(respond("manual"), Respond::Manual);
    assert_eq!(peer_config(&config(&[])).respond, Respond::Full);
}

#[test]
fn server_max_streams_of_0_leaves_the_setting_out() {
    let max =
        |m| peer_config(&config(&[("server_max_streams", Value::Int(m))])).initial_max_streams;
    assert_eq!(max(0), None);
    assert_eq!(max(1), Some(1));
    assert_eq!(peer_config(&config(&[])).initial_max_streams, Some(100));
}

#[test]
fn a_stream_window_of_0_is_none_for_client_and_server() {
    let window = |w| config(&[("stream_window", Value::Int(w))]);
    assert_eq!(stream_window(&config(&[])), None);
    assert_eq!(stream_window(&window(0)), None);
    assert_eq!(stream_window(&window(3)), Some(3));
    assert_eq!(peer_config(&window(3)).stream_window, Some(3));
    assert_eq!(pool_config(&window(3)).conn.stream_window, Some(3));
}

#[test]
fn a_keepalive_expiry_of_minus_1_is_accepted_and_never_expires() {
    let declared = super::CONFIG.iter().find(|p| p.name == "keepalive_expiry");
    let range = declared.map(|p| (p.min, p.max));
    assert_eq!(range, Some((-1, 1_000_000)), "the loader checks this range");
    let never = config(&[("keepalive_expiry", Value::Int(-1))]);
    assert_eq!(pool_config(&never).conn.keepalive_expiry, None);
    assert_eq!(pool_config(&config(&[])).conn.keepalive_expiry, Some(5));
}

#[test]
fn responses_an_actor_still_keeps_when_it_ends_are_read_and_closed() {
    let exec = StdExecution::install();
    let net = server(Respond::Full);
    let world = World {
        pool: pool("fixed", true, vec![], &net),
        net,
        close_pool_at_end: false,
    };
    let mut kept = VecDeque::new();
    let request = Op::Request {
        cancel_at: None,
        hold: 0,
        keep: true,
    };
    HttpcoreModel::run_op(&world, &mut kept, OpAt { actor: "A", req: 1 }, request);
    assert_eq!((kept.len(), exec.finished()), (1, vec![]), "kept open");
    HttpcoreModel::end_actor(&world, kept);
    assert_eq!(exec.finished(), [(1, Outcome::Response)]);
}
