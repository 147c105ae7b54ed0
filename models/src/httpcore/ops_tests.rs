//! Peer operations as a scenario writes them: parsed (a `settings` needs its value) and run
//! against the scripted server (issue 17).

use super::{run_peer_op, Op};
use crate::httpcore::connection::tests::server;
use crate::httpcore::h2state::{ClientFrame, ServerFrame};
use crate::httpcore::peer::{ReadError, Respond};
use crate::model::{Args, OpSpec, Value};
use crate::sync::test_exec::StdExecution;
use crate::typed::Ops;

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
