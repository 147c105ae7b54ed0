//! `closed-while-active`: the pool never closes (expires, evicts as surplus, or closes to make
//! room) a connection that carries an in-flight request, and no stream is allocated on a
//! connection the pool already closed.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{CloseReason, Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "closed-while-active",
    holds_when: "the pool never closes, expires or evicts a connection that carries an in-flight \
                 request, and no request opens a stream on a connection the pool closed",
    new: || Box::new(ClosedWhileActive::default()),
};

#[derive(Default)]
struct ClosedWhileActive {
    closed_by_pool: Vec<(u32, CloseReason)>,
}

fn by_pool(reason: CloseReason) -> bool {
    matches!(
        reason,
        CloseReason::Expired | CloseReason::Surplus | CloseReason::MakeRoom
    )
}

impl Monitor for ClosedWhileActive {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::ConnClosed { conn, reason } if by_pool(*reason) => {
                self.closed_by_pool.push((*conn, *reason));
                let c = cx.world.conn(*conn).expect("world saw it");
                if let Some((stream, req)) = c.streams.iter().next() {
                    return Err(format!(
                        "{} closed connection {conn} ({reason:?}) while request {req} is active \
                         on its stream {stream}",
                        cx.actor(rec.actor)
                    ));
                }
            }
            Event::StreamOpened { conn, stream, req } => {
                if let Some((_, reason)) = self.closed_by_pool.iter().find(|(c, _)| c == conn) {
                    return Err(format!(
                        "request {req} opened stream {stream} on connection {conn}, which the \
                         pool already closed ({reason:?})"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
