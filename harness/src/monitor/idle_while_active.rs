//! `idle-while-active`: no connection is Idle (and so expirable or evictable) while a request is
//! active on it: from the pool assigning or checking it out for the request (assigned but not
//! started counts, unless the request's own actor moves its connection to Idle on its way to
//! the stream) to the response's close.
//!
//! Checked in both orders: a connection entering Idle while it carries a stream, and a stream
//! being allocated on a connection whose state says Idle (encode/httpcore#1062: the last stream's
//! close marks the connection IDLE after a new request set ACTIVE but before it registered its
//! stream).

use super::{Activity, Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ConnPhase, Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "idle-while-active",
    holds_when: "no connection is Idle, expirable or evictable while a request is active on it, \
                 from its assignment (assigned but not started counts, when another actor sets it Idle) to \
                 the response's close",
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
                // A request's own actor may set its connection Idle before the request starts
                // its stream (httpcore's handshake does); another actor may not.
                let victim = cx.world.active_on(*conn).into_iter().find(|(req, how)| {
                    matches!(how, Activity::Stream(_))
                        || cx.world.started_by.get(req) != Some(&rec.actor)
                });
                if let Some((req, how)) = victim {
                    return Err(format!(
                        "{} set connection {conn} Idle (expire_at {expire_at:?}) while request \
                         {req} {}",
                        cx.actor(rec.actor),
                        how.describe()
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
