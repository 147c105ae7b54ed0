//! `max-connections`: a pool never has more connections open (being created, idle or in use)
//! than its configured limit, as reported by [`Event::PoolLimit`].
//!
//! Catches capacity checks and reservations made in separate critical sections
//! (mongodb/mongo-java-driver#127, deadpool-rs/deadpool#205).

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Event, Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "max-connections",
    holds_when: "a pool never has more connections open (connecting, idle or in use) than its \
                 configured limit",
    new: || Box::new(MaxConnections::default()),
};

#[derive(Default)]
struct MaxConnections {
    limit: Option<u32>,
}

impl Monitor for MaxConnections {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::PoolLimit { max_connections } => self.limit = Some(*max_connections),
            Event::ConnCreated { conn } => {
                let open = cx.world.conns.values().filter(|c| !c.closed).count();
                if let Some(limit) = self.limit.filter(|l| open > *l as usize) {
                    return Err(format!(
                        "{} created connection {conn}: {open} connections are now open, above \
                         the pool's limit of {limit}",
                        cx.actor(rec.actor)
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}
