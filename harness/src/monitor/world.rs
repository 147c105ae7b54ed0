//! The world as the probes describe it: connections, their streams, requests and resources.
//!
//! Shared by every monitor so that each invariant is a few lines over one consistent view.

use poolcheck_models::sync::{ConnPhase, Event, Outcome, Record, RecordKind};
use std::collections::{BTreeMap, BTreeSet};

/// One connection.
#[derive(Clone, Debug)]
pub struct ConnView {
    /// Its phase as its own state field last said.
    pub phase: ConnPhase,
    /// Streams between allocation and close, with their request.
    pub streams: BTreeMap<u32, u32>,
    /// Set once the connection was closed (by anyone).
    pub closed: bool,
}

impl Default for ConnView {
    fn default() -> Self {
        ConnView {
            phase: ConnPhase::Connecting,
            streams: BTreeMap::new(),
            closed: false,
        }
    }
}

/// Connections, requests and resources.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Connections by number.
    pub conns: BTreeMap<u32, ConnView>,
    /// Requests by number, with their outcome once finished.
    pub requests: BTreeMap<u32, Option<Outcome>>,
    /// Resources opened and not yet closed, by (kind, id).
    pub open_resources: BTreeSet<(&'static str, u32)>,
}

impl World {
    /// Update the view from one record (only probes change it).
    pub fn apply(&mut self, rec: &Record) {
        if let RecordKind::Probe(ev) = &rec.kind {
            self.apply_event(ev);
        }
    }

    fn apply_event(&mut self, ev: &Event) {
        match ev {
            Event::ConnCreated { conn } => {
                self.conns.entry(*conn).or_default();
            }
            Event::ConnPhase { conn, phase } => {
                let c = self.conns.entry(*conn).or_default();
                c.phase = *phase;
                c.closed |= *phase == ConnPhase::Closed;
            }
            Event::ConnClosed { conn, .. } => {
                let c = self.conns.entry(*conn).or_default();
                c.closed = true;
                c.phase = ConnPhase::Closed;
            }
            Event::StreamOpened { conn, stream, req } => {
                self.conns
                    .entry(*conn)
                    .or_default()
                    .streams
                    .insert(*stream, *req);
            }
            Event::StreamClosed { conn, stream } => {
                self.conns.entry(*conn).or_default().streams.remove(stream);
            }
            Event::RequestStarted { req } => {
                self.requests.insert(*req, None);
            }
            Event::RequestFinished { req, outcome } => {
                self.requests.insert(*req, Some(outcome.clone()));
            }
            Event::ResourceOpened { kind, id } => {
                self.open_resources.insert((kind, *id));
            }
            Event::ResourceClosed { kind, id } => {
                self.open_resources.remove(&(*kind, *id));
            }
            _ => {}
        }
    }

    /// The connection's view, if it was ever mentioned.
    pub fn conn(&self, conn: u32) -> Option<&ConnView> {
        self.conns.get(&conn)
    }
}
