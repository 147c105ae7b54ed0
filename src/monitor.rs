//! Invariants of your own: a [`Monitor`] judges every record of an execution.
//!
//! These are the harness's own types (the built-in invariants are monitors too): a record
//! says who did what ([`RecordKind`]: locks, waits, spawns, [`RecordKind::Probe`] events), the
//! [`Cx`] gives the whole ghost state so far and the built-in [`World`] view of connections
//! and requests.

pub use poolcheck_harness::monitor::{ConnView, CustomMonitor, Cx, Monitor, World};
pub use poolcheck_models::sync::{ActorId, Ghost, Record, RecordKind};
