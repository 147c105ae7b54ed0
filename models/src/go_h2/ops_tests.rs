//! The operations' defaults as parsed, and a peer operation run on a world built by hand.

use super::super::ctx::Contexts;
use super::super::net::{ClientFrame, Net, PeerFrame, Read, Settings};
use super::super::peer::PeerConfig;
use super::super::pool::Pool;
use super::super::round_trip::tests::conn_options;
use super::super::World;
use super::{run_op, Op, CONFIG, OPS};
use crate::check_tests::{int, op, spec};
use crate::model::{Args, Value};
use crate::sync::test_exec::StdExecution;
use crate::typed::Ops;
use std::collections::BTreeSet;
use std::sync::Arc;

fn parsed(name: &str, pairs: &[(&str, Value)]) -> Op {
    Op::parse(&op(name, pairs), &Args::default()).expect("parses")
}

#[test]
fn settings_carries_only_the_parameters_given() {
    let sent = match parsed("settings", &[("header_table_size", int(0))]) {
        Op::Settings(1, sent) => sent,
        other => panic!("{other:?}"),
    };
    let only_the_table = Settings {
        header_table_size: Some(0),
        ..Settings::default()
    };
    assert_eq!(sent, only_the_table);
}

#[test]
fn settings_and_goaway_send_nothing_they_are_not_told() {
    match parsed("settings", &[]) {
        Op::Settings(1, sent) => assert_eq!(sent, Settings::default()),
        other => panic!("{other:?}"),
    }
    match parsed("goaway", &[]) {
        Op::Goaway(1, last, true) => assert_eq!(last, None, "the highest stream received"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn respond_takes_any_connection_and_stream_unless_told() {
    let picks = |pairs: &[(&str, Value)]| match parsed("respond", pairs) {
        Op::Respond(conn, stream, ..) => (conn, stream),
        other => panic!("{other:?}"),
    };
    assert_eq!(picks(&[]), (None, None));
    let told = [("conn", int(2)), ("stream", int(3))];
    assert_eq!(picks(&told), (Some(2), Some(3)));
}

#[test]
fn the_peer_sends_data_with_more_padding_than_payload_within_its_windows() {
    let _exec = StdExecution::install();
    let net = Arc::new(Net::new(PeerConfig::default(), 1024));
    let wire = net.accept();
    let w = World {
        pool: Arc::new(Pool::new(net.clone(), conn_options("fixed", false))),
        net,
        contexts: Contexts::new(BTreeSet::new()),
    };
    let request = ClientFrame::Headers {
        stream: 1,
        end_stream: true,
        end_headers: true,
        block: Vec::new(),
    };
    wire.write(vec![request]).expect("written");
    run_op(&w, Op::Respond(Some(1), Some(1), 0, false, false), "P", 0);
    run_op(&w, Op::Data(1, Some(1), 0, 10, true), "P", 0);
    let frames: Vec<PeerFrame> = (0..3)
        .map(|_| match wire.read() {
            Read::Frame(f) => f,
            _ => panic!("the connection ended early"),
        })
        .collect();
    let padding = PeerFrame::Data {
        stream: 1,
        len: 0,
        pad: 10,
        end_stream: true,
        peer_windows: (65_535, 65_535),
    };
    assert_eq!(
        frames[2], padding,
        "after SETTINGS and the response HEADERS"
    );
}

#[test]
fn every_parameter_whose_default_is_minus_one_admits_it() {
    let params = OPS.iter().flat_map(|op| op.params).chain(CONFIG);
    let documented: Vec<&str> = params
        .clone()
        .filter(|p| p.doc.contains("default -1"))
        .map(|p| p.name)
        .collect();
    assert!(documented.len() >= 6, "{documented:?}");
    let refusing: Vec<&str> = params
        .filter(|p| p.doc.contains("default -1") && p.min != -1)
        .map(|p| p.name)
        .collect();
    assert_eq!(refusing, Vec::<&str>::new(), "the loader would refuse -1");
}

#[test]
fn a_scenario_without_peer_settings_has_peers_send_none() {
    let _exec = StdExecution::install();
    let variant = super::super::Variant::parse("fixed").expect("a variant");
    let w =
        <super::super::GoH2Model as crate::typed::TypedModel>::build(&spec(&[], vec![]), variant);
    let wire = w.net.accept();
    let sent = match wire.read() {
        Read::Frame(PeerFrame::Settings(sent)) => sent,
        _ => panic!("SETTINGS first"),
    };
    assert_eq!(sent, Settings::default());
}
