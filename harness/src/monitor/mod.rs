//! Invariants, evaluated on every record of the ghost log.
//!
//! Each invariant is a module with one [`Monitor`]; [`registry`] lists them with the sentence
//! that defines them (shown by `poolcheck list` and in reports). A scenario names the invariants
//! it checks; [`MonitorSet`] runs exactly those, after updating the shared [`World`] view.

mod callback_order;
mod closed_while_active;
mod field_race;
mod flow_control_consistent;
mod hpack_consistent;
mod idle_while_active;
mod lock_held_blocking;
mod max_connections;
mod max_streams;
mod no_leak;
mod permit_accounting;
mod request_answered;
mod single_owner;
mod spurious_error;
mod stream_after_goaway;
#[cfg(test)]
mod tests;
mod world;

pub use world::{Activity, ConnView, World};

use poolcheck_models::sync::{Ghost, Observer, Record, RecordKind, Violation};
use std::sync::Arc;

/// What a monitor sees: the raw ghost state and the derived world view.
pub struct Cx<'a> {
    /// Actors, locks, semaphores, clock and the log so far.
    pub ghost: &'a Ghost,
    /// Connections, requests and resources as the probes described them.
    pub world: &'a World,
}

impl Cx<'_> {
    /// The name of an actor, for messages.
    pub fn actor(&self, a: usize) -> &str {
        self.ghost.actors.get(a).map_or("?", |x| x.name.as_str())
    }
}

/// One invariant. `Err` carries the explanation in words.
pub trait Monitor: Send {
    /// Judge one record (already applied to `cx`).
    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String>;
    /// Judge the end state of an execution that completed.
    fn at_end(&mut self, _cx: &Cx<'_>) -> Result<(), String> {
        Ok(())
    }
    /// Does this monitor's judgement depend on where a record of this kind falls among the
    /// other records it reads (so the `dpor` scheduler must explore both orders)? A monitor
    /// that judges each record on its own fields, or only at the end, answers false. The
    /// default, true for everything, is always sound.
    fn reads(&self, _kind: &RecordKind) -> bool {
        true
    }
}

/// An invariant's name, definition and constructor.
#[derive(Clone, Copy)]
pub struct MonitorInfo {
    /// Kebab-case name used in scenario files, CLI and reports.
    pub name: &'static str,
    /// When it holds, in one sentence.
    pub holds_when: &'static str,
    /// A fresh monitor for one execution.
    pub new: fn() -> Box<dyn Monitor>,
}

/// Names that are verdicts but not monitors: raised by the harness itself.
pub const HARNESS_VERDICTS: &[(&str, &str)] = &[
    (
        "bound-hit",
        "every execution finished within its step bound and the exploration within its \
         execution, branch and time bounds (a runaway model or livelock is reported as this, \
         never as a pass)",
    ),
    (
        "model-panic",
        "the model code itself did not panic (a bug in the model, not the pool)",
    ),
];

/// Every invariant poolcheck knows.
pub fn registry() -> Vec<MonitorInfo> {
    vec![
        idle_while_active::INFO,
        closed_while_active::INFO,
        lock_held_blocking::INFO,
        max_connections::INFO,
        no_leak::INFO,
        permit_accounting::INFO,
        request_answered::INFO,
        single_owner::INFO,
        callback_order::INFO,
        stream_after_goaway::INFO,
        max_streams::INFO,
        hpack_consistent::INFO,
        flow_control_consistent::INFO,
        spurious_error::INFO,
        field_race::INFO,
    ]
}

/// Find an invariant by name.
pub fn find(name: &str) -> Option<MonitorInfo> {
    registry().into_iter().find(|m| m.name == name)
}

/// An invariant defined outside poolcheck (the library API's user monitors): the same three
/// parts as a [`MonitorInfo`], owned, with a constructor that may capture configuration.
#[derive(Clone)]
pub struct CustomMonitor {
    /// Kebab-case name, shown as the verdict and in reports; must not be a built-in's.
    pub name: String,
    /// When it holds, in one sentence (shown under the counterexample).
    pub holds_when: String,
    /// A fresh monitor for one execution.
    pub new: Arc<dyn Fn() -> Box<dyn Monitor> + Send + Sync>,
}

impl std::fmt::Debug for CustomMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomMonitor")
            .field("name", &self.name)
            .field("holds_when", &self.holds_when)
            .finish_non_exhaustive()
    }
}

/// The monitors a scenario checks, run as the execution's [`Observer`].
pub struct MonitorSet {
    world: World,
    monitors: Vec<(String, Box<dyn Monitor>)>,
}

impl MonitorSet {
    /// Fresh monitors for the named invariants (unknown names were rejected by the loader).
    pub fn new(names: &[String]) -> Self {
        Self::with_custom(names, &[])
    }

    /// [`MonitorSet::new`], then a fresh monitor of each custom invariant, in order.
    pub fn with_custom(names: &[String], custom: &[CustomMonitor]) -> Self {
        let builtin = names
            .iter()
            .filter_map(|n| find(n))
            .map(|info| (info.name.to_owned(), (info.new)()));
        let custom = custom.iter().map(|c| (c.name.clone(), (c.new)()));
        MonitorSet {
            world: World::default(),
            monitors: builtin.chain(custom).collect(),
        }
    }
}

impl Observer for MonitorSet {
    fn on_record(&mut self, ghost: &Ghost, rec: &Record) -> Result<(), Violation> {
        self.world.apply(rec);
        let cx = Cx {
            ghost,
            world: &self.world,
        };
        for (name, m) in &mut self.monitors {
            m.on_record(&cx, rec).map_err(|message| Violation {
                invariant: name.clone(),
                message,
                actor: Some(rec.actor),
                seq: rec.seq,
            })?;
        }
        Ok(())
    }

    /// One object per monitor that reads the record, and the part of the world view it changes.
    fn ghost_name(&self, k: u64) -> String {
        match usize::try_from(k).ok().and_then(|i| self.monitors.get(i)) {
            Some((name, _)) => format!("monitor {name}"),
            None => World::describe_key(k),
        }
    }

    fn ghost_objects(&self, kind: &RecordKind, touch: &mut dyn FnMut(u64)) {
        for (i, (_, m)) in self.monitors.iter().enumerate() {
            if m.reads(kind) {
                touch(i as u64);
            }
        }
        if let RecordKind::Probe(ev) = kind {
            World::key_of(ev).into_iter().for_each(touch);
        }
    }

    fn at_end(&mut self, ghost: &Ghost) -> Result<(), Violation> {
        let cx = Cx {
            ghost,
            world: &self.world,
        };
        for (name, m) in &mut self.monitors {
            m.at_end(&cx).map_err(|message| Violation {
                invariant: name.clone(),
                message,
                actor: None,
                seq: ghost.log.len().saturating_sub(1),
            })?;
        }
        Ok(())
    }
}
