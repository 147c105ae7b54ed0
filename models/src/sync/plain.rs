//! State that the original touches without any lock.

use super::context::try_exec;
use super::footprint::{Object, StepLog};
use std::sync::Arc;

/// A value the original reads and writes without a lock (asyncio state between two awaits,
/// Go fields the race detector would flag).
///
/// Accessing it is not a scheduling point and is not recorded: under loom and shuttle only one
/// actor runs between two scheduling points, so a `with` call is atomic exactly as the code between
/// two awaits is in asyncio. A data race in a threaded original (read, other thread writes,
/// write back) must therefore be modelled explicitly: `with` to read, a scheduling point
/// (`yield_now`), `with` to write. The std mutex inside only keeps the std backend memory-safe.
///
/// Under the `dpor` backend every access is part of the acting step's footprint: `with` and `set`
/// write the cell, `get` and `read` only read it.
pub struct Plain<T> {
    cell: std::sync::Mutex<T>,
    tracked: Option<(Arc<StepLog>, usize)>,
}

impl<T> Plain<T> {
    /// Wrap a value. Under `dpor` the cell is named after the source line that created it (in
    /// race counts).
    #[track_caller]
    pub fn new(value: T) -> Self {
        let at = std::panic::Location::caller();
        let tracked = try_exec().and_then(|e| {
            let log = e.step_log()?.clone();
            let id = e.new_object();
            log.name(Object::Plain(id), || format!("{}:{}", at.file(), at.line()));
            Some((log, id))
        });
        Plain {
            cell: std::sync::Mutex::new(value),
            tracked,
        }
    }

    /// Read or update the value (atomically with respect to scheduling).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.touch(true);
        f(&mut self.cell.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Look at the value without changing it.
    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.touch(false);
        f(&self.cell.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn touch(&self, write: bool) {
        if let Some((log, id)) = &self.tracked {
            log.touch(Object::Plain(*id), write);
        }
    }
}

impl<T: Clone> Plain<T> {
    /// A copy of the value.
    pub fn get(&self) -> T {
        self.read(T::clone)
    }

    /// Replace the value.
    pub fn set(&self, value: T) {
        self.with(|v| *v = value);
    }
}
