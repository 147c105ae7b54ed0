//! State that the original touches without any lock.

/// A value the original reads and writes without a lock (asyncio state between two awaits,
/// Go fields the race detector would flag).
///
/// Accessing it is not a scheduling point and is not recorded: under loom and shuttle only one
/// actor runs between two scheduling points, so a `with` call is atomic exactly as the code between
/// two awaits is in asyncio. A data race in a threaded original (read, other thread writes,
/// write back) must therefore be modelled explicitly: `with` to read, a scheduling point
/// (`yield_now`), `with` to write. The std mutex inside only keeps the std backend memory-safe.
pub struct Plain<T> {
    cell: std::sync::Mutex<T>,
}

impl<T> Plain<T> {
    /// Wrap a value.
    pub fn new(value: T) -> Self {
        Plain {
            cell: std::sync::Mutex::new(value),
        }
    }

    /// Read or update the value (atomically with respect to scheduling).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.cell.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl<T: Clone> Plain<T> {
    /// A copy of the value.
    pub fn get(&self) -> T {
        self.with(|v| v.clone())
    }

    /// Replace the value.
    pub fn set(&self, value: T) {
        self.with(|v| *v = value);
    }
}
