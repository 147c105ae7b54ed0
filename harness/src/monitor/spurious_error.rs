//! `spurious-error`: a request fails only for a reason that happened.
//!
//! Precisely, when a request ends:
//! - with [`Outcome::Cancelled`], something cancelled it before ([`Event::RequestCancelled`]);
//! - with an error ([`Outcome::Error`], [`Outcome::RetryableError`]), one of these happened
//!   before its end: it was cancelled; the pool was closed ([`Event::PoolClosed`]); a connection
//!   it used (assigned, created, checked out or streamed on for it) was closed by anyone
//!   ([`Event::ConnClosed`]: the peer, an error path, its owner), set Closed on its way to
//!   being closed ([`ConnPhase::Closed`]) or received GOAWAY.
//!
//! Anything else is an error the request did not earn: a waiter failed with another request's
//! cancellation, a connection handed over in a state left by a cancelled user, a "connection
//! closed" although nothing closed it.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ConnPhase, Event, Outcome, Record, RecordKind};
use std::collections::{BTreeMap, BTreeSet};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "spurious-error",
    holds_when: "a request ends cancelled only if something cancelled it, and with an error only \
                 if it was cancelled, the pool was closed, or a connection it used was closed or \
                 got GOAWAY before its end",
    new: || Box::new(SpuriousError::default()),
};

#[derive(Default)]
struct SpuriousError {
    cancelled: BTreeSet<u32>,
    pool_closed: bool,
    /// Connections closed or told GOAWAY so far.
    ended: BTreeSet<u32>,
    /// req -> the connections it used.
    used: BTreeMap<u32, BTreeSet<u32>>,
}

impl SpuriousError {
    fn used(&mut self, req: u32, conn: u32) {
        self.used.entry(req).or_default().insert(conn);
    }

    /// Did something happen that justifies a failure of `req`?
    fn justified(&self, req: u32) -> bool {
        let used_ended = self
            .used
            .get(&req)
            .is_some_and(|used| used.iter().any(|c| self.ended.contains(c)));
        self.cancelled.contains(&req) || self.pool_closed || used_ended
    }

    fn judge(&self, req: u32, outcome: &Outcome) -> Result<(), String> {
        let failed = match outcome {
            Outcome::Response => return Ok(()),
            Outcome::Cancelled if !self.cancelled.contains(&req) => {
                return Err(format!(
                    "request {req} ended Cancelled, but nothing cancelled it"
                ))
            }
            Outcome::Cancelled => return Ok(()),
            Outcome::Error(e) | Outcome::RetryableError(e) => e,
        };
        if self.justified(req) {
            return Ok(());
        }
        Err(format!(
            "request {req} failed with \"{failed}\", but nothing cancelled it, the pool was \
                 not closed and no connection it used ({}) was closed",
            self.used_list(req)
        ))
    }

    fn used_list(&self, req: u32) -> String {
        // A request's set is made by its first use and never shrinks: never empty.
        match self.used.get(&req) {
            Some(c) => {
                let names: Vec<String> = c.iter().map(|c| format!("conn {c}")).collect();
                names.join(", ")
            }
            None => "none".into(),
        }
    }
}

impl Monitor for SpuriousError {
    fn reads(&self, kind: &RecordKind) -> bool {
        matches!(
            kind,
            RecordKind::Probe(
                Event::RequestFinished { .. }
                    | Event::RequestCancelled { .. }
                    | Event::PoolClosed
                    | Event::ConnClosed { .. }
                    | Event::ConnPhase {
                        phase: ConnPhase::Closed,
                        ..
                    }
                    | Event::GoawayReceived { .. }
                    | Event::RequestAssigned { .. }
                    | Event::ConnCheckedOut { .. }
                    | Event::StreamOpened { .. }
            )
        )
    }

    fn on_record(&mut self, _cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::RequestCancelled { req } => {
                self.cancelled.insert(*req);
            }
            Event::PoolClosed => self.pool_closed = true,
            Event::ConnClosed { conn, .. }
            | Event::ConnPhase {
                conn,
                phase: ConnPhase::Closed,
            }
            | Event::GoawayReceived { conn, .. } => {
                self.ended.insert(*conn);
            }
            Event::RequestAssigned { req, conn }
            | Event::ConnCheckedOut { req, conn }
            | Event::StreamOpened { req, conn, .. } => self.used(*req, *conn),
            Event::RequestFinished { req, outcome } => return self.judge(*req, outcome),
            _ => {}
        }
        Ok(())
    }
}
