//! Operations as a scenario writes them: parsed (a `settings` needs its value, a `goaway` without
//! `last_stream` names the highest stream seen) and run against the scripted server, and
//! `close-pool` run against a pool (issue 17).

use super::{run_op, run_peer_op, Op};
use crate::httpcore::connection::tests::server;
use crate::httpcore::h2state::{ClientFrame, ServerFrame};
use crate::httpcore::peer::{ReadError, Respond};
use crate::httpcore::pool::tests::pool;
use crate::model::{Args, OpSpec, Value};
use crate::sync::test_exec::StdExecution;
use crate::sync::{CloseReason, Event};
use crate::typed::{OpAt, Ops};
use std::collections::VecDeque;

fn parse(name: &str, pairs: &[(&str, i64)]) -> Result<Op, String> {
    let args = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::Int(*v)))
        .collect();
    let op = OpSpec {
        name: name.to_owned(),
        args: Args(args),
    };
    Op::parse(&op, &Args::default())
}

#[test]
fn settings_needs_its_max_streams() {
    let e = parse("settings", &[]).expect_err("no value");
    assert!(e.contains("`settings` needs `max_streams`"), "{e}");
    let op = parse("settings", &[("max_streams", 0)]);
    assert_eq!(
        op,
        Ok(Op::Settings {
            conn: 1,
            max_streams: 0
        })
    );
}

#[test]
fn reset_and_end_stream_reach_the_server() {
    let _exec = StdExecution::install();
    let net = server(Respond::HeadersOnly);
    net.write(1, &[ClientFrame::Preface]).expect("open");
    run_peer_op(&net, Op::Reset { conn: 1, stream: 0 });
    net.write(1, &[ClientFrame::Headers { stream: 1 }])
        .expect("open");
    net.write(1, &[ClientFrame::Headers { stream: 3 }])
        .expect("open");
    run_peer_op(&net, Op::EndStream { conn: 1, stream: 3 });
    let frames = net.read(1).expect("frames");
    let expected = [
        ServerFrame::Settings {
            max_streams: Some(100),
        },
        ServerFrame::RstStream { stream: 1 },
        ServerFrame::Headers {
            stream: 3,
            end_stream: false,
        },
        ServerFrame::Data {
            stream: 3,
            end_stream: true,
        },
    ];
    assert_eq!(frames, expected);
    run_peer_op(&net, Op::Disconnect { conn: 1 });
    assert_eq!(net.read(1), Err(ReadError::Eof));
}

#[test]
fn a_goaway_without_last_stream_names_the_highest_stream_seen() {
    let _exec = StdExecution::install();
    let goaway = parse("goaway", &[]).expect("a goaway");
    let net = server(Respond::Manual);
    net.write(1, &[ClientFrame::Preface]).expect("open");
    let requests = [
        ClientFrame::Headers { stream: 1 },
        ClientFrame::Headers { stream: 3 },
    ];
    net.write(1, &requests).expect("open");
    run_peer_op(&net, goaway);
    let frames = net.read(1).expect("frames");
    assert_eq!(frames.last(), Some(&ServerFrame::Goaway { last_stream: 3 }));
}

#[test]
fn close_pool_closes_the_connections_of_the_pool() {
    let exec = StdExecution::install();
    let net = server(Respond::Full);
    let pool = pool("fixed", true, vec![], &net);
    let mut kept = VecDeque::new();
    let request = Op::Request {
        cancel_at: None,
        hold: 0,
        keep: true,
    };
    run_op(&pool, &net, request, OpAt { actor: "A", req: 1 }, &mut kept);
    assert_eq!(kept.len(), 1, "a response kept open on connection 1");
    run_op(
        &pool,
        &net,
        Op::ClosePool,
        OpAt { actor: "A", req: 2 },
        &mut kept,
    );
    let closed = |e: Event| match e {
        Event::ConnClosed { conn, reason } => Some((conn, reason)),
        _ => None,
    };
    let closes: Vec<_> = exec.probes().into_iter().filter_map(closed).collect();
    assert_eq!(closes, [(1, CloseReason::Owner)]);
}
