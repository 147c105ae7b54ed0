//! `idle-while-active`: no connection is Idle (and so expirable or evictable) while a request is
//! active on it: from the pool checking it out to the request (checked out but not started
//! counts, and so does a follow-up request on it) or the request's stream opening, to the
//! response's close. A shared connection merely assigned to a request that has not started
//! may be Idle: httpcore's are, between their handshake and a request activating them.
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
                 from its check-out (checked out but not started counts) or its stream's \
                 opening to the response's close",
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
                // A shared connection assigned to a request that has not started may be Idle
                // (httpcore's connections are, after their handshake, until a request
                // activates them); one checked out to its caller never may.
                let victim = cx
                    .world
                    .active_on(*conn)
                    .into_iter()
                    .find(|(_, how)| !matches!(how, Activity::Assigned));
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
