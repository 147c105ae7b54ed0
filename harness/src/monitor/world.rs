//! The world as the probes describe it: connections, their streams, requests and resources.
//!
//! Shared by every monitor so that each invariant is a few lines over one consistent view.

use poolcheck_models::sync::{ActorId, ConnPhase, Event, Outcome, Record, RecordKind};
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
    /// The connection each request was last assigned, created or checked out for, and how
    /// (kept after it finishes: what it used).
    pub assigned: BTreeMap<u32, (u32, Activity)>,
    /// The actor that started each request.
    pub started_by: BTreeMap<u32, ActorId>,
}

/// How a request is active on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Its stream is open there.
    Stream(u32),
    /// The pool assigned or created the connection for it (a shared connection, or one being
    /// established), and it has not finished: it is about to use it (assigned but not started).
    Assigned,
    /// A one-request-at-a-time pool checked the connection out to it, and it has not finished:
    /// the connection is the caller's alone, for this request and any follow-up on it.
    CheckedOut,
}

impl Activity {
    /// "is active on its stream 3", for violation messages.
    pub fn describe(self) -> String {
        match self {
            Activity::Stream(stream) => format!("is active on its stream {stream}"),
            Activity::Assigned => "was handed it and has not finished".into(),
            Activity::CheckedOut => "has it checked out and has not finished".into(),
        }
    }
}

impl World {
    /// Update the view from one record (only probes change it).
    pub fn apply(&mut self, rec: &Record) {
        if let RecordKind::Probe(ev) = &rec.kind {
            self.apply_event(ev, rec.actor);
        }
    }

    fn apply_event(&mut self, ev: &Event, actor: ActorId) {
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
                self.started_by.insert(*req, actor);
            }
            Event::RequestAssigned { req, conn } => {
                self.assigned.insert(*req, (*conn, Activity::Assigned));
            }
            Event::ConnCheckedOut { req, conn } => {
                self.assigned.insert(*req, (*conn, Activity::CheckedOut));
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

    /// The part of the view `ev` changes, as a number (for the `dpor` scheduler: events on
    /// different parts commute, so the final view does not depend on their order). Numbers
    /// start at 2^32, above the monitors' own ([`super::MonitorSet`]).
    pub fn key_of(ev: &Event) -> Option<u64> {
        // Three fields that share no bit: an 8-bit tag, a 32-bit number, 24 bits of another. A
        // stream or resource number above 2^24 shares its key with a lower one: a dependence
        // dpor did not need to assume, never an independence it should not.
        let tagged = |tag: u64, a: u32, b: u32| {
            Some(tag << 56 | u64::from(a) << 24 | u64::from(b & 0xff_ffff))
        };
        match ev {
            Event::ConnCreated { conn }
            | Event::ConnPhase { conn, .. }
            | Event::ConnClosed { conn, .. } => tagged(1, *conn, 0),
            Event::StreamOpened { conn, stream, .. } | Event::StreamClosed { conn, stream } => {
                tagged(2, *conn, *stream)
            }
            Event::RequestStarted { req }
            | Event::RequestFinished { req, .. }
            | Event::RequestAssigned { req, .. }
            | Event::ConnCheckedOut { req, .. } => tagged(3, *req, 0),
            Event::ResourceOpened { kind, id } | Event::ResourceClosed { kind, id } => {
                let kind = kind
                    .bytes()
                    .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
                tagged(4, kind, *id)
            }
            _ => None,
        }
    }

    /// What a key of [`World::key_of`] stands for, in words (diagnostics).
    pub fn describe_key(key: u64) -> String {
        let (a, b) = ((key >> 24) & 0xffff_ffff, key & 0xff_ffff);
        match key >> 56 {
            1 => format!("world conn {a}"),
            2 => format!("world conn {a} stream {b}"),
            3 => format!("world request {a}"),
            4 => format!("world resource {b}"),
            _ => format!("world key {key:#x}"),
        }
    }

    /// The requests active on `conn` now: its open streams, then the unfinished requests it was
    /// assigned to that have no stream there yet. Finished requests are not active.
    pub fn active_on(&self, conn: u32) -> Vec<(u32, Activity)> {
        let mut active: Vec<(u32, Activity)> = self.conns.get(&conn).map_or(Vec::new(), |c| {
            c.streams
                .iter()
                .map(|(s, r)| (*r, Activity::Stream(*s)))
                .collect()
        });
        let unfinished = |r: &u32| matches!(self.requests.get(r), Some(None));
        for (req, (c, how)) in &self.assigned {
            if *c == conn && unfinished(req) && !active.iter().any(|(r, _)| r == req) {
                active.push((*req, *how));
            }
        }
        active
    }

    /// The connection's view, if it was ever mentioned.
    pub fn conn(&self, conn: u32) -> Option<&ConnView> {
        self.conns.get(&conn)
    }
}
