//! `field-race`: no field of the original is used by two actors at once, one of them storing,
//! where no lock excludes the two uses: what Go's race detector reports.
//!
//! A model brackets a use of such a field with [`Event::FieldEnter`] / [`Event::FieldExit`] once
//! its uses so far held locks that do not all intersect (a lockset check in the manner of
//! Eraser, Savage et al., SOSP 1997), with a scheduling point inside, so the explorer can run
//! another use inside it; correctly locked fields are never bracketed. An enter while another
//! actor is inside, either of the two storing, is the race. The HPACK encoder's own uses are
//! judged the same way by `hpack-consistent`.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ActorId, Event, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "field-race",
    holds_when: "no field of the original that no common lock guards is used by two actors at \
                 once with one of them storing (Go's race detector's data race)",
    new: || Box::new(FieldRace::default()),
};

#[derive(Default)]
struct FieldRace {
    /// Who is inside each (conn, field), and whether it stores: every actor inside, since two
    /// loads may overlap and a store racing the first of them must still be seen when the
    /// second has left.
    inside: BTreeMap<(u32, &'static str), Vec<(ActorId, bool)>>,
}

impl Monitor for FieldRace {
    fn reads(&self, kind: &RecordKind) -> bool {
        matches!(
            kind,
            RecordKind::Probe(Event::FieldEnter { .. } | Event::FieldExit { .. })
        )
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        match &rec.kind {
            RecordKind::Probe(Event::FieldEnter { conn, field, write }) => {
                let inside = self.inside.entry((*conn, *field)).or_default();
                let racing = inside
                    .iter()
                    .find(|(a, stores)| *a != rec.actor && (*write || *stores));
                if let Some((other, stores)) = racing {
                    let verb = |w: bool| if w { "stores" } else { "loads" };
                    return Err(format!(
                        "{} {} connection {conn}'s {field} while {} {} it, and no lock \
                         excludes the two uses (a data race)",
                        cx.actor(rec.actor),
                        verb(*write),
                        cx.actor(*other),
                        verb(*stores)
                    ));
                }
                inside.push((rec.actor, *write));
            }
            RecordKind::Probe(Event::FieldExit { conn, field }) => {
                if let Some(inside) = self.inside.get_mut(&(*conn, *field)) {
                    inside.retain(|(a, _)| *a != rec.actor);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
