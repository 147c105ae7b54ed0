//! The pool: capacity counter, idle list, waiters with direct hand-off, cancellation, reaper.
//!
//! One state lock (`pool.lock`, class `pool`: no blocking operation may run under it) guards
//! everything; creating and closing connections happen outside it, as in every pool cited in
//! [`super::variant`]. Cancellation is cooperative, like a context or a future: a canceller marks
//! the checkout, and the checkout observes it at its next wait or await.

use super::variant::{Fix, Variant};
use crate::sync::{
    blocking, now, probe, yield_now, BlockKind, CloseReason, Condvar, ConnPhase, Event, LockClass,
    Mutex, MutexGuard, Outcome,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The pool's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Connections open at most (idle, in use, or being created).
    pub max_size: u32,
    /// Logical time an idle connection may stay before the reaper closes it.
    pub idle_timeout: u64,
    /// Awaits a connection takes to establish.
    pub create_steps: u32,
    /// The first this-many connection attempts fail (the server is down, then back).
    pub connect_failures: u32,
    /// Logical time a connection may live from its creation (0: forever).
    pub max_lifetime: u64,
}

#[derive(Default)]
struct State {
    size: i64,
    next_conn: u32,
    idle: VecDeque<(u32, u64)>,
    waiters: VecDeque<u32>,
    delivered: BTreeMap<u32, u32>,
    pending: BTreeMap<String, u32>,
    cancelled: BTreeSet<u32>,
    /// conn -> the request holding it (checked out, not yet checked in).
    holders: BTreeMap<u32, u32>,
    /// Requests whose connection attempt failed.
    failed: BTreeSet<u32>,
    /// conn -> when it was established (for `max_lifetime`).
    born: BTreeMap<u32, u64>,
    /// Checked-out connections past their lifetime, to be closed at check-in.
    doomed: BTreeSet<u32>,
    /// Connections closed while checked out (lifetime-closes-in-use): never reused.
    dead: BTreeSet<u32>,
    closed: bool,
}

/// The pool.
pub struct Pool {
    variant: Variant,
    config: Config,
    state: Mutex<State>,
    changed: Condvar,
}

/// How a checkout ended.
pub type Checkout = Option<u32>;

impl Pool {
    /// A new, empty pool.
    pub fn new(variant: Variant, config: Config) -> Self {
        probe(Event::PoolLimit {
            max_connections: config.max_size,
        });
        Pool {
            variant,
            config,
            state: Mutex::new(
                "pool.lock",
                LockClass::non_blocking("pool"),
                State::default(),
            ),
            changed: Condvar::new("pool: connection returned, slot freed or checkout cancelled"),
        }
    }

    /// Check a connection out for `actor`'s request `req`: an idle one, a new one if there is
    /// room, or one handed over by a check-in after waiting. `None` when cancelled or the pool is closed.
    pub fn checkout(&self, actor: &str, req: u32) -> Checkout {
        probe(Event::RequestStarted { req });
        let mut st = self.state.lock();
        st.pending.insert(actor.to_owned(), req);
        let got = loop {
            if let Some(end) = self.woken(&mut st, req) {
                break end;
            }
            if st.closed {
                break None;
            }
            if let Some((conn, _)) = st.idle.pop_back() {
                break Some(conn);
            }
            if self.has_room(&mut st, req) {
                drop(st);
                let conn = self.create(actor, req);
                st = self.state.lock();
                match conn {
                    Some(conn) if !self.variant.has(Fix::CloseCreatedAfterClose) => {
                        self.add_created(&mut st, conn);
                        continue;
                    }
                    _ => break conn,
                }
            }
            if !st.waiters.contains(&req) {
                st.waiters.push_back(req);
            }
            st = self.wait(st);
        };
        st.pending.remove(actor);
        st.waiters.retain(|w| *w != req);
        let cancelled = st.cancelled.contains(&req);
        let failed = st.failed.remove(&req);
        if let Some(conn) = got {
            st.holders.insert(conn, req);
            probe(Event::ConnCheckedOut { conn, req });
        }
        drop(st);
        self.finish_checkout(req, got, cancelled, failed)
    }

    /// Bug (create-after-close): the creator feeds the pool instead of keeping its connection,
    /// and adds it without re-checking `closed` under this lock; a `close` that ran during the
    /// connect already drained the idle list, so the new connection stays open in a closed pool.
    /// The creator then loops and takes it back unless the pool closed meanwhile.
    fn add_created(&self, st: &mut MutexGuard<'_, State>, conn: u32) {
        self.return_idle(st, conn);
        self.changed.notify_all();
    }

    /// Wait for a check-in, a freed slot or a cancellation, releasing the lock while waiting.
    fn wait<'a>(&'a self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if self.variant.has(Fix::EnqueueAndWaitAtomically) {
            return self.changed.wait(st);
        }
        // Bug (lost-wakeup): enqueued under the lock, but the wait starts in a second critical
        // section; a notification sent in between finds nobody waiting.
        drop(st);
        yield_now("enqueued; about to wait on the monitor");
        self.changed.wait(self.state.lock())
    }

    /// After a wake-up: a hand-off or a cancellation ends the wait.
    fn woken(&self, st: &mut MutexGuard<'_, State>, req: u32) -> Option<Checkout> {
        let cancelled = st.cancelled.contains(&req);
        if !self.variant.has(Fix::ReturnDeliveredOnCancel) && cancelled {
            // Bug: leaves without looking for a connection handed over to it.
            return Some(None);
        }
        let delivered = st.delivered.remove(&req);
        match (delivered, cancelled) {
            (Some(conn), false) => Some(Some(conn)),
            (Some(conn), true) => {
                // Fixed: a connection delivered to a cancelled waiter goes back to the pool
                // (to the next waiter, not to this one again).
                st.waiters.retain(|w| *w != req);
                self.return_idle(st, conn);
                self.changed.notify_all();
                Some(None)
            }
            (None, true) => Some(None),
            (None, false) => None,
        }
    }

    /// Is there room for one more connection? Reserves it (in the fixed design) if so.
    fn has_room(&self, st: &mut MutexGuard<'_, State>, req: u32) -> bool {
        if st.size >= i64::from(self.config.max_size) {
            return false;
        }
        if self.variant.has(Fix::ReserveWithCheck) {
            st.size += 1;
            probe(Event::ResourceOpened {
                kind: "slot",
                id: req,
            });
        }
        true
    }

    /// Establish a connection outside the lock; cancellation is observed at each await.
    fn create(&self, actor: &str, req: u32) -> Checkout {
        let conn = self.state.lock().next_conn_id();
        probe(Event::ConnCreated { conn });
        probe(Event::ResourceOpened {
            kind: "conn",
            id: conn,
        });
        probe(Event::ConnPhase {
            conn,
            phase: ConnPhase::Connecting,
        });
        blocking(BlockKind::NetWrite, "connect");
        for _ in 0..self.config.create_steps {
            yield_now("connect");
            if self.is_cancelled(req) {
                return self.abandon_create(actor, req, conn);
            }
        }
        if conn <= self.config.connect_failures {
            return self.fail_create(req, conn);
        }
        if !self.variant.has(Fix::ReserveWithCheck) {
            // Bug: the size grows only now, in a second critical section.
            self.state.lock().size += 1;
            probe(Event::ResourceOpened {
                kind: "slot",
                id: req,
            });
        }
        // The slot now belongs to the connection; it is freed when the connection closes.
        probe(Event::ResourceClosed {
            kind: "slot",
            id: req,
        });
        Some(conn)
    }

    /// A cancelled creation: close the half-open connection and free its slot (or not).
    fn abandon_create(&self, _actor: &str, req: u32, conn: u32) -> Checkout {
        if self.variant.has(Fix::CloseOnCreateTimeout) {
            close(conn, CloseReason::Owner);
        }
        if self.variant.has(Fix::ReleaseSlotOnCancel) {
            let mut st = self.state.lock();
            st.retire(conn);
            probe(Event::ResourceClosed {
                kind: "slot",
                id: req,
            });
            drop(st);
            self.changed.notify_all();
        }
        None
    }

    /// A connection attempt that failed: close what was opened and free the slot it reserved
    /// (or not), so a waiting checkout can try again.
    fn fail_create(&self, req: u32, conn: u32) -> Checkout {
        close(conn, CloseReason::Error);
        let mut st = self.state.lock();
        st.failed.insert(req);
        if !self.variant.has(Fix::ReleaseSlotOnConnectFailure) {
            // Bug (connect-failure-leaks-slot): the size counter keeps the failed attempt.
            return None;
        }
        // size-check-then-create counts an attempt only once it succeeds: nothing to give back.
        if self.variant.has(Fix::ReserveWithCheck) {
            st.size -= 1;
            probe(Event::ResourceClosed {
                kind: "slot",
                id: req,
            });
        }
        drop(st);
        self.changed.notify_all();
        None
    }

    fn is_cancelled(&self, req: u32) -> bool {
        self.state.lock().cancelled.contains(&req)
    }

    /// Record the end of a checkout; a connection in hand is in use until check-in.
    fn finish_checkout(&self, req: u32, got: Checkout, cancelled: bool, failed: bool) -> Checkout {
        match got {
            Some(conn) => {
                probe(Event::ConnPhase {
                    conn,
                    phase: ConnPhase::Active,
                });
                probe(Event::StreamOpened {
                    conn,
                    stream: req,
                    req,
                });
            }
            None if cancelled => probe(Event::RequestFinished {
                req,
                outcome: Outcome::Cancelled,
            }),
            None if failed => probe(Event::RequestFinished {
                req,
                outcome: Outcome::Error("connect failed".into()),
            }),
            None => probe(Event::RequestFinished {
                req,
                outcome: Outcome::RetryableError("pool closed".into()),
            }),
        }
        got
    }

    /// Give a connection back: hand it to the first waiter, or put it on the idle list. A
    /// request that no longer holds `conn` (a second release) is ignored.
    pub fn checkin(&self, req: u32, conn: u32) {
        let mut st = self.state.lock();
        let held = st.release_hold(req, conn);
        // lifetime-closes-in-use: the reaper closed it under its holder already.
        let dead = st.dead.contains(&conn);
        // A connection evicted while checked out is closed now, like one returned to a closed pool.
        let closed_before_ping = st.closed || st.doomed.remove(&conn);
        drop(st);
        if !held || dead {
            return self.release_again(req, conn, closed_before_ping, dead);
        }
        probe(Event::StreamClosed { conn, stream: req });
        probe(Event::RequestFinished {
            req,
            outcome: Outcome::Response,
        });
        self.put_back(conn, closed_before_ping);
    }

    /// A release by a request that does not hold the connection (it released it already), or
    /// of a connection the reaper closed while it was held.
    fn release_again(&self, req: u32, conn: u32, closed_before_ping: bool, dead: bool) {
        if dead {
            probe(Event::StreamClosed { conn, stream: req });
            return probe(Event::RequestFinished {
                req,
                outcome: Outcome::Error("connection closed under the request".into()),
            });
        }
        if self.variant.has(Fix::IgnoreDoubleRelease) {
            probe(Event::Note(format!(
                "ignores request {req}'s second release of conn {conn}"
            )));
            return;
        }
        // Bug (double-release): no ownership check; the connection goes back once more.
        self.put_back(conn, closed_before_ping);
    }

    /// After a ping, hand the connection to a waiter or put it on the idle list (or close it
    /// when the pool closed).
    fn put_back(&self, conn: u32, closed_before_ping: bool) {
        if closed_before_ping {
            return self.close_returned(conn);
        }
        yield_now("ping before reuse");
        let mut st = self.state.lock();
        if st.closed && self.variant.has(Fix::RecheckClosedOnCheckin) {
            drop(st);
            return self.close_returned(conn);
        }
        // Bug (checkin-after-close): the pool may have closed during the ping; pushed anyway.
        self.return_idle(&mut st, conn);
        drop(st);
        self.changed.notify_all();
    }

    fn close_returned(&self, conn: u32) {
        self.state.lock().retire(conn);
        close(conn, CloseReason::Owner);
        self.changed.notify_all();
    }

    fn return_idle(&self, st: &mut MutexGuard<'_, State>, conn: u32) {
        let waiter = st
            .waiters
            .iter()
            .copied()
            .find(|w| !st.delivered.contains_key(w));
        match waiter {
            Some(w) => {
                st.delivered.insert(w, conn);
            }
            None => {
                let expire_at = now() + self.config.idle_timeout;
                st.idle.push_back((conn, expire_at));
                probe(Event::ConnPhase {
                    conn,
                    phase: ConnPhase::Idle {
                        expire_at: Some(expire_at),
                    },
                });
            }
        }
    }

    /// Close the connection in hand instead of returning it (it broke), freeing its slot.
    pub fn discard(&self, req: u32, conn: u32) {
        probe(Event::StreamClosed { conn, stream: req });
        probe(Event::RequestFinished {
            req,
            outcome: Outcome::Error("connection broken".into()),
        });
        let mut st = self.state.lock();
        st.release_hold(req, conn);
        st.retire(conn);
        drop(st);
        close(conn, CloseReason::Error);
        if self.variant.has(Fix::NotifyOnDiscard) {
            self.changed.notify_all();
        }
        // Bug (discard-skips-notify): the freed slot is not announced to waiting checkouts.
    }

    /// Cancel `target`'s pending checkout, if it has one now.
    pub fn cancel(&self, target: &str) {
        let mut st = self.state.lock();
        if let Some(req) = st.pending.get(target).copied() {
            st.cancelled.insert(req);
            probe(Event::Note(format!("cancels request {req} of {target}")));
        }
        drop(st);
        self.changed.notify_all();
    }

    /// One reaper pass: close idle connections whose idle timeout or lifetime has passed, and
    /// deal with checked-out ones past their lifetime.
    pub fn reap(&self) {
        let mut st = self.state.lock();
        let t = now();
        let expired: Vec<u32> = st
            .idle
            .iter()
            .filter(|(c, e)| *e <= t || self.past_lifetime(&st, *c, t))
            .map(|(c, _)| *c)
            .collect();
        self.evict_in_use(&mut st, t);
        if !self.variant.has(Fix::ReapUnderLock) {
            drop(st);
            yield_now("reaper: close outside the lock");
            for conn in expired {
                let mut st = self.state.lock();
                st.idle.retain(|(c, _)| *c != conn);
                st.retire(conn);
                drop(st);
                close(conn, CloseReason::Expired);
            }
            return;
        }
        st.idle.retain(|(c, _)| !expired.contains(c));
        for conn in &expired {
            st.retire(*conn);
        }
        drop(st);
        for conn in expired {
            close(conn, CloseReason::Expired);
        }
        self.changed.notify_all();
    }

    fn past_lifetime(&self, st: &State, conn: u32, t: u64) -> bool {
        let max = self.config.max_lifetime;
        max > 0 && st.born.get(&conn).is_some_and(|b| b + max <= t)
    }

    /// Checked-out connections past their lifetime: marked, and closed when checked in (soft
    /// eviction), or closed now under their holder.
    fn evict_in_use(&self, st: &mut MutexGuard<'_, State>, t: u64) {
        let old: Vec<u32> = st
            .holders
            .keys()
            .copied()
            .filter(|c| self.past_lifetime(st, *c, t))
            .collect();
        for conn in old {
            if self.variant.has(Fix::ExpireAtCheckin) {
                st.doomed.insert(conn);
                continue;
            }
            // Bug (lifetime-closes-in-use): closes a connection its holder is still using.
            st.dead.insert(conn);
            st.retire(conn);
            close(conn, CloseReason::Expired);
        }
    }

    /// Close the pool: idle connections now, checked-out ones when they come back; waiters and
    /// later checkouts fail. Closing a closed pool does nothing.
    pub fn close(&self) {
        let mut st = self.state.lock();
        if std::mem::replace(&mut st.closed, true) {
            return;
        }
        let idle: Vec<u32> = st.idle.drain(..).map(|(c, _)| c).collect();
        for conn in &idle {
            st.retire(*conn);
        }
        drop(st);
        for conn in idle {
            close(conn, CloseReason::Owner);
        }
        self.changed.notify_all();
    }

    /// Connections open now (for the end-of-run capacity check).
    pub fn size(&self) -> i64 {
        self.state.lock().size
    }
}

impl State {
    /// `req` gives up its hold on `conn`; `false` when it did not hold it (a second release).
    fn release_hold(&mut self, req: u32, conn: u32) -> bool {
        if self.holders.get(&conn) != Some(&req) {
            return false;
        }
        self.holders.remove(&conn);
        probe(Event::ConnCheckedIn { conn, req });
        true
    }

    /// The pool stops counting `conn` (it is about to be closed outside the lock).
    fn retire(&mut self, conn: u32) {
        self.size -= 1;
        probe(Event::ConnPhase {
            conn,
            phase: ConnPhase::Closed,
        });
    }

    /// A new connection's id; its lifetime counts from the start of its connect (taken under
    /// this lock so that tracking it adds no scheduling point).
    fn next_conn_id(&mut self) -> u32 {
        self.next_conn += 1;
        self.born.insert(self.next_conn, now());
        self.next_conn
    }
}

fn close(conn: u32, reason: CloseReason) {
    blocking(BlockKind::BodyClose, "close connection");
    probe(Event::ConnClosed { conn, reason });
    probe(Event::ResourceClosed {
        kind: "conn",
        id: conn,
    });
}
