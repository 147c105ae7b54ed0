//! poolcheck as a library: check a connection pool of your own under loom, shuttle (random and
//! PCT), poolcheck's `dpor` model checker and std threads, with the same invariants,
//! counterexample reports and replays as poolcheck's scenario files.
//!
//! The pool's code is written against [`sync`] and [`thread`], which mirror `std::sync` and
//! `std::thread`, so the pool switches to them with one `use` line, the way tokio's
//! `src/loom` switch does:
//!
//! ```ignore
//! #[cfg(poolcheck)]
//! pub(crate) use poolcheck::{sync::{Arc, Condvar, Mutex}, thread};
//! #[cfg(not(poolcheck))]
//! pub(crate) use std::{sync::{Arc, Condvar, Mutex}, thread};
//! ```
//!
//! (or a Cargo feature instead of `--cfg poolcheck`). A test then hands one execution of the
//! pool to [`Builder::check`]: the closure builds the pool, spawns a few threads that use it,
//! and joins them. Every scheduler in [`Builder::schedulers`] explores interleavings of that
//! closure; an execution that breaks an invariant, deadlocks, exceeds its step bound or panics
//! stops the check with a counterexample: the interleaving as a table, one column per thread,
//! the locks each step holds, and how to replay it.
//!
//! # Writing tests
//!
//! ```
//! use poolcheck::sync::{Arc, Mutex};
//! use poolcheck::{thread, Builder, SchedulerSpec};
//!
//! let mut builder = Builder::new().scheduler(SchedulerSpec::Pct { seed: 1, depth: 2, iterations: 50 });
//! builder.step_bound = 500;
//! builder.check(|| {
//!     let idle = Arc::new(Mutex::new(vec![1, 2]));
//!     let handles: Vec<_> = (0..2)
//!         .map(|_| {
//!             let idle = idle.clone();
//!             thread::spawn(move || {
//!                 let conn = idle.lock().unwrap().pop();
//!                 if let Some(conn) = conn {
//!                     idle.lock().unwrap().push(conn);
//!                 }
//!             })
//!         })
//!         .collect();
//!     for h in handles {
//!         h.join().unwrap();
//!     }
//!     assert_eq!(idle.lock().unwrap().len(), 2);
//! });
//! ```
//!
//! - Create every [`sync`] object inside the closure: each execution makes its own (the
//!   facade binds them to the running scheduler), as with loom.
//! - Join every thread before the closure returns; the end-of-execution invariants run then.
//! - Check with `assert!` in the closure, or report events with [`probe`] and judge them with a
//!   [`Monitor`] of your own ([`Builder::monitor`]), or with the built-in invariants
//!   ([`Builder::invariants`]) on the built-in [`Event`]s.
//! - Budgets are explicit in [`SchedulerSpec`]; [`Builder::default_schedulers`] suits a unit test
//!   of a small pool. Nothing is read from `LOOM_*`, `SHUTTLE_*` or any other variable.
//! - [`Builder::run`] returns every scheduler's result instead of panicking: a test that a
//!   buggy version is caught asserts on it.
//!
//! # User events and invariants
//!
//! A pool reports what its code does with [`probe`]`(`[`UserEvent`]`::new("checked-out")
//! .with("conn", 1))`; a [`Monitor`] sees every record of the execution in order (locks,
//! waits, spawns and events) and returns `Err(explanation)` when the invariant breaks:
//!
//! ```
//! use poolcheck::monitor::{Cx, Monitor, Record};
//! use std::collections::BTreeSet;
//!
//! /// A connection is never held by two checkouts at once.
//! #[derive(Default)]
//! struct SingleHolder(BTreeSet<i64>);
//!
//! impl Monitor for SingleHolder {
//!     fn on_record(&mut self, _cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
//!         let Some(ev) = rec.kind.user_event() else { return Ok(()) };
//!         let conn = ev.get("conn").unwrap_or(-1);
//!         match ev.name {
//!             "checked-out" if !self.0.insert(conn) => Err(format!("conn {conn} checked out twice")),
//!             "checked-in" => { self.0.remove(&conn); Ok(()) }
//!             _ => Ok(()),
//!         }
//!     }
//! }
//!
//! let builder = poolcheck::Builder::new().monitor(
//!     "single-holder",
//!     "a connection is held by at most one checkout at a time",
//!     SingleHolder::default,
//! );
//! # let _ = builder;
//! ```
//!
//! The monitor's name is the verdict, and its sentence is printed under the counterexample.
//!
//! # Debugging failures
//!
//! A failed check panics with the counterexample: the verdict, the interleaving table, the
//! budget that found it and a replay line. With [`Builder::report_dir`] set it also writes
//! `<dir>/<name>/<variant>.<scheduler>.{md,json,html}`, the same reports as `poolcheck run`.
//! Replays are deterministic: the same closure and schedule give the same trace byte for byte.
//! - shuttle and dpor: the replay line carries the schedule (`pc1:...`); pass it as
//!   [`SchedulerSpec::Replay`] (or `DporReplay`) to [`Builder::scheduler`].
//! - loom: its checkpoint is in the JSON report; [`Builder::replay_report`] reads any report.
//! - The counterexample shown is the simplest the harness found near the first one (fewest
//!   preemptions, then steps); a report says what it was simplified from.
//!
//! # Limitations
//! - loom runs at most 4 spawned threads per execution (5 with the closure's own); a check
//!   with more gives `input-error` under loom only. The other schedulers take any number.
//! - No timeouts: [`sync::Condvar`] has no `wait_timeout`, and nothing reads the wall clock;
//!   model time with the logical clock ([`now`], [`advance_clock`]).
//! - Only what goes through [`sync`] and [`thread`] is scheduled: std atomics, channels or
//!   `std::sync::Mutex` inside the pool are invisible to the schedulers (loom and dpor then miss
//!   the interleavings they allow). There are no atomics or channels in [`sync`] yet.
//! - A deadlock is reported as `request-answered` (the built-in invariant that says every
//!   request ends), naming every blocked thread and what it waits for; a panic in the closure
//!   as `model-panic`, whatever its cause.
//! - std threads are a baseline: they may miss a bug and do not replay.
//! - Objects created outside the closure, or used after it returns, panic: they belong to one
//!   execution.

pub mod builder;
mod check;
mod error;
pub mod monitor;
mod naming;
pub mod sync;
pub mod thread;
mod validate;

pub use builder::{Builder, DEFAULT_VARIANT};
pub use check::{Report, SchedulerRun, CLOSURE_MODEL};
pub use error::Error;
pub use monitor::Monitor;
pub use poolcheck_harness::backend::{Bounds, RunResult, SchedulerSpec, Verdict};
pub use poolcheck_harness::report::Counterexample;
pub use poolcheck_models::sync::{advance_clock, now, BlockKind, Event, UserEvent};

use poolcheck_models::sync as facade;

/// Report an event to the invariants: a [`UserEvent`] for your own monitors, or a built-in
/// [`Event`] for the built-in invariants. Not a scheduling point.
pub fn probe(event: impl Into<Event>) {
    facade::probe(event.into());
}

/// Declare that the current thread is about to do something that may block indefinitely (a
/// network write, waiting for a permit): a scheduling point, and what the `lock-held-blocking`
/// invariant judges against the classes of the locks the thread holds.
pub fn blocking(kind: BlockKind, what: &str) {
    facade::blocking(kind, what);
}
