//! `no-leak`: at the end of every execution, every resource the model opened (transport, pipe,
//! background task, half-open connection) is closed; every connection is closed or back in the
//! pool (Idle), none stuck Active or Connecting; every semaphore permit a request took was given
//! back (only the structure's own reserved permits may remain held).

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ConnPhase, Record};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "no-leak",
    holds_when: "at the end of every execution every connection, transport, task and permit is \
                 closed or back in the pool",
    new: || Box::new(NoLeak),
};

struct NoLeak;

impl Monitor for NoLeak {
    fn on_record(&mut self, _cx: &Cx<'_>, _rec: &Record) -> Result<(), String> {
        Ok(())
    }

    fn at_end(&mut self, cx: &Cx<'_>) -> Result<(), String> {
        if let Some((kind, id)) = cx.world.open_resources.iter().next() {
            return Err(format!("{kind} {id} was opened and never closed"));
        }
        for (n, c) in &cx.world.conns {
            if matches!(c.phase, ConnPhase::Active | ConnPhase::Connecting) && !c.closed {
                return Err(format!(
                    "connection {n} ended the execution {:?} with {} stream(s): neither closed \
                     nor back in the pool",
                    c.phase,
                    c.streams.len()
                ));
            }
        }
        for s in &cx.ghost.sems {
            if s.held != s.reserved {
                return Err(format!(
                    "semaphore {} ended with {} permit(s) held by requests that never released \
                     them ({} held, {} reserved by the structure)",
                    s.name,
                    s.held - s.reserved,
                    s.held,
                    s.reserved
                ));
            }
        }
        Ok(())
    }
}
