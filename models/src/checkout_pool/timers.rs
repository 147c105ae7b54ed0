//! Per-connection idle timers (`idle_timers`): a connection going idle arms its own timer; the
//! timer task (`timers`) fires the ones due and runs their callbacks, which race checkouts.
//!
//! The shape of Vert.x's pool (eclipse-vertx/vertx-sql-client#883: `setTimer(idleTimeout, v ->
//! handleClosed())` per pooled connection, `idleStop()` cancelling it on checkout), Go's
//! `persistConn.idleTimer` and Netty's `IdleStateHandler`. Stopping a timer that already fired
//! does not stop its callback, so the callback must check that the connection is still idle
//! under the timer it armed (a generation number), as Go's `closeConnIfStillIdle` does.
//! Abstraction: the timer task fires on `timers`, at the logical time the scenario reached.

use super::pool::{Pool, State};
use super::variant::Fix;
use crate::sync::{now, yield_now, CloseReason};

impl Pool {
    /// Arm `conn`'s idle timer (it went idle until `fire_at`).
    pub(super) fn arm_idle_timer(st: &mut State, conn: u32, fire_at: u64) {
        st.next_gen += 1;
        st.timers.insert(conn, (st.next_gen, fire_at));
        st.idle_gen.insert(conn, st.next_gen);
    }

    /// Stop `conn`'s idle timer (it leaves the idle list). A timer that fired already runs on.
    pub(super) fn stop_idle_timer(st: &mut State, conn: u32) {
        st.timers.remove(&conn);
        st.idle_gen.remove(&conn);
    }

    /// `timers`: one pass of the timer task. Every timer due fires; its callback runs after an
    /// await, as a scheduled callback does.
    pub fn fire_timers(&self) {
        let mut st = self.state.lock();
        let t = now();
        let due: Vec<(u32, u32)> = st
            .timers
            .iter()
            .filter(|(_, (_, at))| *at <= t)
            .map(|(c, (generation, _))| (*c, *generation))
            .collect();
        for (conn, _) in &due {
            st.timers.remove(conn);
        }
        drop(st);
        for (conn, generation) in due {
            yield_now("idle timer fires");
            self.on_idle_timer(conn, generation);
        }
    }

    /// The callback of `conn`'s idle timer of generation `generation`: close the connection if
    /// it is still idle under this timer; a stale timer does nothing.
    pub(super) fn on_idle_timer(&self, conn: u32, generation: u32) {
        let mut st = self.state.lock();
        let idle = st.idle.iter().any(|(c, _)| *c == conn);
        let same_timer = st.idle_gen.get(&conn) == Some(&generation);
        let held = st.holders.contains_key(&conn);
        // Bug (idle-timer-closes-in-use): the callback closes the connection whatever happened
        // since the timer fired, so one checked out meanwhile is closed under its holder.
        let buggy = !self.variant.has(Fix::RecheckIdleOnTimer);
        if idle && (same_timer || buggy) {
            st.idle.retain(|(c, _)| *c != conn);
            Self::stop_idle_timer(&mut st, conn);
        } else if held && buggy {
            st.dead.insert(conn);
            st.untrack(conn);
        } else {
            return;
        }
        st.retire(conn);
        drop(st);
        self.changed.notify_all();
        self.close_conn(conn, CloseReason::Expired);
    }
}
