//! `single-owner`: in a pool whose connections carry one request at a time, a checked-out
//! connection ([`Event::ConnCheckedOut`]) belongs to its request alone until that request checks
//! it in ([`Event::ConnCheckedIn`]).
//!
//! Catches a connection handed to two requests at once, which interleaves their queries or
//! transactions on one socket: a double release that puts the connection on the idle list twice
//! (coopernurse/node-pool#19, brianc/node-pg-pool#115, sidorares/node-mysql2#1280), or a
//! hand-off racing another path that also returns it.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "single-owner",
    holds_when: "a connection checked out of a one-request-at-a-time pool is held by that request \
                 alone until it is checked in",
    new: || Box::new(SingleOwner::default()),
};

#[derive(Default)]
struct SingleOwner {
    /// conn -> the request holding it.
    holder: BTreeMap<u32, u32>,
}

impl Monitor for SingleOwner {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::ConnCheckedOut { conn, req } => {
                if let Some(other) = self.holder.insert(*conn, *req).filter(|o| o != req) {
                    return Err(format!(
                        "{} checked out conn {conn} for request {req} while request {other} \
                         still holds it",
                        cx.actor(rec.actor)
                    ));
                }
            }
            Event::ConnCheckedIn { conn, req } if self.holder.get(conn) == Some(req) => {
                self.holder.remove(conn);
            }
            _ => {}
        }
        Ok(())
    }
}
