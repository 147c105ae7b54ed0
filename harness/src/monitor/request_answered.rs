//! `request-answered`: every request ends with a response or an error; none hangs.
//!
//! Checked at the end of each completed execution (a request started and never finished), and
//! raised by the harness when a scheduler reports a deadlock or a std-threads run hangs, with
//! every blocked actor and what it waits for.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{Record, RecordKind};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "request-answered",
    holds_when: "every request ends with a response or an error; none hangs (a deadlock is \
                 reported as this, naming each blocked actor and what it waits for)",
    new: || Box::new(RequestAnswered),
};

struct RequestAnswered;

impl Monitor for RequestAnswered {
    /// Judged at the end only, or each record on its own fields: no order to explore.
    fn reads(&self, _kind: &RecordKind) -> bool {
        false
    }

    fn on_record(&mut self, _cx: &Cx<'_>, _rec: &Record) -> Result<(), String> {
        Ok(())
    }

    fn at_end(&mut self, cx: &Cx<'_>) -> Result<(), String> {
        match cx.world.requests.iter().find(|(_, o)| o.is_none()) {
            Some((req, _)) => Err(format!("request {req} was started and never answered")),
            None => Ok(()),
        }
    }
}
