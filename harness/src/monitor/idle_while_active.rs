//! `idle-while-active`: no connection is Idle (and so expirable or evictable) while a request is
//! between stream allocation and response close on it.
//!
//! Checked in both orders: a connection entering Idle while it carries a stream, and a stream
//! being allocated on a connection whose state says Idle (encode/httpcore#1062: the last stream's
//! close marks the connection IDLE after a new request set ACTIVE but before it registered its
//! stream).

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ConnPhase, Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "idle-while-active",
    holds_when: "no connection is Idle, expirable or evictable while a request is between stream \
                 allocation and response close on it",
    new: || Box::new(IdleWhileActive),
};

struct IdleWhileActive;

impl Monitor for IdleWhileActive {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::ConnPhase {
                conn,
                phase: ConnPhase::Idle { expire_at },
            } => {
                let c = cx.world.conn(*conn).expect("world saw it");
                if let Some((stream, req)) = c.streams.iter().next() {
                    return Err(format!(
                        "{} set connection {conn} Idle (expire_at {expire_at:?}) while request \
                         {req} is active on its stream {stream}",
                        cx.actor(rec.actor)
                    ));
                }
            }
            Event::StreamOpened { conn, stream, req } => {
                let c = cx.world.conn(*conn).expect("world saw it");
                if let ConnPhase::Idle { expire_at } = c.phase {
                    return Err(format!(
                        "request {req} opened stream {stream} on connection {conn}, whose state \
                         is Idle (expire_at {expire_at:?}): the pool may expire or evict it \
                         under the request"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
