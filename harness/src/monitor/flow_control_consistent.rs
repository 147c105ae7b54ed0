//! `flow-control-consistent`: when a DATA frame reaches the client, the receive window the
//! client's books give the stream is at least the window the peer had when it sent the frame
//! ([`Event::StreamFlowWindow`]).
//!
//! The client adds to its books before it writes the matching WINDOW_UPDATE, so in-flight
//! updates can only make its value larger; a smaller value means an update was lost from the
//! books while its WINDOW_UPDATE still reached the peer, and the client will reject data the peer
//! was allowed to send (FLOW_CONTROL_ERROR). Catches golang/go#48491: `cs.inflow.add` outside
//! `cc.mu` racing with the response body's `Read`.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "flow-control-consistent",
    holds_when: "the client's receive window for a stream is never smaller than the window the \
                 peer saw when it sent the stream's DATA (no lost window update)",
    new: || Box::new(FlowControlConsistent),
};

struct FlowControlConsistent;

impl Monitor for FlowControlConsistent {
    /// Each window probe is judged on its own fields: no order to explore.
    fn reads(&self, _kind: &RecordKind) -> bool {
        false
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(Event::StreamFlowWindow {
            conn,
            stream,
            client,
            peer,
        }) = &rec.kind
        else {
            return Ok(());
        };
        if client < peer {
            return Err(format!(
                "{} received DATA on connection {conn} stream {stream} with its receive window \
                 at {client} octets while the peer, having read every WINDOW_UPDATE, counts \
                 {peer}: {} octets of window update were lost from the client's books",
                cx.actor(rec.actor),
                peer - client
            ));
        }
        Ok(())
    }
}
