//! `max-streams`: a connection never carries more streams than the MAX_CONCURRENT_STREAMS the
//! client has applied from its peer's SETTINGS ([`Event::SettingsApplied`]), judged at each of
//! the client's decisions:
//! - when it opens a stream ([`Event::StreamOpened`]): its open streams on that connection,
//!   the new one included, are within the limit;
//! - when the pool hands the connection to a request ([`Event::RequestAssigned`]): the requests
//!   it has handed that connection and that have not yet ended, closed their stream or moved to
//!   another connection are within the limit. A pool that dials new connections rather than
//!   queueing (Go's `StrictMaxConcurrentStreams = false`: "new TCP connections are created to
//!   the server as needed to keep each under the per-connection SETTINGS_MAX_CONCURRENT_STREAMS
//!   limit") must never over-assign; a check and a stream open in separate critical sections
//!   does (golang/net 4e4d966f, `streamsReserved`).
//!
//! Before the first SETTINGS the client knows no limit and nothing is judged. Streams admitted
//! before a lowering was applied are not judged against it: a HEADERS frame of such a stream may
//! reach the wire after the client acknowledged the lower limit, which the peer answers with
//! REFUSED_STREAM or PROTOCOL_ERROR and the client retries.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "max-streams",
    holds_when: "no connection opens, or is handed by its pool, more streams than the \
                 MAX_CONCURRENT_STREAMS the client applied from the peer's SETTINGS",
    new: || Box::new(MaxStreams::default()),
};

#[derive(Default)]
struct MaxStreams {
    /// The applied limit per connection.
    limit: BTreeMap<u32, u32>,
    /// Requests the pool handed out and not yet released: req -> conn.
    assigned: BTreeMap<u32, u32>,
    /// The stream each assigned request opened: (conn, stream) -> req.
    stream_req: BTreeMap<(u32, u32), u32>,
}

impl MaxStreams {
    fn count_assigned(&self, conn: u32) -> usize {
        self.assigned.values().filter(|c| **c == conn).count()
    }
}

impl Monitor for MaxStreams {
    /// The events it keeps state from, and the stream counts of the world view.
    fn reads(&self, kind: &RecordKind) -> bool {
        matches!(
            kind,
            RecordKind::Probe(
                Event::SettingsApplied { .. }
                    | Event::StreamOpened { .. }
                    | Event::StreamClosed { .. }
                    | Event::RequestFinished { .. }
                    | Event::RequestAssigned { .. }
            )
        )
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::SettingsApplied {
                conn,
                max_streams: Some(max),
                ..
            } => {
                self.limit.insert(*conn, *max);
            }
            Event::StreamOpened { conn, stream, req } => {
                self.stream_req.insert((*conn, *stream), *req);
                let open = cx.world.conn(*conn).map_or(0, |c| c.streams.len());
                if let Some(limit) = self.limit.get(conn).filter(|l| open > **l as usize) {
                    return Err(format!(
                        "{} opened stream {stream} on connection {conn} for request {req}: {open} \
                         streams are open, above the MAX_CONCURRENT_STREAMS of {limit} the client \
                         applied",
                        cx.actor(rec.actor)
                    ));
                }
            }
            Event::StreamClosed { conn, stream } => {
                if let Some(req) = self.stream_req.remove(&(*conn, *stream)) {
                    if self.assigned.get(&req) == Some(conn) {
                        self.assigned.remove(&req);
                    }
                }
            }
            Event::RequestFinished { req, .. } => {
                self.assigned.remove(req);
            }
            Event::RequestAssigned { req, conn } => {
                self.assigned.insert(*req, *conn);
                let n = self.count_assigned(*conn);
                if let Some(limit) = self.limit.get(conn).filter(|l| n > **l as usize) {
                    let reqs: Vec<String> = self
                        .assigned
                        .iter()
                        .filter(|(_, c)| **c == *conn)
                        .map(|(r, _)| r.to_string())
                        .collect();
                    return Err(format!(
                        "the pool handed connection {conn} to request {req} while it already \
                         carries requests {}: {n} in all, above its MAX_CONCURRENT_STREAMS of \
                         {limit} (the availability check and the stream open are not one \
                         critical section)",
                        reqs.join(", "),
                        limit = limit
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
