//! `permit-accounting`: a connection's stream permits and its protocol state agree.
//!
//! For every connection that reported its permit semaphore ([`Event::StreamPermits`]):
//! - at every step, the streams the protocol layer counts open ([`Event::ProtocolOpenStreams`])
//!   never exceed the permits requests hold (permits held minus those the structure keeps for
//!   itself): a stream's permit must not go back while the protocol still counts the stream
//!   open, or the connection later refuses streams its permits admit (encode/httpcore#943,
//!   "Max outbound streams is 100, 100 open");
//! - at the end of a completed execution, free permits + active streams = the limit the
//!   connection last reported, and permits held by requests = the protocol's open streams: a
//!   permit held by no stream is lost for good (encode/httpcore#1061).

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "permit-accounting",
    holds_when: "a connection's permits match its streams: the protocol never counts more open \
                 streams than requests hold permits, and at the end free permits + active \
                 streams = the limit and permits in use = the protocol's open streams",
    new: || Box::new(PermitAccounting::default()),
};

#[derive(Clone, Copy, Default)]
struct Books {
    sem: usize,
    limit: u32,
    protocol_open: u32,
}

#[derive(Default)]
struct PermitAccounting {
    /// Connections that reported a permit semaphore, by connection number.
    books: BTreeMap<u32, Books>,
    /// Protocol open counts seen before the semaphore was reported.
    early_open: BTreeMap<u32, u32>,
}

impl PermitAccounting {
    fn conn_of_sem(&self, sem: usize) -> Option<u32> {
        self.books
            .iter()
            .find(|(_, b)| b.sem == sem)
            .map(|(c, _)| *c)
    }

    fn check_step(&self, cx: &Cx<'_>, conn: u32) -> Result<(), String> {
        let Some(b) = self.books.get(&conn) else {
            return Ok(());
        };
        let s = &cx.ghost.sems[b.sem];
        let in_use = s.held - s.reserved;
        if i64::from(b.protocol_open) > in_use {
            return Err(format!(
                "connection {conn}: the protocol counts {} open stream(s) but requests hold only \
                 {in_use} permit(s) of {}: a permit went back while its stream is still open, \
                 so the connection will refuse streams its free permits admit",
                b.protocol_open, s.name
            ));
        }
        Ok(())
    }

    fn on_event(&mut self, cx: &Cx<'_>, ev: &Event) -> Result<(), String> {
        match ev {
            Event::StreamPermits { conn, sem, limit } => {
                let protocol_open = self.early_open.remove(conn).unwrap_or(0);
                let b = self.books.entry(*conn).or_insert(Books {
                    sem: *sem,
                    limit: *limit,
                    protocol_open,
                });
                b.sem = *sem;
                b.limit = *limit;
                self.check_step(cx, *conn)
            }
            Event::ProtocolOpenStreams { conn, open, .. } => {
                match self.books.get_mut(conn) {
                    Some(b) => b.protocol_open = *open,
                    None => {
                        self.early_open.insert(*conn, *open);
                    }
                }
                self.check_step(cx, *conn)
            }
            _ => Ok(()),
        }
    }
}

impl Monitor for PermitAccounting {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        match &rec.kind {
            RecordKind::Probe(ev) => self.on_event(cx, ev),
            RecordKind::Acquire(s) | RecordKind::Release(s) | RecordKind::Reserve(s, _) => {
                match self.conn_of_sem(*s) {
                    Some(conn) => self.check_step(cx, conn),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn at_end(&mut self, cx: &Cx<'_>) -> Result<(), String> {
        for (conn, b) in &self.books {
            let s = &cx.ghost.sems[b.sem];
            let in_use = s.held - s.reserved;
            let active = cx.world.conn(*conn).map_or(0, |c| c.streams.len());
            let active = i64::try_from(active).unwrap_or(i64::MAX);
            if s.free + active != i64::from(b.limit) {
                return Err(format!(
                    "connection {conn} ended with {} free permit(s) of {} and {active} active \
                     stream(s), but its limit is {}: {} permit(s) are held by no stream",
                    s.free,
                    s.name,
                    b.limit,
                    i64::from(b.limit) - s.free - active
                ));
            }
            if in_use != i64::from(b.protocol_open) {
                return Err(format!(
                    "connection {conn} ended with {in_use} permit(s) of {} in use but the \
                     protocol counts {} open stream(s)",
                    s.name, b.protocol_open
                ));
            }
        }
        Ok(())
    }
}
