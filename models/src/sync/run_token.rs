//! The run token: under the std backend, only the actor holding it runs model code.
//!
//! loom and shuttle run one actor at a time and switch only at facade scheduling points, so the
//! code between two scheduling points is atomic, exactly as the code between two awaits is in
//! asyncio. Real threads would break that contract and report interleavings the original cannot
//! have. The std backend therefore passes a token: an actor releases it at every scheduling point
//! (and around every operation that may block), and takes it back to continue. Which thread gets
//! it next is up to the OS: that is the stress test.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The token: `true` while some actor holds it.
#[derive(Default)]
pub(crate) struct RunToken {
    held: Mutex<bool>,
    freed: Condvar,
}

impl RunToken {
    /// Take the token, waiting for it; `aborted` is polled so a failed execution cannot hang here.
    pub(crate) fn acquire(&self, aborted: impl Fn() -> bool) -> Result<(), ()> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        while *held {
            if aborted() {
                return Err(());
            }
            let wait = self.freed.wait_timeout(held, Duration::from_millis(5));
            held = wait.unwrap_or_else(|p| p.into_inner()).0;
        }
        *held = true;
        Ok(())
    }

    /// Give the token back.
    pub(crate) fn release(&self) {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.freed.notify_one();
    }
}
