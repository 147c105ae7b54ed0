//! The logical clock. Nothing in a model reads the wall clock: keep-alive expiry and timeouts
//! compare against [`now`], and time moves only when an actor calls [`advance_clock`], a
//! scheduling point whose position in the schedule the scheduler explores.

use super::context::exec;
use super::footprint::Object;
use super::record::RecordKind;

/// The logical time now.
pub fn now() -> u64 {
    let e = exec();
    e.touch(Object::Clock, false);
    let t = e.lock_ghost().clock;
    t
}

/// Move the logical clock forward by `by` units (a scheduling point).
pub fn advance_clock(by: u64) {
    let e = exec();
    e.check_aborted();
    e.scheduling_point();
    let t = e.lock_ghost().clock + by;
    e.record(e.actor_of_current(), RecordKind::Clock(t));
}
