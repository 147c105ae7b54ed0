//! Reference-counted connections and their connection task (`conn_tasks`, `drive`).
//!
//! The shape of h2's client (`SendRequest` handles counted by the connection, whose task, the
//! `Connection` future the user spawns, ends the connection once no handle and no stream is
//! left) and of pools that hand out clones of a shared client. Here the pool holds one
//! reference to each connection from its connect until it would have closed it, and each lease
//! one more; the task closes a connection when its count reaches zero. The count's last drop
//! must wake the task: hyperium/h2#502 ("Client connection is not closed after dropping
//! SendRequest"), fixed by hyperium/h2#538 ("Wake up connection when dropping SendRequest").

use super::pool::{Pool, State};
use super::variant::Fix;
use crate::sync::{probe, CloseReason, Event, MutexGuard, Outcome};

impl Pool {
    /// Drop one reference to `conn`: the pool's (with the reason it would have closed it), or
    /// a lease's (`None`). The last one wakes the connection task.
    pub(super) fn drop_ref(&self, st: &mut State, conn: u32, pool_reason: Option<CloseReason>) {
        if let Some(reason) = pool_reason {
            if st.close_reason.insert(conn, reason).is_some() {
                return; // the pool dropped its reference already
            }
        }
        let Some(n) = st.refs.get_mut(&conn) else {
            return;
        };
        *n = n.saturating_sub(1);
        // Bug (drop-skips-wake): a lease's drop, like h2's `SendRequest` drop before #538,
        // updates the count without waking the task that waits for it to reach zero.
        let wakes = pool_reason.is_some() || self.variant.has(Fix::WakeOnLastDrop);
        if *n == 0 && wakes {
            self.refs_dropped.notify_all();
        }
    }

    /// A lease checked in to a pool that is closed (or evicted it): the pool lets go of the
    /// connection's slot and its reference, and the lease's drop is the last thing that
    /// happens to it, as when the last `SendRequest` handle is dropped.
    pub(super) fn release_last(
        &self,
        st: MutexGuard<'_, State>,
        req: u32,
        conn: u32,
        outcome: Outcome,
    ) {
        drop(st);
        probe(Event::StreamClosed { conn, stream: req });
        self.requests.finished(req, outcome);
        let mut st = self.state.lock();
        st.retire(conn);
        self.drop_ref(&mut st, conn, Some(CloseReason::Owner));
        self.drop_ref(&mut st, conn, None);
        drop(st);
        self.changed.notify_all();
    }

    /// `close-pool` with connection tasks: the pool drops its reference to every connection
    /// checked out; each closes when its lease ends.
    pub(super) fn drop_pool_refs(&self, st: &mut State) {
        let held: Vec<u32> = st.holders.keys().copied().collect();
        for conn in held {
            self.drop_ref(st, conn, Some(CloseReason::Owner));
        }
    }

    /// `drive`: the connection task. Close every connection whose last reference is gone,
    /// until the pool is closed and no connection is left or on its way.
    pub fn drive(&self) {
        let mut st = self.state.lock();
        loop {
            let unreferenced = st.refs.iter().find(|(_, n)| **n == 0).map(|(c, _)| *c);
            if let Some(conn) = unreferenced {
                st = self.close_unreferenced(st, conn);
                continue;
            }
            // Done once the pool is closed and holds nothing, not even a slot for a connect
            // still in flight (its connection will need closing too).
            if st.closed && st.refs.is_empty() && st.size <= 0 {
                return;
            }
            st = self.refs_dropped.wait(st);
        }
    }

    fn close_unreferenced<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        conn: u32,
    ) -> MutexGuard<'a, State> {
        st.refs.remove(&conn);
        let reason = st.close_reason.remove(&conn).unwrap_or(CloseReason::Owner);
        drop(st);
        self.close_now(conn, reason);
        self.state.lock()
    }
}
