//! `flow-control-consistent`: both directions of HTTP/2 flow control keep their books.
//!
//! Receiving: when a DATA frame reaches the client, the receive windows the client's books give
//! the stream and the connection are at least the windows the peer had when it sent the frame
//! ([`Event::StreamFlowWindow`]). The client adds to its books before it writes the matching
//! WINDOW_UPDATE, so in-flight updates can only make its values larger; a smaller value means an
//! update was lost from the books while its WINDOW_UPDATE still reached the peer, and the client
//! will reject data the peer was allowed to send (FLOW_CONTROL_ERROR). Catches golang/go#48491:
//! `cs.inflow.add` outside `cc.mu` racing with the response body's `Read`. The connection's
//! books (`cc.inflow`: padding refunds, `Read`'s refresh, `Close`'s refund of unread data) are
//! checked the same way.
//!
//! Sending: when the client's DATA reaches the peer, it fits in the receive windows the peer
//! advertised for the stream and the connection ([`Event::PeerFlowWindow`]); a client that
//! sends more has lost count of its send window (`awaitFlowControl`, `processWindowUpdate`),
//! and a real server answers with FLOW_CONTROL_ERROR.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "flow-control-consistent",
    holds_when: "the client's receive windows for a stream and its connection are never smaller \
                 than the windows the peer saw when it sent the stream's DATA (no lost window \
                 update), and the client's DATA always fits in the peer's stream and connection \
                 receive windows",
    new: || Box::new(FlowControlConsistent),
};

struct FlowControlConsistent;

impl Monitor for FlowControlConsistent {
    /// Each window probe is judged on its own fields: no order to explore.
    fn reads(&self, _kind: &RecordKind) -> bool {
        false
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        match &rec.kind {
            RecordKind::Probe(Event::StreamFlowWindow {
                conn,
                stream,
                client,
                peer,
                conn_client,
                conn_peer,
            }) => receive_books(cx, rec, (*conn, *stream), ("stream", *client, *peer)).and_then(
                |()| {
                    receive_books(
                        cx,
                        rec,
                        (*conn, *stream),
                        ("connection", *conn_client, *conn_peer),
                    )
                },
            ),
            RecordKind::Probe(Event::PeerFlowWindow {
                conn,
                stream,
                len,
                stream_window,
                conn_window,
            }) => send_within(
                cx,
                rec,
                *conn,
                *stream,
                *len,
                (*stream_window, *conn_window),
            ),
            _ => Ok(()),
        }
    }
}

/// The client's receive window for the stream or the connection (`what`) is no smaller than
/// the peer's send window was.
fn receive_books(
    cx: &Cx<'_>,
    rec: &Record,
    (conn, stream): (u32, u32),
    (what, client, peer): (&str, i64, i64),
) -> Result<(), String> {
    if client >= peer {
        return Ok(());
    }
    Err(format!(
        "{} received DATA on connection {conn} stream {stream} with its {what} receive window \
         at {client} octets while the peer, having read every WINDOW_UPDATE, counts {peer}: {} \
         octets of window update were lost from the client's books",
        cx.actor(rec.actor),
        peer - client
    ))
}

/// The client's DATA fits in the peer's receive windows (stream, connection).
fn send_within(
    cx: &Cx<'_>,
    rec: &Record,
    conn: u32,
    stream: u32,
    len: i64,
    (stream_window, conn_window): (i64, i64),
) -> Result<(), String> {
    let (what, window) = if len > stream_window {
        ("stream", stream_window)
    } else if len > conn_window {
        ("connection", conn_window)
    } else {
        return Ok(());
    };
    Err(format!(
        "{} sent {len} octets of DATA on connection {conn} stream {stream} while the peer's \
         {what} receive window was {window} octets: the client lost count of its send window",
        cx.actor(rec.actor)
    ))
}
