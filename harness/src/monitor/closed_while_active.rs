//! `closed-while-active`: no connection is closed, whatever the reason (the pool expiring or
//! evicting it, its owner closing it, an error path or a cancellation path), while a request of
//! another actor is active on it: from the pool checking it out to the request (checked out but
//! not started counts) or the request's stream opening, to the request's end. And no stream is
//! opened on a connection already closed.
//!
//! A request may close its own connection (discard, its own cancellation or error path); the
//! end-of-run teardown on the main actor is judged by `no-leak` and `request-answered`; and a
//! shared connection merely assigned to a request that has not started may be closed (httpcore
//! then retries the request on another connection).

use super::{Activity, Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{CloseReason, Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "closed-while-active",
    holds_when: "no connection is closed, for any reason (expiry, eviction, its owner, an error \
                 or cancellation path), while another actor's request is active on it (checked \
                 out but not started counts), and no stream is opened on a closed connection",
    new: || Box::new(ClosedWhileActive::default()),
};

/// The execution's main actor, which runs the end-of-run teardown.
const MAIN: usize = 0;

#[derive(Default)]
struct ClosedWhileActive {
    closed: Vec<(u32, CloseReason)>,
}

impl Monitor for ClosedWhileActive {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::ConnClosed { conn, reason } => {
                self.closed.push((*conn, *reason));
                if rec.actor == MAIN {
                    return Ok(());
                }
                // A shared connection merely assigned to a request that has not started may
                // go: httpcore retries such a request on another connection.
                let victim = cx.world.active_on(*conn).into_iter().find(|(req, how)| {
                    !matches!(how, Activity::Assigned)
                        && cx.world.started_by.get(req) != Some(&rec.actor)
                });
                if let Some((req, how)) = victim {
                    return Err(format!(
                        "{} closed connection {conn} ({reason:?}) while request {req} {}",
                        cx.actor(rec.actor),
                        how.describe()
                    ));
                }
            }
            Event::StreamOpened { conn, stream, req } => {
                if let Some((_, reason)) = self.closed.iter().find(|(c, _)| c == conn) {
                    return Err(format!(
                        "request {req} opened stream {stream} on connection {conn}, which was \
                         already closed ({reason:?})"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
