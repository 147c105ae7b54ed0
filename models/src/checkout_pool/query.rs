//! Requests on a connection already in hand, and cancellation at their awaits.
//!
//! `use` is the lease's own awaits; `query` is a follow-up request on the leased connection, the
//! shape of a database or Redis client running commands on a connection it checked out: send a
//! command (a write, an await), then read its reply (an await). Every await is a cancellation
//! point: a `cancel` aimed at the actor lands at whichever await the schedule puts it, and a
//! scenario can name one with `cancel_at`. A connection remembers the commands whose replies it
//! has not read yet, so a connection given back with a reply pending hands the next user that
//! reply instead of its own (redis/redis-py#2624).

use super::pool::Pool;
use super::variant::Fix;
use crate::sync::{blocking, probe, yield_now, BlockKind, CloseReason, Event, Outcome};
use std::collections::VecDeque;

impl Pool {
    /// `use`: `steps` awaits on the connection of lease `lease`. A cancellation observed at one
    /// ends the lease `Cancelled` and checks the connection in (nothing is pending on it).
    /// Whether the connection is still in hand.
    pub fn use_conn(
        &self,
        actor: &str,
        (lease, conn): (u32, u32),
        steps: i64,
        cancel_at: Option<&'static str>,
    ) -> bool {
        // Only a lease something may cancel looks at the flag (no scheduling point otherwise).
        let observes = cancel_at.is_some() || self.cancel_targets.contains(actor);
        if let Some(point) = cancel_at {
            self.state.lock().cancels.cancel_at(lease, point);
        }
        for _ in 0..steps {
            yield_now("use connection");
            if observes && self.state.lock().reach(lease, "use") {
                self.checkin_with(lease, conn, Outcome::Cancelled);
                return false;
            }
        }
        true
    }

    /// `query`: request `req` sends a command on the connection of lease `lease` and reads its
    /// reply, cancellable at the send (`send`: nothing written) and at the read (`reply`: the
    /// reply stays unread on the connection). Whether the connection is still in hand.
    pub fn query(
        &self,
        actor: &str,
        req: u32,
        (lease, conn): (u32, u32),
        cancel_at: Option<&'static str>,
    ) -> bool {
        self.requests.started(req);
        probe(Event::RequestAssigned { req, conn });
        let mut st = self.state.lock();
        st.busy.insert(actor.to_owned(), req);
        if let Some(point) = cancel_at {
            st.cancels.cancel_at(req, point);
        }
        drop(st);
        blocking(BlockKind::NetWrite, "send command");
        self.requests.stall();
        yield_now("send command");
        let mut st = self.state.lock();
        let cancelled_sending = st.reach(req, "send");
        if cancelled_sending {
            st.busy.insert(actor.to_owned(), lease);
            drop(st);
            self.requests.finished(req, Outcome::Cancelled);
            return true;
        }
        st.unread.entry(conn).or_default().push_back(req);
        drop(st);
        yield_now("read reply");
        let mut st = self.state.lock();
        st.busy.insert(actor.to_owned(), lease);
        if st.reach(req, "reply") {
            drop(st);
            return self.cancelled_reading(req, (lease, conn));
        }
        let reply = st.unread.get_mut(&conn).and_then(VecDeque::pop_front);
        drop(st);
        let outcome = match reply {
            Some(r) if r == req => Outcome::Response,
            Some(r) => Outcome::Error(format!(
                "read the reply to request {r}: the connection is out of sync"
            )),
            None => Outcome::Error("no reply on the connection".into()),
        };
        self.requests.finished(req, outcome);
        true
    }

    /// Cancelled while reading: the reply is still on its way. Fixed (redis-py's
    /// `Connection.read_response`: `except BaseException: await self.disconnect(); raise`,
    /// quoted in redis/redis-py#2665): the connection is closed, and the lease, whose task the
    /// cancellation unwinds, ends cancelled with it.
    fn cancelled_reading(&self, req: u32, (lease, conn): (u32, u32)) -> bool {
        self.requests.finished(req, Outcome::Cancelled);
        if !self.variant.has(Fix::DisconnectOnCancelledRead) {
            // Bug (redis/redis-py#2624): the lease goes on, and back to the pool, with the
            // reply unread.
            return true;
        }
        let mut st = self.state.lock();
        st.unread.remove(&conn);
        st.cancel(lease);
        drop(st);
        self.close_held(lease, conn, Outcome::Cancelled, CloseReason::Owner);
        false
    }
}
