//! The stall books of a connection's client-to-peer direction ([`super::Wire::write_one`]): a
//! writer counts itself stalled only while it waits for room, so `await-stall` after a stall
//! has resumed waits for a new one. No scenario awaits a second stall (issue 17).

use super::super::peer::{Peer, PeerConfig};
use super::{ClientFrame, Net, PeerFrame, Read, Wire};
use crate::sync::test_exec::StdExecution;
use crate::sync::{spawn, yield_now};

/// Let the other actors run until a writer of `wire` is stalled. Not `Net::await_stall`: with
/// the stall books broken that would wait for ever, and a hung unit test judges nothing.
fn until_stalled(wire: &Wire) {
    for _ in 0..100_000 {
        if wire.up.lock().stalled > 0 {
            return;
        }
        yield_now("let the writer run");
    }
    panic!("no writer stalled");
}

#[test]
fn a_writer_is_stalled_only_until_the_peer_reads_again() {
    let _exec = StdExecution::install();
    // No buffer: while the peer does not read, every write waits for it.
    let net = Net::new(PeerConfig::default(), 0);
    let wire = net.accept();
    net.stop_reading(1);
    let writer = {
        let wire = wire.clone();
        spawn("writer", move || wire.write(vec![ClientFrame::SettingsAck]))
    };
    until_stalled(&wire);
    assert_eq!(wire.up.lock().stalled, 1, "the writer waits for room");
    net.resume_reading(1);
    assert_eq!(writer.join(), Ok(()));
    let up = wire.up.lock();
    assert_eq!(
        (up.stalled, up.client_acks),
        (0, 1),
        "the write went through and nobody is stalled any more"
    );
}

#[test]
fn the_preface_takes_its_magic_settings_and_window_update_on_the_wire() {
    let preface = ClientFrame::Preface {
        initial_window: 4 << 20,
        conn_window_update: 1 << 30,
    };
    // 9-octet SETTINGS header + the 24-octet magic + two settings of 6 octets + a 13-octet
    // WINDOW_UPDATE frame.
    assert_eq!(preface.wire_len(), 9 + 24 + 12 + 13);
    assert_eq!(ClientFrame::SettingsAck.wire_len(), 9);
}

#[test]
fn a_buffer_the_peer_read_again_is_empty_and_counts_only_its_settings_acks() {
    let _exec = StdExecution::install();
    let net = Net::new(PeerConfig::default(), 1024);
    let wire = net.accept();
    net.stop_reading(1);
    let update = |stream| ClientFrame::WindowUpdate { stream, inc: 1 };
    let frames = vec![update(0), ClientFrame::SettingsAck, update(1)];
    assert_eq!(wire.write(frames), Ok(()), "the frames fit the buffer");
    {
        let up = wire.up.lock();
        assert_eq!((up.buffered_len, up.client_acks), (2 * 13 + 9, 1));
    }
    net.resume_reading(1);
    let up = wire.up.lock();
    assert_eq!((up.buffered.len(), up.buffered_len), (0, 0), "all read");
}

#[test]
fn one_buffered_frame_read_again_leaves_the_buffer_empty() {
    let _exec = StdExecution::install();
    let net = Net::new(PeerConfig::default(), 1024);
    let wire = net.accept();
    net.stop_reading(1);
    let update = ClientFrame::WindowUpdate { stream: 0, inc: 1 };
    assert_eq!(wire.write(vec![update]), Ok(()));
    net.resume_reading(1);
    assert_eq!(wire.up.lock().buffered_len, 0, "its 13 octets were read");
}

#[test]
fn a_peer_operation_reaches_the_connection_it_names() {
    let _exec = StdExecution::install();
    let net = Net::new(PeerConfig::default(), 1024);
    let (first, second) = (net.accept(), net.accept());
    net.stop_reading(2);
    let ack = || vec![ClientFrame::SettingsAck];
    assert_eq!((first.write(ack()), second.write(ack())), (Ok(()), Ok(())));
    let buffered = |w: &Wire| w.up.lock().buffered_len;
    assert_eq!(
        (buffered(&first), buffered(&second)),
        (0, 9),
        "only 2 stopped reading"
    );
}

#[test]
fn a_peer_closing_with_nothing_to_send_ends_the_clients_reads() {
    let _exec = StdExecution::install();
    let net = Net::new(PeerConfig::default(), 1024);
    let wire = net.accept();
    assert!(matches!(wire.read(), Read::Frame(PeerFrame::Settings(_))));
    net.peer_op(1, |_| true, Peer::close);
    assert!(matches!(wire.read(), Read::Eof), "the close is passed on");
}

#[test]
fn a_peer_operation_on_any_connection_stops_counting_itself_once_it_ran() {
    let _exec = StdExecution::install();
    let net = Net::new(PeerConfig::default(), 1024);
    net.accept();
    net.peer_op_any(|_| true, |_| ());
    // Left counted, every later change of a peer would take the network's lock to wake it:
    // the `dpor` scheduler would then see every network step depend on every other.
    assert_eq!(net.watch.any_waiters.get(), 0);
}
