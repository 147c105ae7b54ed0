//! The pool: capacity counter, idle list, waiters with direct hand-off, cancellation, reaper.
//!
//! One state lock (`pool.lock`, class `pool`: no blocking operation may run under it) guards
//! everything; creating and closing connections happen outside it, as in every pool cited in
//! [`super::variant`]. Cancellation is cooperative, like a context or a future: a canceller marks
//! the checkout, and the checkout observes it at its next wait or await.

use super::peer::InFlight;
use super::variant::{Fix, Variant};
use crate::cancel::CancelBook;
use crate::sync::{
    blocking, now, probe, probe_phase, yield_now, BlockKind, CloseReason, Condvar, ConnPhase,
    Event, LockClass, Mutex, MutexGuard, Outcome,
};
use crate::typed::{IllegalTransition, Transition};
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
    /// A connection going idle arms its own idle timer, fired by a `timers` pass.
    pub idle_timers: bool,
    /// A checkout that finds a connect in flight waits for it instead of starting its own.
    pub shared_connect: bool,
    /// A connection task (`drive`) owns each connection and closes it when its last reference
    /// (the pool's, each lease's) is dropped.
    pub conn_tasks: bool,
    /// The peer stops reading: a close or a command write really blocks ([`InFlight`]).
    pub peer_stops_reading: bool,
}

/// Where the pool's books put one connection, and every move the pool makes with it:
///
/// ```text
/// Connecting   --checked out by its creator-->                        Held(req)
/// Connecting   --added to the pool (create-after-close), finished
///                for its waiters (shared connect)-->                  Idle | Delivered(w)
/// Connecting   --abandoned, failed, slot freed-->                     Retired
/// Idle         --checked out--> Held(req);  --reaped, timer fired, pool closed--> Retired
/// Delivered(w) --taken by w--> Held(w);     --w was cancelled--> Idle | Delivered(next)
/// Held(req)    --checked in by req--> Returning;  --discarded, expired-->         Retired
/// Returning    --pinged, put back--> Idle | Delivered(w);  --pool closed, evicted--> Retired
/// ```
///
/// Any other move is a bug in the model's bookkeeping: an [`IllegalTransition`] (`model-panic`).
/// Four bug variants make moves whose point is that the pool no longer knows where the
/// connection is (`double-release` puts back a connection it does not hold;
/// `reaper-races-checkout`, `lifetime-closes-in-use` and `idle-timer-closes-in-use` close one
/// someone holds): from then on the connection is `Untracked`, every move is accepted, and only
/// the invariants judge it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Books {
    Connecting,
    Idle,
    Delivered(u32),
    Held(u32),
    Returning,
    Retired,
    Untracked,
}

impl Books {
    const MACHINE: &'static str = "checkout-pool connection";

    fn illegal(self, event: &'static str) -> Result<Self, IllegalTransition> {
        Err(IllegalTransition::new(Self::MACHINE, self, event))
    }

    /// Checked out by `req`: a new connection by its creator, an idle one, or one handed to
    /// `req` while it waited.
    fn checked_out(self, req: u32) -> Result<Self, IllegalTransition> {
        match self {
            Books::Connecting | Books::Idle => Ok(Books::Held(req)),
            Books::Delivered(w) if w == req => Ok(Books::Held(req)),
            Books::Untracked => Ok(self),
            _ => self.illegal("be checked out"),
        }
    }

    /// Checked in by its holder `req`.
    fn checked_in(self, req: u32) -> Result<Self, IllegalTransition> {
        match self {
            Books::Held(h) if h == req => Ok(Books::Returning),
            Books::Untracked => Ok(self),
            _ => self.illegal("be checked in"),
        }
    }

    /// Back in the pool: handed to the waiter `to`, or idle.
    fn returned(self, to: Option<u32>) -> Result<Self, IllegalTransition> {
        match self {
            Books::Connecting | Books::Returning | Books::Delivered(_) => {
                Ok(to.map_or(Books::Idle, Books::Delivered))
            }
            Books::Untracked => Ok(self),
            _ => self.illegal("go back to the pool"),
        }
    }

    /// No longer counted by the pool (about to be closed).
    fn retired(self) -> Result<Self, IllegalTransition> {
        match self {
            Books::Connecting | Books::Idle | Books::Held(_) | Books::Returning => {
                Ok(Books::Retired)
            }
            Books::Untracked => Ok(self),
            _ => self.illegal("be retired"),
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) size: i64,
    next_conn: u32,
    pub(super) idle: VecDeque<(u32, u64)>,
    waiters: VecDeque<u32>,
    delivered: BTreeMap<u32, u32>,
    pending: BTreeMap<String, u32>,
    /// actor -> the request it runs on a connection in hand (a lease, or a query on it): what
    /// `cancel` reaches besides a pending checkout.
    pub(super) busy: BTreeMap<String, u32>,
    /// Cancelled requests and the awaits the scenario cancels them at.
    pub(super) cancels: CancelBook,
    /// conn -> the request holding it (checked out, not yet checked in).
    pub(super) holders: BTreeMap<u32, u32>,
    /// Requests whose connection attempt failed.
    failed: BTreeSet<u32>,
    /// conn -> when it was established (for `max_lifetime`).
    born: BTreeMap<u32, u64>,
    /// Checked-out connections past their lifetime, to be closed at check-in.
    doomed: BTreeSet<u32>,
    /// Connections closed while checked out (lifetime-closes-in-use): never reused.
    pub(super) dead: BTreeSet<u32>,
    /// Where each connection is, by the pool's books.
    books: BTreeMap<u32, Books>,
    pub(super) closed: bool,
    /// conn -> the commands sent on it whose replies are unread, oldest first.
    pub(super) unread: BTreeMap<u32, VecDeque<u32>>,
    /// conn -> (generation, fire time) of its armed idle timer.
    pub(super) timers: BTreeMap<u32, (u32, u64)>,
    /// conn -> the generation of the timer armed when it last went idle.
    pub(super) idle_gen: BTreeMap<u32, u32>,
    pub(super) next_gen: u32,
    /// The request driving the connect that other checkouts wait on (`shared_connect`).
    connecting: Option<u32>,
    /// Waiters failed with the shared connect's cancellation.
    shared_failed: BTreeSet<u32>,
    /// conn -> references alive (the pool's, one per lease), with connection tasks.
    pub(super) refs: BTreeMap<u32, u32>,
    /// conn -> why the pool dropped its reference (the close the connection task performs).
    pub(super) close_reason: BTreeMap<u32, CloseReason>,
}

/// The pool.
pub struct Pool {
    pub(super) variant: Variant,
    pub(super) config: Config,
    pub(super) state: Mutex<State>,
    pub(super) changed: Condvar,
    /// Wakes the connection task (`drive`) when a reference count reaches zero.
    pub(super) refs_dropped: Condvar,
    pub(super) requests: InFlight,
    /// Actors some `cancel` targets: their `use` awaits observe cancellation.
    pub(super) cancel_targets: BTreeSet<String>,
}

/// How a checkout ended.
pub type Checkout = Option<u32>;

impl Pool {
    /// A new, empty pool.
    /// `cancel_targets`: the actors a `cancel` operation may reach.
    pub fn new(variant: Variant, config: Config, cancel_targets: BTreeSet<String>) -> Self {
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
            refs_dropped: Condvar::new("connection task: a connection's last reference dropped"),
            requests: InFlight::new(config.peer_stops_reading),
            cancel_targets,
        }
    }

    /// Check a connection out for `actor`'s request `req`: an idle one, a new one if there is
    /// room, or one handed over by a check-in after waiting. `None` when cancelled or the pool is closed.
    /// `cancel_at` names the await (`connect`, `wait`) at which the scenario cancels it.
    pub fn checkout(&self, actor: &str, req: u32, cancel_at: Option<&'static str>) -> Checkout {
        self.requests.started(req);
        let mut st = self.state.lock();
        st.pending.insert(actor.to_owned(), req);
        if let Some(point) = cancel_at {
            st.cancels.cancel_at(req, point);
        }
        let got = loop {
            if let Some(end) = self.woken(&mut st, req) {
                break end;
            }
            if st.closed {
                break None;
            }
            if let Some((conn, _)) = st.idle.pop_back() {
                Self::stop_idle_timer(&mut st, conn);
                break Some(conn);
            }
            if self.config.shared_connect && st.connecting.is_some() {
                // Wait on the connect in flight: its connection is handed to the first waiter.
                st = self.enqueue_and_wait(st, req);
                continue;
            }
            if self.has_room(&mut st, req) {
                // A waiter that creates its own connection leaves the queue: no check-in may
                // hand it a second one meanwhile.
                st.waiters.retain(|w| *w != req);
                st.connecting = Some(req);
                drop(st);
                let conn = self.create(actor, req);
                st = self.state.lock();
                if st.connecting == Some(req) && self.config.shared_connect {
                    // The checkouts waiting on this connect may now start their own.
                    st.connecting = None;
                    self.changed.notify_all();
                }
                match conn {
                    Some(conn) if !self.variant.has(Fix::CloseCreatedAfterClose) => {
                        self.add_created(&mut st, conn);
                        continue;
                    }
                    _ => break conn,
                }
            }
            if st.reach(req, "wait") {
                continue;
            }
            st = self.enqueue_and_wait(st, req);
        };
        st.pending.remove(actor);
        st.waiters.retain(|w| *w != req);
        let end = match got {
            Some(conn) => {
                st.holders.insert(conn, req);
                st.book(conn, |b| b.checked_out(req));
                st.busy.insert(actor.to_owned(), req);
                if self.config.conn_tasks {
                    *st.refs.entry(conn).or_default() += 1;
                }
                probe(Event::ConnCheckedOut { conn, req });
                Ok(conn)
            }
            None if st.shared_failed.remove(&req) => Err(Outcome::Cancelled),
            None if st.cancels.is_cancelled(req) => Err(Outcome::Cancelled),
            None if st.failed.remove(&req) => Err(Outcome::Error("connect failed".into())),
            None => Err(Outcome::RetryableError("pool closed".into())),
        };
        drop(st);
        self.finish_checkout(req, end)
    }

    fn enqueue_and_wait<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        req: u32,
    ) -> MutexGuard<'a, State> {
        if !st.waiters.contains(&req) {
            st.waiters.push_back(req);
        }
        self.wait(st)
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
        if st.shared_failed.contains(&req) {
            return Some(None);
        }
        let cancelled = st.cancels.is_cancelled(req);
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
        let conn = self.state.lock().next_conn_id(self.config.conn_tasks);
        probe(Event::ConnCreated { conn });
        probe(Event::RequestAssigned { req, conn });
        probe(Event::ResourceOpened {
            kind: "conn",
            id: conn,
        });
        probe_phase(conn, ConnPhase::Connecting);
        blocking(BlockKind::NetWrite, "connect");
        for step in 0..self.config.create_steps {
            yield_now("connect");
            if self.state.lock().reach(req, "connect") {
                if let Some(conn) = self.finish_shared_connect(req, conn, step + 1) {
                    return conn;
                }
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
        let mut st = self.state.lock();
        if !self.variant.has(Fix::DetachSharedConnect) {
            // Bug (shared-connect-cancels-waiters): the driver's cancellation is every waiter's.
            let waiters: Vec<u32> = st.waiters.iter().copied().collect();
            st.shared_failed.extend(waiters);
        }
        let frees_slot = self.variant.has(Fix::ReleaseSlotOnCancel);
        if frees_slot {
            st.retire(conn);
            probe(Event::ResourceClosed {
                kind: "slot",
                id: req,
            });
        }
        drop(st);
        if frees_slot || !self.variant.has(Fix::DetachSharedConnect) {
            self.changed.notify_all();
        }
        if self.variant.has(Fix::CloseOnCreateTimeout) {
            self.close_conn(conn, CloseReason::Owner);
        }
        None
    }

    /// A connect others wait on, whose driver was cancelled at connect step `done`: the fixed
    /// pool finishes it on their behalf (golang/go#22724's fix: the shared lookup runs on a
    /// context the first caller's cancellation does not reach) and hands the connection to the
    /// first waiter; the driver itself ends cancelled. `None`: abandon it as usual.
    fn finish_shared_connect(&self, req: u32, conn: u32, done: u32) -> Option<Checkout> {
        let shared = self.config.shared_connect && !self.state.lock().waiters.is_empty();
        if !shared || !self.variant.has(Fix::DetachSharedConnect) {
            return None;
        }
        for _ in done..self.config.create_steps {
            yield_now("connect (for the waiters)");
        }
        if conn <= self.config.connect_failures {
            return Some(self.fail_create(req, conn));
        }
        probe(Event::ResourceClosed {
            kind: "slot",
            id: req,
        });
        let mut st = self.state.lock();
        st.connecting = None;
        self.return_idle(&mut st, conn);
        drop(st);
        self.changed.notify_all();
        Some(None)
    }

    /// A connection attempt that failed: close what was opened and free the slot it reserved
    /// (or not), so a waiting checkout can try again.
    fn fail_create(&self, req: u32, conn: u32) -> Checkout {
        // Closed before its slot is freed: a new connection may then take its place.
        self.close_conn(conn, CloseReason::Error);
        let mut st = self.state.lock();
        st.failed.insert(req);
        if !self.variant.has(Fix::ReleaseSlotOnConnectFailure) {
            // Bug (connect-failure-leaks-slot): the size counter keeps the failed attempt.
            return None;
        }
        st.book(conn, Books::retired);
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

    /// Record the end of a checkout; a connection in hand is in use until check-in.
    fn finish_checkout(&self, req: u32, end: Result<u32, Outcome>) -> Checkout {
        match end {
            Ok(conn) => {
                probe_phase(conn, ConnPhase::Active);
                probe(Event::StreamOpened {
                    conn,
                    stream: req,
                    req,
                });
                Some(conn)
            }
            Err(outcome) => {
                self.requests.finished(req, outcome);
                None
            }
        }
    }

    /// Give a connection back: hand it to the first waiter, or put it on the idle list. A
    /// request that no longer holds `conn` (a second release) is ignored.
    pub fn checkin(&self, req: u32, conn: u32) {
        self.checkin_with(req, conn, Outcome::Response);
    }

    /// Check in, ending the lease with `outcome` (a lease cancelled while in use ends
    /// `Cancelled`, its connection still clean).
    pub(super) fn checkin_with(&self, req: u32, conn: u32, outcome: Outcome) {
        let mut st = self.state.lock();
        let held = st.release_hold(req, conn);
        // lifetime-closes-in-use: the reaper closed it under its holder already.
        let dead = st.dead.contains(&conn);
        // A connection evicted while checked out is closed now, like one returned to a closed pool.
        let closed_before_ping = st.closed || st.doomed.remove(&conn);
        match (held, dead) {
            (true, false) => st.book(conn, |b| b.checked_in(req)),
            // Bug (double-release): a release by a non-holder goes back to the pool below
            // (`release_again`); marked here, under the lock the check-in holds anyway, so that
            // the bookkeeping adds no scheduling point.
            (false, false) if !self.variant.has(Fix::IgnoreDoubleRelease) => st.untrack(conn),
            _ => {}
        }
        if held && self.config.conn_tasks {
            if closed_before_ping && !dead {
                return self.release_last(st, req, conn, outcome);
            }
            self.drop_ref(&mut st, conn, None);
        }
        drop(st);
        if !held || dead {
            return self.release_again(req, conn, closed_before_ping, dead);
        }
        probe(Event::StreamClosed { conn, stream: req });
        self.requests.finished(req, outcome);
        self.put_back(conn, closed_before_ping);
    }

    /// A release by a request that does not hold the connection (it released it already), or
    /// of a connection the reaper closed while it was held.
    fn release_again(&self, req: u32, conn: u32, closed_before_ping: bool, dead: bool) {
        if dead {
            probe(Event::StreamClosed { conn, stream: req });
            return self.requests.finished(
                req,
                Outcome::Error("connection closed under the request".into()),
            );
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

    /// The slot is freed and waiters told before the close, which may be slow.
    fn close_returned(&self, conn: u32) {
        self.state.lock().retire(conn);
        self.changed.notify_all();
        self.close_conn(conn, CloseReason::Owner);
    }

    fn return_idle(&self, st: &mut MutexGuard<'_, State>, conn: u32) {
        let waiter = st
            .waiters
            .iter()
            .copied()
            .find(|w| !st.delivered.contains_key(w));
        st.book(conn, |b| b.returned(waiter));
        match waiter {
            Some(w) => {
                st.delivered.insert(w, conn);
            }
            None => {
                let expire_at = now() + self.config.idle_timeout;
                st.idle.push_back((conn, expire_at));
                if self.config.idle_timers {
                    Self::arm_idle_timer(st, conn, expire_at);
                }
                probe_phase(
                    conn,
                    ConnPhase::Idle {
                        expire_at: Some(expire_at),
                    },
                );
            }
        }
    }

    /// Close the connection in hand instead of returning it (it broke), freeing its slot.
    pub fn discard(&self, req: u32, conn: u32) {
        let broken = Outcome::Error("connection broken".into());
        self.close_held(req, conn, broken, CloseReason::Error);
    }

    /// End the lease `req` with `outcome` and close its connection (broken, or out of sync),
    /// freeing its slot; waiters are told before the close, which may be slow.
    pub(super) fn close_held(&self, req: u32, conn: u32, outcome: Outcome, reason: CloseReason) {
        let mut st = self.state.lock();
        if st.release_hold(req, conn) && self.config.conn_tasks {
            self.drop_ref(&mut st, conn, None);
        }
        st.retire(conn);
        drop(st);
        // Bug (discard-skips-notify): the freed slot is not announced to waiting checkouts.
        if self.variant.has(Fix::NotifyOnDiscard) {
            self.changed.notify_all();
        }
        self.close_conn(conn, reason);
        probe(Event::StreamClosed { conn, stream: req });
        self.requests.finished(req, outcome);
    }

    /// Cancel `target`'s request in progress, if it has one now: a pending checkout, a lease,
    /// or a query on it. It observes the cancellation at its next await.
    pub fn cancel(&self, target: &str) {
        let mut st = self.state.lock();
        let current = st.pending.get(target).or_else(|| st.busy.get(target));
        if let Some(req) = current.copied() {
            st.cancel(req);
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
        if !self.variant.has(Fix::CloseOutsideLock) {
            return self.reap_under_lock(st, &expired);
        }
        if !self.variant.has(Fix::ReapUnderLock) {
            drop(st);
            yield_now("reaper: close outside the lock");
            for conn in expired {
                let mut st = self.state.lock();
                st.idle.retain(|(c, _)| *c != conn);
                if st.books.get(&conn) != Some(&Books::Idle) {
                    // Taken (or closed) while the reaper was outside the lock.
                    st.untrack(conn);
                }
                st.retire(conn);
                drop(st);
                self.close_conn(conn, CloseReason::Expired);
            }
            return;
        }
        st.idle.retain(|(c, _)| !expired.contains(c));
        for conn in &expired {
            st.retire(*conn);
        }
        drop(st);
        self.changed.notify_all();
        for conn in expired {
            self.close_conn(conn, CloseReason::Expired);
        }
    }

    /// Bug (close-under-lock): the expired connections are closed while the pool lock is held
    /// (ebean-orm/ebean-datasource#126: `closeConnectionFully` under the queue lock); a close
    /// that blocks on the network stalls every checkout behind the lock.
    fn reap_under_lock(&self, mut st: MutexGuard<'_, State>, expired: &[u32]) {
        st.idle.retain(|(c, _)| !expired.contains(c));
        for conn in expired {
            st.retire(*conn);
            self.close_conn_locked(&mut st, *conn, CloseReason::Expired);
        }
        drop(st);
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
            st.untrack(conn);
            st.retire(conn);
            self.close_conn_locked(st, conn, CloseReason::Expired);
        }
    }

    /// Close the pool: idle connections now, checked-out ones when they come back; waiters and
    /// later checkouts fail. Closing a closed pool does nothing.
    pub fn close(&self) {
        let mut st = self.state.lock();
        if std::mem::replace(&mut st.closed, true) {
            return;
        }
        probe(Event::PoolClosed);
        let idle: Vec<u32> = st.idle.drain(..).map(|(c, _)| c).collect();
        for conn in &idle {
            st.retire(*conn);
        }
        if self.config.conn_tasks {
            self.drop_pool_refs(&mut st);
            self.refs_dropped.notify_all();
        }
        drop(st);
        self.changed.notify_all();
        for conn in idle {
            self.close_conn(conn, CloseReason::Owner);
        }
    }
}

impl State {
    /// `req` gives up its hold on `conn`; `false` when it did not hold it (a second release).
    fn release_hold(&mut self, req: u32, conn: u32) -> bool {
        if self.holders.get(&conn) != Some(&req) {
            return false;
        }
        self.holders.remove(&conn);
        self.busy.retain(|_, r| *r != req);
        probe(Event::ConnCheckedIn { conn, req });
        true
    }

    /// Move `conn` in the books; an illegal move is a model bug (`model-panic`).
    fn book(&mut self, conn: u32, step: impl FnOnce(Books) -> Result<Books, IllegalTransition>) {
        let entry = self
            .books
            .get_mut(&conn)
            .expect("every connection is booked when its id is taken");
        *entry = step(*entry).or_panic();
    }

    /// A bug variant lost track of `conn` (it closes a connection someone holds, or puts back
    /// one nobody holds): from now on only the invariants judge it.
    pub(super) fn untrack(&mut self, conn: u32) {
        self.book(conn, |_| Ok(Books::Untracked));
    }

    /// The pool stops counting `conn` (it is about to be closed outside the lock).
    pub(super) fn retire(&mut self, conn: u32) {
        self.book(conn, Books::retired);
        self.size -= 1;
        probe_phase(conn, ConnPhase::Closed);
    }

    /// A new connection's id; its lifetime counts from the start of its connect (taken under
    /// this lock so that tracking it adds no scheduling point). With connection tasks the pool
    /// holds the first reference.
    fn next_conn_id(&mut self, counted: bool) -> u32 {
        self.next_conn += 1;
        self.born.insert(self.next_conn, now());
        self.books.insert(self.next_conn, Books::Connecting);
        if counted {
            self.refs.insert(self.next_conn, 1);
        }
        self.next_conn
    }

    /// Mark `req` cancelled (a canceller, a timeout, a dropped future).
    pub(super) fn cancel(&mut self, req: u32) {
        self.cancels.cancel(req);
    }

    /// `req` reaches the await `point` ([`CancelBook::reach`]): is it cancelled now?
    pub(super) fn reach(&mut self, req: u32, point: &'static str) -> bool {
        self.cancels.reach(req, point)
    }
}

impl Pool {
    /// The pool is done with `conn` (not holding its lock): close it, or with connection tasks
    /// drop the pool's reference and let the task close it.
    pub(super) fn close_conn(&self, conn: u32, reason: CloseReason) {
        if self.config.conn_tasks {
            let mut st = self.state.lock();
            self.drop_ref(&mut st, conn, Some(reason));
            // The pool let go of a slot too: the task may be done.
            return self.refs_dropped.notify_all();
        }
        self.close_now(conn, reason);
    }

    /// [`Pool::close_conn`] from under the pool lock (the bugs that close there).
    fn close_conn_locked(&self, st: &mut MutexGuard<'_, State>, conn: u32, reason: CloseReason) {
        if self.config.conn_tasks {
            return self.drop_ref(st, conn, Some(reason));
        }
        self.close_now(conn, reason);
    }

    /// The close itself: may block on the network, and does when the peer stopped reading.
    pub(super) fn close_now(&self, conn: u32, reason: CloseReason) {
        blocking(BlockKind::BodyClose, "close connection");
        self.requests.stall();
        probe(Event::ConnClosed { conn, reason });
        probe(Event::ResourceClosed {
            kind: "conn",
            id: conn,
        });
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
