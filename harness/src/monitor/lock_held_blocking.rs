//! `lock-held-blocking`: no operation that may block indefinitely (network write or flush,
//! waiting for a permit or for flow control...) runs while the actor holds a lock whose class
//! forbids that kind of blocking (a connection-state mutex, a pool lock).
//!
//! Judged when the operation is declared, whether or not it then actually blocks, so it catches
//! golang/go#32388 even in schedules where nothing deadlocks.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "lock-held-blocking",
    holds_when: "no blocking operation (network write/flush, permit or flow-control wait) runs \
                 while a lock whose class forbids it is held",
    new: || Box::new(LockHeldBlocking),
};

struct LockHeldBlocking;

impl Monitor for LockHeldBlocking {
    /// Each `blocking` record is judged against its own actor's locks: no order to explore.
    fn reads(&self, _kind: &RecordKind) -> bool {
        false
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Blocking(kind, what) = &rec.kind else {
            return Ok(());
        };
        let offending = cx
            .ghost
            .locks_in(rec.held)
            .find(|(_, l)| l.class.forbids.contains(kind));
        match offending {
            Some((_, lock)) => Err(format!(
                "{} performs a blocking {} ({what}) while holding {} (class `{}`, which must \
                 never be held across {})",
                cx.actor(rec.actor),
                kind.name(),
                lock.name,
                lock.class.name,
                kind.name()
            )),
            None => Ok(()),
        }
    }
}
