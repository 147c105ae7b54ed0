//! A panic hook that keeps exploration quiet.
//!
//! Violations stop executions by unwinding, thousands of times per second under exploration;
//! the default hook would print each one. shuttle also installs a process-wide hook on first use
//! that prints "Task failed, serializing schedule" for every panic, loom's internal unwinding
//! included. We let shuttle install its hook first, then replace it: panics on threads that are
//! exploring are silent (the harness reports them as verdicts), all others go to the hook that
//! was installed before shuttle's, or, while [`super::stderr`] silences fd 2, are written in the
//! default hook's words to the original stderr.

use poolcheck_models::sync::{Aborted, ViolationPanic};
use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as exploring while alive: its panics are verdicts, not messages.
pub struct Exploring(bool);

impl Exploring {
    /// Mark the current thread until the value is dropped.
    pub fn enter() -> Self {
        Exploring(EXPLORING.with(|e| e.replace(true)))
    }
}

impl Drop for Exploring {
    fn drop(&mut self) {
        EXPLORING.with(|e| e.set(self.0));
    }
}

/// Install the quiet hook once per process (idempotent).
pub fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // shuttle's hook prints "Task failed, serializing schedule" for every panic in the
        // process, tests' own assertion failures included: keep the hook that was there before
        // it and drop shuttle's.
        let previous = std::panic::take_hook();
        prime_shuttle_hook();
        drop(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            let ours = info.payload().is::<ViolationPanic>() || info.payload().is::<Aborted>();
            if ours || EXPLORING.with(Cell::get) {
                return;
            }
            if super::stderr::is_silenced() {
                super::stderr::eprint_original(&describe(info));
            } else {
                previous(info);
            }
        }));
    });
}

/// What the default hook prints, for a panic while stderr is silenced.
fn describe(info: &std::panic::PanicHookInfo<'_>) -> String {
    let thread = std::thread::current();
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".into());
    let at = info.location().map_or(String::new(), |l| {
        format!(" at {}:{}:{}", l.file(), l.line(), l.column())
    });
    format!(
        "thread '{}' panicked{at}:\n{message}\n",
        thread.name().unwrap_or("<unnamed>")
    )
}

/// Run one trivial shuttle execution so that shuttle installs its own hook now, before ours.
fn prime_shuttle_hook() {
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    let scheduler = shuttle::scheduler::RandomScheduler::new_from_seed(0, 1);
    shuttle::Runner::new(scheduler, config).run(|| {});
}
