//! Which scheduler runs the current execution.

/// The scheduler behind every facade primitive created during one execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Real OS threads and `std::sync`: the stress-test baseline.
    Std,
    /// loom: exhaustive exploration with a preemption bound.
    Loom,
    /// shuttle: random, PCT, DFS and replayed schedules, with facade-owned blocking
    /// (`controlled`), so the facade itself sees a deadlock.
    Shuttle,
    /// poolcheck's `dpor` scheduler on shuttle's execution engine: facade-owned blocking
    /// (`controlled`), as under shuttle, and step footprints.
    Dpor,
}

/// A backend-specific thread identity, used to map the running thread to its logical actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tid {
    Std(std::thread::ThreadId),
    Loom(loom::thread::ThreadId),
    Shuttle(shuttle::thread::ThreadId),
}

impl Backend {
    /// The identity of the thread running now, in this backend's terms.
    pub(crate) fn current_tid(self) -> Tid {
        match self {
            Backend::Std => Tid::Std(std::thread::current().id()),
            Backend::Loom => Tid::Loom(loom::thread::current().id()),
            Backend::Shuttle | Backend::Dpor => Tid::Shuttle(shuttle::thread::current().id()),
        }
    }
}

/// A per-execution object that every [`crate::sync::yield_now`] touches.
///
/// loom prunes interleavings of independent objects (DPOR), and the code between two awaits of
/// an async original often touches unlocked shared state (httpcore's `_events` dict). Making every
/// yield an access to this one atomic makes all yields mutually dependent, so loom explores the
/// order of any two awaits; under shuttle it is a plain scheduling point without the
/// "is yielding" hint that would deprioritise the task under PCT.
pub(crate) enum Token {
    Std,
    Loom(loom::sync::atomic::AtomicUsize),
    Shuttle(shuttle::sync::atomic::AtomicUsize),
}

impl Token {
    pub(crate) fn new(backend: Backend) -> Self {
        match backend {
            Backend::Std => Token::Std,
            Backend::Loom => Token::Loom(loom::sync::atomic::AtomicUsize::new(0)),
            Backend::Shuttle | Backend::Dpor => {
                Token::Shuttle(shuttle::sync::atomic::AtomicUsize::new(0))
            }
        }
    }

    /// One scheduling point.
    pub(crate) fn touch(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        match self {
            Token::Std => std::thread::yield_now(),
            Token::Loom(a) => {
                a.fetch_add(1, SeqCst);
            }
            Token::Shuttle(a) => {
                a.fetch_add(1, SeqCst);
            }
        }
    }
}
