//! The read loop's flow-control books for one DATA frame ([`super::process_data`],
//! [`super::refund_unknown_stream`]), called directly on one connection: the windows after the
//! frame and the WINDOW_UPDATEs the client declared it writes. The scenarios' padded DATA and
//! DATA for a forgotten stream are judged by their invariants only when a later frame would
//! overrun a window, which their budgets rarely reach (issue 17).

use super::super::round_trip::tests::{conn_window, connection_with_stream};
use super::{process_data, refund_unknown_stream, ReadLoop};
use crate::sync::test_exec::StdExecution;
use crate::sync::BlockKind;

#[test]
fn data_for_a_forgotten_stream_is_given_back_to_the_connection_window() {
    let exec = StdExecution::install();
    let (cc, _cs) = connection_with_stream();
    let before = conn_window(&cc);
    refund_unknown_stream(&cc, 100);
    assert_eq!(conn_window(&cc), before + 100);
    refund_unknown_stream(&cc, 0);
    assert_eq!(conn_window(&cc), before + 100, "nothing to give back");
    let writes = exec.blocking(BlockKind::NetWrite);
    assert_eq!(writes, ["cc1: WINDOW_UPDATE(0, 100)"]);
}

/// DATA of (payload, padding) octets on stream 1: the growth of the connection and stream
/// windows, the writes, and the octets the body pipe holds.
fn receive(data: (u32, u32)) -> (i64, i64, Vec<String>, i64) {
    let exec = StdExecution::install();
    let (cc, cs) = connection_with_stream();
    let (conn, stream) = (conn_window(&cc), cs.inflow.get());
    let peer_windows = (stream, conn);
    process_data(&cc, &mut ReadLoop::default(), 1, data, false, peer_windows)
        .expect("within the windows");
    let writes = exec.blocking(BlockKind::NetWrite);
    let (buffered, _) = cs.pipe_state();
    (
        conn_window(&cc) - conn,
        cs.inflow.get() - stream,
        writes,
        buffered,
    )
}

#[test]
fn data_takes_its_octets_from_both_windows_and_gives_its_padding_back_at_once() {
    assert_eq!(receive((10, 0)), (-10, -10, vec![], 10), "no padding");
    let refund = "cc1: WINDOW_UPDATE(0, 5) + WINDOW_UPDATE(1, 5)".to_owned();
    assert_eq!(
        receive((10, 5)),
        (-10, -10, vec![refund], 10),
        "5 of padding"
    );
}
