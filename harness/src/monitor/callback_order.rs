//! `callback-order`: every transport's protocol callbacks follow the asyncio protocol state
//! machine (PEP 3156, "Protocols"):
//!
//! ```text
//!   (start) --connection_made--> MADE --connection_lost--> LOST (final)
//!                                 |  ^
//!                                 +--+ data_received / pipe_data_received,
//!                                      process_exited / pipe_connection_lost / eof_received
//! ```
//!
//! `connection_made` comes first and once; data and exit callbacks only between it and
//! `connection_lost`; `connection_lost` at most once, and nothing after it; and by the end of
//! the execution (the loop drained) exactly once for a protocol that saw `connection_made` if
//! its transport was closed (PEP 3156: it is called when the connection is closed or lost). A
//! transport whose callbacks never start (a failed connection attempt) satisfies it. Judged on
//! every [`Event::Callback`], per transport number, and at the end.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{CallbackKind, Event, Record, RecordKind};
use std::collections::BTreeMap;

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "callback-order",
    holds_when: "every transport's protocol sees connection_made first and once, data and exit \
                 callbacks only after it, and connection_lost last, exactly once by the end of \
                 the execution once connection_made ran and the transport was closed",
    new: || Box::new(CallbackOrder::default()),
};

/// Where one transport's protocol is in its state machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Start,
    Made,
    Lost,
}

#[derive(Default)]
struct CallbackOrder {
    transports: BTreeMap<u32, Phase>,
}

fn name(kind: CallbackKind) -> &'static str {
    match kind {
        CallbackKind::Made => "connection_made",
        CallbackKind::Data => "a data callback",
        CallbackKind::Exited => "an exit/EOF callback",
        CallbackKind::Lost => "connection_lost",
    }
}

/// The next phase, or why `kind` may not run in `phase`.
fn step(phase: Phase, kind: CallbackKind) -> Result<Phase, &'static str> {
    match (phase, kind) {
        (Phase::Start, CallbackKind::Made) => Ok(Phase::Made),
        (Phase::Start, _) => Err("before connection_made"),
        (Phase::Made, CallbackKind::Made) => Err("a second time"),
        (Phase::Made, CallbackKind::Lost) => Ok(Phase::Lost),
        (Phase::Made, _) => Ok(Phase::Made),
        (Phase::Lost, CallbackKind::Lost) => Err("a second time, after connection_lost"),
        (Phase::Lost, _) => Err("after connection_lost"),
    }
}

impl Monitor for CallbackOrder {
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(Event::Callback { transport, kind }) = &rec.kind else {
            return Ok(());
        };
        let phase = self.transports.entry(*transport).or_default();
        match step(*phase, *kind) {
            Ok(next) => {
                *phase = next;
                Ok(())
            }
            Err(when) => Err(format!(
                "transport {transport}'s protocol ran {} {when} (run by {})",
                name(*kind),
                cx.actor(rec.actor)
            )),
        }
    }

    /// By the end of an execution the loop has run what every close scheduled, so the protocol
    /// of a closed transport that saw `connection_made` must have seen `connection_lost`. A
    /// transport still open at the end is `no-leak`'s to judge.
    fn at_end(&mut self, cx: &Cx<'_>) -> Result<(), String> {
        let closed = |t: u32| !cx.world.open_resources.contains(&("transport", t));
        let unfinished = self
            .transports
            .iter()
            .find(|(t, p)| **p == Phase::Made && closed(**t));
        match unfinished {
            Some((transport, _)) => Err(format!(
                "transport {transport} was closed and its protocol saw connection_made, but never \
                 connection_lost"
            )),
            None => Ok(()),
        }
    }
}
