//! Threads that mirror `std::thread`, backed by poolcheck's facade: each is a logical actor, a
//! column of the interleaving table, scheduled by the checker.
//!
//! Spawn threads only inside a check's closure, and join every one before the closure returns:
//! the end-of-execution invariants run once every thread has been joined.

use crate::naming::caller_name;
use poolcheck_models::sync as facade;
use std::panic::Location;

/// Spawn a thread, named in traces after its number and the line that calls this
/// (`t1@pool.rs:42`: threads spawned in a loop get distinct columns).
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_named(&numbered(Location::caller()), f)
}

/// `t<actor id>@<file>:<line>`.
fn numbered(at: &Location<'_>) -> String {
    format!("t{}@{}", facade::actor_count(), caller_name(at))
}

fn spawn_named<F, T>(name: &str, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    JoinHandle {
        inner: facade::spawn(name, f),
    }
}

/// A scheduling point and nothing else: let another thread run.
pub fn yield_now() {
    facade::yield_now("yield_now");
}

/// The handle of a spawned thread.
pub struct JoinHandle<T> {
    inner: facade::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    /// Wait for the thread to finish (a scheduling point). A panic in the thread stops the
    /// execution and is reported, so this returns `Ok` whenever it returns.
    pub fn join(self) -> std::thread::Result<T> {
        Ok(self.inner.join())
    }
}

/// Thread factory with the API of [`std::thread::Builder`] (only the name is configurable).
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    /// A builder for a thread named like [`spawn`] names it.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Name the thread (its column in traces).
    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    /// Spawn the thread; never fails (the `io::Result` is std's signature).
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = self.name.unwrap_or_else(|| numbered(Location::caller()));
        Ok(spawn_named(&name, f))
    }
}
