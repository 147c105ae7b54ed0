//! The sync facade: the only way model code touches concurrency, time or ghost state.
//!
//! Model code is plain Rust written once against these types. Which real primitive sits behind
//! each one (std, loom or shuttle) is chosen at run time from the [`Backend`] that the harness
//! installed for the current execution, so one test binary explores the same model under all
//! three schedulers without `--cfg loom`. We chose run-time dispatch over a generic `Rt` trait
//! with GATs because it keeps every model free of a type parameter and of `R::Mutex<T>` noise;
//! the cost is one `match` per primitive operation, negligible next to the schedulers' own work.
//!
//! The facade is also the single instrumentation point. Every operation appends a [`Record`] to
//! the execution's ghost log (std primitives only, so recording adds no scheduling point) and
//! hands it to the harness's [`Observer`], which evaluates the invariants:
//! - locks are created with a name and a [`LockClass`]; the log knows which locks each actor holds;
//! - locks and semaphores have the fairness and suspension points of the runtime a model
//!   reimplements (its [`Flavour`]: std, Go, asyncio, anyio);
//! - [`blocking`] declares an operation that may block indefinitely (a scheduling point);
//! - [`probe`] records ghost events (not a scheduling point);
//! - [`yield_now`] is one `await` of an async original (a scheduling point);
//! - [`now`] / [`advance_clock`] are a logical clock; nothing reads the wall clock.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

mod backend;
mod clock;
mod condvar;
mod context;
mod controlled;
mod deadlock;
mod event;
#[cfg(test)]
mod facade_tests;
mod fair;
mod flavour;
#[cfg(test)]
mod flavour_tests;
mod footprint;
mod mutex;
mod plain;
mod record;
mod run_token;
mod semaphore;
#[cfg(test)]
mod shuttle_tests;
mod slot;
#[cfg(test)]
pub(crate) mod test_exec;
mod thread;

pub use backend::Backend;
pub use clock::{advance_clock, now};
pub use condvar::Condvar;
pub use context::{
    actor_count, current_actor, install, install_traced, probe, probe_phase, try_current_actor,
    uninstall, Aborted, Exec, ExecGuard, Observer, ViolationPanic,
};
pub use deadlock::{deadlock_violation, FACADE_DEADLOCK, SCHEDULER_DEADLOCK};
pub use event::{CallbackKind, CloseReason, ConnPhase, Event, Outcome, UserEvent};
pub use flavour::{use_flavour, Flavour};
pub use footprint::{Access, Footprint, Object, Pending, Step, StepLog};
pub use mutex::{Mutex, MutexGuard};
pub use plain::Plain;
pub use record::{
    ActorId, ActorInfo, BlockKind, Ghost, LockClass, LockId, LockInfo, Record, RecordKind, SemId,
    SemInfo, Violation, WaitFor,
};
pub use semaphore::Semaphore;
pub use slot::{SlotGuard, SlotLock};
pub use thread::{blocking, spawn, yield_now, JoinHandle};
