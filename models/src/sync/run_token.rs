//! The run token: under the std backend, only the actor holding it runs model code.
//!
//! loom and shuttle run one actor at a time and switch only at facade scheduling points, so the
//! code between two scheduling points is atomic, exactly as the code between two awaits is in
//! asyncio. Real threads would break that contract and report interleavings the original cannot
//! have. The std backend therefore passes a token: an actor releases it at every scheduling point
//! (and around every operation that may block), and takes it back to continue. Which thread gets
//! it next is up to the OS: that is the stress test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

/// How long one wait for the token lasts before the taker looks again (at the abort flag, and
/// at its patience).
const POLL: Duration = Duration::from_millis(5);

/// The polls in a row without a release after which a taker gives up by default: at least a
/// minute. The holder runs only model code up to its next scheduling point (microseconds), so a
/// token kept this long means that some actor blocked or ended while holding it (a facade bug),
/// and without a bound every actor would wait for ever.
pub(crate) const PATIENCE: u64 = 12_000;

/// What [`RunToken::acquire`] panics with when the thread holding the token takes it again.
pub(crate) const TAKEN_TWICE: &str = "the std backend's run token was taken again by the actor \
    holding it: a scheduling point or blocking operation did not give it back (a facade bug)";

/// Why [`RunToken::acquire`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The execution was aborted while the taker waited.
    Aborted,
    /// Nobody gave the token back through every poll of the taker's patience.
    Exhausted,
}

/// Which thread (std actor) holds the token, and how often it was given back so far.
#[derive(Default)]
struct State {
    holder: Option<ThreadId>,
    releases: u64,
}

/// The token.
pub(crate) struct RunToken {
    state: Mutex<State>,
    freed: Condvar,
    /// Polls a taker waits before it gives up ([`PATIENCE`] unless set).
    patience: AtomicU64,
}

impl Default for RunToken {
    fn default() -> Self {
        RunToken {
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
            patience: AtomicU64::new(PATIENCE),
        }
    }
}

impl RunToken {
    /// Take the token, waiting for it; `aborted` is polled so a failed execution cannot hang
    /// here, and the wait gives up after the token's patience of polls in a row in which
    /// nobody gave it back (a token passed around among other actors is not kept).
    ///
    /// Panics if the calling thread holds the token already: every facade path gives it back
    /// before it takes it again, so a second take is a facade bug (a scheduling point that
    /// kept the token), which would otherwise wait through the whole patience for itself.
    pub(crate) fn acquire(&self, aborted: impl Fn() -> bool) -> Result<(), Refused> {
        let patience = self.patience();
        let me = std::thread::current().id();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.holder == Some(me) {
            drop(state);
            panic!("{TAKEN_TWICE}");
        }
        let (mut polls, mut releases) = (0, state.releases);
        while state.holder.is_some() {
            if aborted() {
                return Err(Refused::Aborted);
            }
            if state.releases != releases {
                (polls, releases) = (0, state.releases);
            }
            if polls == patience {
                return Err(Refused::Exhausted);
            }
            polls += 1;
            let wait = self.freed.wait_timeout(state, POLL);
            state = wait.unwrap_or_else(|p| p.into_inner()).0;
        }
        state.holder = Some(me);
        Ok(())
    }

    /// Give the token back.
    pub(crate) fn release(&self) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.holder = None;
            state.releases += 1;
        }
        self.freed.notify_one();
    }

    /// The polls of 5 ms without a release after which a taker gives up.
    pub(crate) fn patience(&self) -> u64 {
        self.patience.load(Ordering::SeqCst)
    }

    /// Wait at most `polls` polls from now on (unit tests: a hang fails them within seconds).
    #[cfg(test)]
    pub(crate) fn set_patience(&self, polls: u64) {
        self.patience.store(polls, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[path = "run_token_tests.rs"]
mod tests;
