//! `stream-after-goaway`: once a client has processed a GOAWAY on a connection
//! ([`Event::GoawayReceived`]) it opens no new stream there (judged when the stream is
//! allocated, so before its HEADERS could reach the wire); and every request whose stream the GOAWAY caught (a
//! stream above the last-stream-id, which the server will not process) either moves to another
//! connection ([`Event::RequestAssigned`]) or ends with a retryable error, never with a
//! non-retryable one.
//!
//! Streams allocated before the GOAWAY was processed may still send HEADERS after it (the race
//! RFC 7540 section 6.8 resolves with the last-stream-id): they are caught, and judged by the
//! second rule. A caught request that never ends is `request-answered`'s business.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Outcome, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "stream-after-goaway",
    holds_when: "no stream is opened on a connection after its GOAWAY was processed, and every \
                 request caught above the last-stream-id is retried elsewhere or fails retryably",
    new: || Box::new(StreamAfterGoaway::default()),
};

#[derive(Default)]
struct StreamAfterGoaway {
    /// Last-stream-id per connection that received GOAWAY.
    goaway: BTreeMap<u32, u32>,
    /// Requests caught: req -> (conn, stream, last).
    caught: BTreeMap<u32, (u32, u32, u32)>,
}

impl Monitor for StreamAfterGoaway {
    /// The events it keeps state from, and the open streams of the world view.
    fn reads(&self, kind: &RecordKind) -> bool {
        matches!(
            kind,
            RecordKind::Probe(
                Event::GoawayReceived { .. }
                    | Event::StreamOpened { .. }
                    | Event::StreamClosed { .. }
                    | Event::RequestAssigned { .. }
                    | Event::RequestFinished { .. }
            )
        )
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::GoawayReceived { conn, last_stream } => {
                self.goaway.insert(*conn, *last_stream);
                if let Some(c) = cx.world.conn(*conn) {
                    for (stream, req) in c.streams.range(last_stream + 1..) {
                        self.caught.insert(*req, (*conn, *stream, *last_stream));
                    }
                }
            }
            Event::StreamOpened { conn, stream, req } => {
                if let Some(last) = self.goaway.get(conn) {
                    return Err(format!(
                        "{} opened stream {stream} on connection {conn} for request {req} after \
                         the client processed GOAWAY (last-stream-id {last})",
                        cx.actor(rec.actor)
                    ));
                }
            }
            Event::RequestAssigned { req, conn }
                if self.caught.get(req).is_some_and(|(c, _, _)| c != conn) =>
            {
                self.caught.remove(req);
            }
            Event::RequestFinished { req, outcome } => {
                if let Some((conn, stream, last)) = self.caught.remove(req) {
                    if !matches!(outcome, Outcome::RetryableError(_) | Outcome::Cancelled) {
                        return Err(format!(
                            "request {req} was caught by GOAWAY on connection {conn} (its stream \
                             {stream} is above last-stream-id {last}, so the server did not \
                             process it) and ended with {outcome:?} without being retried on \
                             another connection"
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
