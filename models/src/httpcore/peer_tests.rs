//! The scripted server: what it answers, to which stream, and when (GOAWAY's last-stream-id,
//! plans for streams named before they arrive, `end-stream` before or after the stream is
//! answered, a body held back by its stream window).
//! Each test plays the client of connection 1 by hand, on the test's thread (issue 17).

use super::{Network, PeerConfig, Plan, Respond};
use crate::httpcore::connection::tests::peer;
use crate::httpcore::h2state::{ClientFrame, ServerFrame};
use crate::httpcore::peer::ReadError;
use crate::sync::test_exec::StdExecution;

fn network(respond: Respond, body: bool) -> Network {
    Network::new(PeerConfig {
        body,
        ..peer(respond)
    })
}

/// Connection 1 after the client's preface, with the server's SETTINGS taken.
fn started(respond: Respond) -> Network {
    open(network(respond, false))
}

/// `net` after the client's preface on connection 1, with the server's SETTINGS taken.
fn open(net: Network) -> Network {
    net.write(1, &[ClientFrame::Preface]).expect("open");
    assert_eq!(
        sent(&net),
        [ServerFrame::Settings {
            max_streams: Some(100)
        }]
    );
    net
}

/// What the server sent on connection 1 since the last look (without waiting).
fn sent(net: &Network) -> Vec<ServerFrame> {
    let mut all = net.wires.lock();
    all.entry(1).or_default().inbound.drain(..).collect()
}

/// The client sends request `stream`; what the server answers at once.
fn request(net: &Network, stream: u32) -> Vec<ServerFrame> {
    net.write(1, &[ClientFrame::Headers { stream }])
        .expect("open");
    sent(net)
}

fn headers(stream: u32, end_stream: bool) -> ServerFrame {
    ServerFrame::Headers { stream, end_stream }
}

fn end(stream: u32) -> ServerFrame {
    ServerFrame::Data {
        stream,
        end_stream: true,
    }
}

const ANSWER: Plan = Plan::Respond {
    end_stream: true,
    body: false,
};

#[test]
fn a_read_takes_what_the_server_sent_then_sees_the_transport_end() {
    let _exec = StdExecution::install();
    let net = network(Respond::Full, false);
    net.write(1, &[ClientFrame::Preface]).expect("open");
    let settings = ServerFrame::Settings {
        max_streams: Some(100),
    };
    assert_eq!(net.read(1), Ok(vec![settings]));
    net.disconnect(1);
    assert_eq!(net.read(1), Err(ReadError::Eof));
    net.close(1);
    assert_eq!(net.read(1), Err(ReadError::Closed));
}

#[test]
fn full_responses_carry_a_body_only_if_configured() {
    let _exec = StdExecution::install();
    assert!(network(Respond::Full, true).body_default());
    assert!(!network(Respond::Full, false).body_default());
}

#[test]
fn a_stream_above_the_goaways_last_stream_id_is_never_processed() {
    let _exec = StdExecution::install();
    let net = started(Respond::Full);
    net.goaway(1, 1);
    assert_eq!(sent(&net), [ServerFrame::Goaway { last_stream: 1 }]);
    assert_eq!(request(&net, 1), [headers(1, true)]);
    assert_eq!(request(&net, 3), []);
}

#[test]
fn an_end_stream_before_its_stream_ends_the_next_unended_one_or_the_named_one() {
    let _exec = StdExecution::install();
    let net = started(Respond::HeadersOnly);
    net.end_stream(1, 0);
    assert_eq!(request(&net, 1), [headers(1, false), end(1)], "any stream");
    net.end_stream(1, 5);
    assert_eq!(request(&net, 3), [headers(3, false)], "not the one named");
    assert_eq!(request(&net, 5), [headers(5, false), end(5)]);
}

#[test]
fn a_plan_answers_the_oldest_unanswered_stream_once_or_waits_for_its_stream() {
    let _exec = StdExecution::install();
    let net = started(Respond::Manual);
    assert_eq!(request(&net, 1), []);
    net.plan(1, 0, ANSWER);
    assert_eq!(sent(&net), [headers(1, true)], "the oldest unanswered");
    net.plan(1, 1, ANSWER);
    assert_eq!(sent(&net), [], "stream 1 is answered already");
    net.plan(1, 5, Plan::Reset);
    net.plan(1, 0, ANSWER);
    assert_eq!(request(&net, 3), [headers(3, true)], "the next to arrive");
    assert_eq!(request(&net, 5), [ServerFrame::RstStream { stream: 5 }]);
}

#[test]
fn an_end_stream_ends_the_named_stream_or_else_the_oldest_open_one() {
    let _exec = StdExecution::install();
    let net = started(Respond::HeadersOnly);
    assert_eq!(request(&net, 1), [headers(1, false)]);
    assert_eq!(request(&net, 3), [headers(3, false)]);
    net.end_stream(1, 3);
    assert_eq!(sent(&net), [end(3)], "the named one");
    net.end_stream(1, 0);
    assert_eq!(sent(&net), [end(1)], "the oldest still open");
}

/// A full server on HTTP/2 whose bodies have `frames` DATA frames and whose streams admit
/// `window` of them before a WINDOW_UPDATE.
fn windowed(frames: u32, window: u32) -> Network {
    open(Network::new(PeerConfig {
        body: true,
        body_frames: frames,
        stream_window: Some(window),
        ..peer(Respond::Full)
    }))
}

fn data(stream: u32) -> ServerFrame {
    ServerFrame::Data {
        stream,
        end_stream: false,
    }
}

#[test]
fn a_body_goes_out_as_far_as_its_stream_window_admits() {
    let _exec = StdExecution::install();
    let net = windowed(3, 2);
    assert_eq!(request(&net, 1), [headers(1, false), data(1), data(1)]);
    let update = [ClientFrame::WindowUpdate { stream: 1 }];
    net.write(1, &update).expect("open");
    assert_eq!(sent(&net), [end(1)], "one more frame per update");
    let wide = windowed(2, 3);
    assert_eq!(
        request(&wide, 1),
        [headers(1, false), data(1), end(1)],
        "a window wider than the body sends all of it"
    );
}
