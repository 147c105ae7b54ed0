//! A panic hook that keeps exploration quiet.
//!
//! shuttle installs a process-wide hook on first use that prints "Task failed, serializing
//! schedule" (and shuttle's own schedule) for every panic. Our explorations run on threads of
//! their own and report every panic as a verdict, so the hook stays silent on those threads and
//! hands every other panic to the hook that was installed before shuttle's.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
}

/// Mark the current thread as an exploring one (for its whole life).
pub fn enter_exploring() {
    EXPLORING.with(|e| e.set(true));
}

/// Install the quiet hook once per process (idempotent; composes with other hooks installed
/// before or after it, the harness's included).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        prime_shuttle_hook();
        drop(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            if !EXPLORING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Run one trivial shuttle execution so that shuttle installs its hook now, before ours.
fn prime_shuttle_hook() {
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    let scheduler = shuttle::scheduler::RandomScheduler::new_from_seed(0, 1);
    shuttle::Runner::new(scheduler, config).run(|| {});
}
