//! The server end's own books: its header-block framing checks, the connection window it opens
//! after its SETTINGS, and the send windows the client's WINDOW_UPDATEs open. The go-h2
//! scenarios' clients open a connection window of 1 GiB at once, so no scenario sends enough to
//! see the peer's connection window move (issue 17). Its reading of request streams: the
//! windows DATA takes, trailers, pending requests, the stream limit and GOAWAY's last stream.
//! A test that decodes a header block runs in a std execution: the peer reports the block.
use super::*;
use crate::sync::test_exec::StdExecution;

fn headers(stream: u32, end_headers: bool, len: usize) -> ClientFrame {
    ClientFrame::Headers {
        stream,
        end_stream: true,
        end_headers,
        block: vec![0; len],
    }
}

fn continuation(stream: u32) -> ClientFrame {
    ClientFrame::Continuation {
        stream,
        end_headers: true,
        block: vec![0; 4],
    }
}

#[test]
fn an_open_header_block_admits_only_its_own_continuation() {
    let mut p = Peer::new(1, PeerConfig::default());
    assert!(p.check_header_block_frame(&continuation(1)).is_err());
    p.on_frame(headers(1, false, 8));
    assert!(!p.closed);
    let data = ClientFrame::Data {
        stream: 1,
        len: 1,
        end_stream: false,
    };
    for other in [data, continuation(3), headers(3, true, 8)] {
        let e = p.check_header_block_frame(&other).unwrap_err();
        assert!(e.starts_with("PROTOCOL_ERROR"), "{e}");
    }
    assert_eq!(p.check_header_block_frame(&continuation(1)), Ok(()));
}

#[test]
fn a_header_block_frame_fits_the_frame_size_the_client_may_use() {
    let p = Peer::new(1, PeerConfig::default());
    assert_eq!(
        p.check_header_block_frame(&headers(1, true, 16_384)),
        Ok(())
    );
    let e = p
        .check_header_block_frame(&headers(1, true, 16_385))
        .unwrap_err();
    assert!(e.starts_with("FRAME_SIZE_ERROR"), "{e}");
    let raised = PeerConfig {
        max_frame_size: Some(32_768),
        ..PeerConfig::default()
    };
    let mut p = Peer::new(1, raised);
    let big = headers(1, true, 20_000);
    assert_eq!(
        p.check_header_block_frame(&big),
        Ok(()),
        "raised, not acked"
    );
    p.on_frame(ClientFrame::SettingsAck);
    p.settings(Settings {
        max_frame_size: Some(16_384),
        ..Settings::default()
    });
    assert_eq!(
        p.check_header_block_frame(&big),
        Ok(()),
        "lowered, not acked"
    );
    p.on_frame(ClientFrame::SettingsAck);
    assert!(
        p.check_header_block_frame(&big).is_err(),
        "lowered and acked"
    );
}

fn with_conn_window(conn_window: i64) -> Peer {
    Peer::new(
        1,
        PeerConfig {
            conn_window,
            ..PeerConfig::default()
        },
    )
}

#[test]
fn a_larger_connection_window_is_opened_after_settings_by_one_window_update() {
    let p = with_conn_window(100_000);
    assert_eq!(p.recv_conn_window, 100_000, "what the client may now send");
    let update = PeerFrame::WindowUpdate {
        stream: 0,
        inc: 100_000 - DEFAULT_WINDOW,
    };
    assert!(matches!(p.inbound[0], PeerFrame::Settings(_)));
    assert_eq!(p.inbound.range(1..).collect::<Vec<_>>(), [&update]);
    for default_or_less in [DEFAULT_WINDOW, 1_000] {
        let p = with_conn_window(default_or_less);
        assert_eq!(p.recv_conn_window, DEFAULT_WINDOW, "{default_or_less}");
        assert_eq!(p.inbound.len(), 1, "SETTINGS only: {default_or_less}");
    }
}

#[test]
fn the_clients_preface_and_window_updates_open_the_peers_send_windows() {
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(ClientFrame::Preface {
        initial_window: 10,
        conn_window_update: 1_000,
    });
    p.open_stream(1);
    let window_is = |p: &Peer, n: u32| p.can_send(1, n) && !p.can_send(1, n + 1);
    assert!(window_is(&p, 10), "the stream's initial window");
    let update = |stream, inc| ClientFrame::WindowUpdate { stream, inc };
    p.on_frame(update(1, 100));
    assert!(window_is(&p, 110), "the stream's window, opened");
    p.on_frame(update(1, 100_000));
    let conn = 66_535;
    assert!(
        window_is(&p, conn),
        "the connection's, opened by the preface"
    );
    p.on_frame(update(0, 10));
    assert!(window_is(&p, conn + 10), "the connection's, opened again");
}

/// The frames the peer queued since the first `skip`.
fn sent_after(p: &Peer, skip: usize) -> Vec<PeerFrame> {
    p.inbound.iter().skip(skip).cloned().collect()
}

#[test]
fn a_response_is_headers_then_its_body_with_end_stream_on_the_last_frame() {
    let mut p = Peer::new(1, PeerConfig::default());
    for stream in [1, 3, 5] {
        p.open_stream(stream);
    }
    let headers = |stream, end_stream| PeerFrame::Headers { stream, end_stream };
    let queued = p.inbound.len();
    p.respond_to(1, 10, true);
    let body = PeerFrame::Data {
        stream: 1,
        len: 10,
        pad: 0,
        end_stream: true,
        peer_windows: (DEFAULT_WINDOW, DEFAULT_WINDOW),
    };
    assert_eq!(sent_after(&p, queued), [headers(1, false), body]);
    let queued = p.inbound.len();
    p.respond_to(3, 0, false);
    assert_eq!(sent_after(&p, queued), [headers(3, false)], "body to come");
    let queued = p.inbound.len();
    p.respond_to(5, 0, true);
    assert_eq!(sent_after(&p, queued), [headers(5, true)], "no body");
}

#[test]
fn a_stream_is_unanswered_until_it_is_responded_to_ended_or_ignored() {
    let mut p = Peer::new(1, PeerConfig::default());
    for stream in [1, 3, 5, 7] {
        p.open_stream(stream);
    }
    p.respond_to(1, 0, false);
    p.refuse(3);
    p.streams.get_mut(&5).expect("opened").ignored = true;
    assert_eq!(p.unanswered(None), Some(7));
    for answered in [1, 3, 5] {
        assert_eq!(p.unanswered(Some(answered)), None, "stream {answered}");
    }
}

/// A request's HEADERS on `stream` (an empty header block: it decodes to no fields).
fn request(stream: u32, end_stream: bool) -> ClientFrame {
    ClientFrame::Headers {
        stream,
        end_stream,
        end_headers: true,
        block: Vec::new(),
    }
}

fn body(stream: u32, len: u32) -> ClientFrame {
    ClientFrame::Data {
        stream,
        len,
        end_stream: false,
    }
}

fn deferring_reads() -> Peer {
    let config = PeerConfig {
        defer_body_reads: true,
        ..PeerConfig::default()
    };
    Peer::new(1, config)
}

#[test]
fn data_takes_its_length_from_both_receive_windows_until_the_handler_reads_it() {
    let _exec = StdExecution::install();
    let mut p = deferring_reads();
    p.on_frame(request(1, false));
    p.on_frame(body(1, 10));
    let windows = |p: &Peer| (p.recv_conn_window, p.streams[&1].recv_window);
    let taken = DEFAULT_WINDOW - 10;
    assert_eq!(windows(&p), (taken, taken), "received, not read");
    p.read_body(1);
    assert_eq!(windows(&p), (DEFAULT_WINDOW, DEFAULT_WINDOW), "read");
}

#[test]
fn trailers_end_the_request_without_opening_its_stream_again() {
    let _exec = StdExecution::install();
    let mut p = deferring_reads();
    p.on_frame(request(1, false));
    p.on_frame(body(1, 10));
    p.on_frame(request(1, true));
    assert!(!p.closed, "empty header blocks decode");
    assert_eq!(
        p.pending(Some(1), false),
        Some(1),
        "the request is complete"
    );
    let queued = p.inbound.len();
    p.read_body(1);
    // The body the stream received before its trailers is still owed; the stream has ended,
    // so only the connection's window is refunded.
    let refund = PeerFrame::WindowUpdate { stream: 0, inc: 10 };
    assert_eq!(sent_after(&p, queued), [refund]);
}

#[test]
fn a_request_is_pending_once_complete_or_early_and_until_it_is_answered() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(request(1, false));
    assert_eq!(p.pending(None, false), None, "its body is still coming");
    assert_eq!(p.pending(None, true), Some(1), "answered early");
    p.on_frame(request(3, true));
    assert_eq!(p.pending(None, false), Some(3));
    p.respond_to(3, 0, false);
    assert_eq!(p.pending(None, false), None, "answered");
}

#[test]
fn a_goaways_last_stream_is_processed_and_the_streams_above_it_ignored() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.goaway(Some(3), false);
    p.on_frame(request(3, true));
    p.on_frame(request(5, true));
    assert_eq!(p.pending(None, false), Some(3));
    assert_eq!(p.pending(Some(5), false), None, "above the last-stream-id");
}

#[test]
fn the_stream_limit_counts_only_streams_neither_ended_nor_ignored() {
    let _exec = StdExecution::install();
    let config = PeerConfig {
        max_streams: Some(1),
        auto_respond: true,
        ..PeerConfig::default()
    };
    let mut p = Peer::new(1, config);
    p.on_frame(ClientFrame::SettingsAck);
    p.on_frame(request(1, true));
    p.on_frame(request(3, true));
    let refused = p
        .inbound
        .iter()
        .any(|f| matches!(f, PeerFrame::RstStream { .. }));
    assert!(!refused, "stream 1 was answered and ended: stream 3 fits");
}

#[test]
fn after_goaway_the_peer_closes_once_the_streams_up_to_its_last_stream_end() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(request(1, false));
    p.on_frame(request(3, false));
    p.goaway(Some(1), true);
    assert!(!p.closed, "stream 1 is still processed");
    assert_eq!(
        p.unanswered(None),
        Some(1),
        "stream 3 is ignored, stream 1 is not"
    );
    p.respond_to(1, 0, true);
    assert!(
        p.closed,
        "stream 1 ended; the ignored stream 3 does not count"
    );
}

#[test]
fn a_response_stays_open_until_data_with_end_stream() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(request(1, true));
    p.respond_to(1, 0, false);
    p.data(1, 5, 0, false);
    assert_eq!(p.open_response(None), Some(1));
    p.data(1, 5, 0, true);
    assert_eq!(p.open_response(None), None, "ended");
}

#[test]
fn a_stream_over_the_advertised_limit_is_refused_refused_stream_until_acked() {
    let _exec = StdExecution::install();
    let config = PeerConfig {
        max_streams: Some(1),
        ..PeerConfig::default()
    };
    let mut p = Peer::new(1, config);
    let reset = |stream, code| PeerFrame::RstStream { stream, code };
    p.on_frame(request(1, true));
    let queued = p.inbound.len();
    p.on_frame(request(3, true));
    let refused = reset(3, ErrCode::RefusedStream);
    assert_eq!(sent_after(&p, queued), [refused], "SETTINGS not acked yet");
    p.on_frame(ClientFrame::SettingsAck);
    let queued = p.inbound.len();
    p.on_frame(request(5, true));
    let violation = reset(5, ErrCode::Protocol);
    assert_eq!(sent_after(&p, queued), [violation], "acked");
}

#[test]
fn a_stream_above_a_goaways_last_stream_id_gets_no_response() {
    let _exec = StdExecution::install();
    let config = PeerConfig {
        auto_respond: true,
        ..PeerConfig::default()
    };
    let mut p = Peer::new(1, config);
    p.goaway(Some(1), false);
    let queued = p.inbound.len();
    p.on_frame(request(3, true));
    assert_eq!(sent_after(&p, queued), [], "ignored");
}

#[test]
fn each_data_frame_carries_the_peers_send_windows_before_it() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(request(1, true));
    p.respond_to(1, 0, false);
    p.data(1, 10, 0, false);
    let queued = p.inbound.len();
    p.data(1, 5, 0, true);
    let left = DEFAULT_WINDOW - 10;
    let second = PeerFrame::Data {
        stream: 1,
        len: 5,
        pad: 0,
        end_stream: true,
        peer_windows: (left, left),
    };
    assert_eq!(sent_after(&p, queued), [second]);
}

#[test]
fn the_oldest_handler_not_reading_its_body_reads_next() {
    let _exec = StdExecution::install();
    let mut p = deferring_reads();
    p.on_frame(request(1, false));
    p.on_frame(request(3, false));
    assert_eq!(p.unread(None), Some(1));
    assert_eq!(p.unread(Some(3)), Some(3));
    p.read_body(1);
    assert_eq!(p.unread(None), Some(3));
    assert_eq!(p.unread(Some(1)), None, "reading");
}

#[test]
fn a_handler_reads_its_body_as_it_arrives_unless_told_to_wait() {
    let _exec = StdExecution::install();
    let mut p = Peer::new(1, PeerConfig::default());
    p.on_frame(request(1, false));
    let queued = p.inbound.len();
    p.on_frame(body(1, 10));
    let refund = |stream| PeerFrame::WindowUpdate { stream, inc: 10 };
    assert_eq!(sent_after(&p, queued), [refund(0), refund(1)]);
}
