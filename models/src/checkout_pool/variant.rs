//! The checkout pool's variants: the correct design and the bug classes that recur across
//! pools in many languages. Each names the public reports it reproduces.

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the model: its release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The code the variants start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// The pool as it should be: every fix below applied.
    Design,
}

/// A named fix; each undoes one historical bug (the doc says what it was and what changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// A checkout cancelled after it reserved a capacity slot returns without giving the slot
    /// back (ClickHouse/clickhouse-go#1759; sqlx#83/#84). Before: `return err` on cancellation.
    /// After: release the slot on every exit path. The pool's capacity shrinks by one per race.
    ReleaseSlotOnCancel,
    /// A connection handed to a waiter at the moment the waiter is cancelled is neither used nor
    /// returned (hibernate/hibernate-reactive#4133, awslabs/aws-crt-java#437,
    /// apache/httpcomponents-client#309). Before: the woken waiter checks "cancelled?" first and
    /// leaves. After: it checks "delivered?" first and gives a delivered connection back.
    ReturnDeliveredOnCancel,
    /// The reaper picks expired idle connections under the lock but closes them after releasing
    /// it, without checking they are still idle (mperham/connection_pool#127: "a connection is
    /// checked out during a reaping. The connection will be removed and then closed").
    /// After: remove them from the idle list under the lock, close outside it.
    ReapUnderLock,
    /// Capacity is checked in one critical section and the size incremented in another, after
    /// creating the connection, so concurrent checkouts overshoot `max_size`
    /// (mongodb/mongo-java-driver#127; the same shape as golang/net 4e4d966f's streamsReserved).
    /// After: reserve the slot in the same critical section as the check.
    ReserveWithCheck,
    /// Check-in reads "is the pool closed?" once, then awaits a health check (`ping`), then puts
    /// the connection on the idle list unconditionally; a `close` that drained the idle list in
    /// between never sees it, and it leaks for the life of the pool (launchbadge/sqlx
    /// `return_to_pool`, measured in topoteretes/cognee-rs#132). After: re-check under the lock
    /// that pushes it, and close it if the pool closed meanwhile.
    RecheckClosedOnCheckin,
    /// A checkout whose creation is cancelled (a create timeout) abandons the half-open
    /// connection instead of closing it (r2dbc/r2dbc-pool#165). After: close it.
    CloseOnCreateTimeout,
    /// A checkout that must wait puts itself on the wait queue under the pool lock, releases the
    /// lock, and only then waits on its monitor; a check-in in between hands it the connection
    /// and notifies a waiter that is not waiting yet, so the wake-up is lost and the checkout
    /// waits while its connection sits delivered (javaee/glassfish#21355, ConnectionPool
    /// `getResource` lines 425-432: `waitQueue.addToQueue()` outside `synchronized
    /// (waitMonitor)`; fixed by javaee/glassfish#22086, which enqueues inside the block). After:
    /// enqueue and wait in one critical section (a condition variable's atomic release-and-wait).
    EnqueueAndWaitAtomically,
    /// Discarding a broken connection frees its capacity slot but notifies nobody, so a checkout
    /// waiting for room keeps waiting although it could now create a connection (djc/bb8#167,
    /// fixed by djc/bb8#194; eclipse-ee4j/glassfish#23483, fixed by #24879: "inform waiting
    /// threads when resources are marked as failed"; atomikos/transactions-essentials#148).
    /// After: every path that frees a slot notifies the waiters.
    NotifyOnDiscard,
    /// Releasing a connection twice (an error handler and a `finally` both release it) puts it on
    /// the idle list twice, so two later checkouts get the same connection
    /// (coopernurse/node-pool#19: "it will end up allowing two clients to acquire the resource
    /// simultaneously"; brianc/node-pg-pool#115; sidorares/node-mysql2#1280). After: the pool
    /// remembers who holds each connection and ignores a release by a request that does not.
    IgnoreDoubleRelease,
    /// A connection attempt that fails leaves the pool's size counter incremented, so every
    /// failure shrinks the pool for good; once the server is back, checkouts still wait for room
    /// that never frees (vert-x3/vertx-mysql-postgresql-client#79: "Failed connection
    /// establishment doesn't decrease poolSize"; eclipse-vertx/vert.x#324; knadh/smtppool#9).
    /// After: the failure path releases the slot and wakes a waiter.
    ReleaseSlotOnConnectFailure,
    /// A connection whose creation completes after `close` is added to the closed pool's idle
    /// list, which nothing drains again, so it stays open for good
    /// (apache/cassandra-nodejs-driver#166, NODEJS-283: "Close newly opened connection if pool
    /// was shutdown"; brettwooldridge/HikariCP#76: connections created while the pool shuts
    /// down are left open). Before: the creation callback pushes the new connection without
    /// looking at the pool's state. After: under the lock that adds it, re-check `closed`, and
    /// close the connection instead (here the fixed pool hands a new connection to its creator
    /// and closes it at check-in to a closed pool).
    CloseCreatedAfterClose,
    /// With a maximum lifetime, the reaper closes every connection past it, including ones
    /// checked out and in use, so a query fails mid-flight (fantom-lang/fantom#93:
    /// "checkLinger() no longer closes connections that are in use"; the same age-based shape
    /// in ebean-orm/ebean-datasource#149: "force-closed mid-query"; neither report is about a
    /// `max_lifetime` setting as such). Before: the age pass walks all connections and closes
    /// them. After: it closes only idle ones and marks checked-out ones evicted, to be closed at
    /// check-in (HikariCP's soft eviction).
    ExpireAtCheckin,
    /// A command cancelled after it was sent but before its reply was read leaves the reply on
    /// the connection, which goes back to the pool; the next command on it reads that reply
    /// instead of its own (redis/redis-py#2624: "the following redis operation on the same
    /// connection will send the command, and then promptly continue to read the response from
    /// the previous, canceled command"; CVE-2023-28859). After: the cancellation path closes
    /// the connection (`read_response`'s `except BaseException: await self.disconnect()`).
    DisconnectOnCancelledRead,
    /// A connection's idle timer that fired just as a checkout took the connection closes it
    /// anyway, under its new holder (eclipse-vertx/vertx-sql-client#881: "gets a connection
    /// from pool some milliseconds behind IDLE expiration time, then ... the connection ...
    /// disappears when you use it"; the pool-managed timer of #883). After: the callback closes
    /// the connection only if it is still idle under the timer that fired.
    RecheckIdleOnTimer,
    /// Checkouts waiting on one connect in flight share its fate: when its driver is cancelled,
    /// every waiter fails "cancelled" too (golang/go#22724: "A lookup performed by a canceled
    /// context might affect subsequent lookups", the singleflight lookup shared by concurrent
    /// dials ran on the first caller's context). After: the connect goes on for the waiters on
    /// a context the driver's cancellation does not reach, and the first waiter gets it.
    DetachSharedConnect,
    /// Dropping a lease's reference to a connection decrements the count without waking the
    /// connection task, so a task already waiting never sees the count reach zero and never
    /// closes the connection (hyperium/h2#502: "Client connection is not closed after dropping
    /// SendRequest"; fixed by hyperium/h2#538, "Wake up connection when dropping
    /// SendRequest"). After: the drop that reaches zero wakes the task.
    WakeOnLastDrop,
    /// The reaper closes expired connections while it holds the pool lock; a close that blocks
    /// on the network stalls every checkout behind the lock (ebean-orm/ebean-datasource#126:
    /// "Long running close on wrapped connection may block pool", `closeConnectionFully`
    /// under the queue lock; fixed by #127, closing outside it). After: retire them under the
    /// lock, close them after releasing it.
    CloseOutsideLock,
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::ReleaseSlotOnCancel,
        Fix::ReturnDeliveredOnCancel,
        Fix::ReapUnderLock,
        Fix::ReserveWithCheck,
        Fix::RecheckClosedOnCheckin,
        Fix::CloseOnCreateTimeout,
        Fix::EnqueueAndWaitAtomically,
        Fix::NotifyOnDiscard,
        Fix::IgnoreDoubleRelease,
        Fix::ReleaseSlotOnConnectFailure,
        Fix::CloseCreatedAfterClose,
        Fix::ExpireAtCheckin,
        Fix::DisconnectOnCancelledRead,
        Fix::RecheckIdleOnTimer,
        Fix::DetachSharedConnect,
        Fix::WakeOnLastDrop,
        Fix::CloseOutsideLock,
    ];
    const INFO: &'static [FixInfo] = &[
        FixInfo {
            name: "release-slot-on-cancel",
            upstream: "https://github.com/ClickHouse/clickhouse-go/pull/1759",
            changes: "a checkout cancelled after reserving a slot releases it on every exit path",
            why: "otherwise the pool's capacity shrinks by one per cancellation",
        },
        FixInfo {
            name: "return-delivered-on-cancel",
            upstream: "https://github.com/hibernate/hibernate-reactive/issues/4133",
            changes: "a woken waiter checks delivered before cancelled and gives a delivered connection back",
            why: "otherwise a connection handed over as its waiter is cancelled is lost",
        },
        FixInfo {
            name: "reap-under-lock",
            upstream: "https://github.com/mperham/connection_pool/pull/127",
            changes: "the reaper removes expired idle connections from the idle list under the lock and closes them outside it",
            why: "otherwise it closes a connection checked out between its pick and its close",
        },
        FixInfo {
            name: "reserve-with-check",
            upstream: "https://github.com/mongodb/mongo-java-driver/pull/127",
            changes: "the capacity check reserves the slot in the same critical section",
            why: "otherwise concurrent checkouts all pass the check and overshoot max_size",
        },
        FixInfo {
            name: "recheck-closed-on-checkin",
            upstream: "https://github.com/topoteretes/cognee-rs/issues/132",
            changes: "check-in re-checks closed under the lock that pushes the connection, and closes it if the pool closed",
            why: "otherwise a check-in racing close leaks the connection for the life of the pool",
        },
        FixInfo {
            name: "close-on-create-timeout",
            upstream: "https://github.com/r2dbc/r2dbc-pool/issues/165",
            changes: "a cancelled creation closes its half-open connection",
            why: "otherwise the half-open connection is abandoned open",
        },
        FixInfo {
            name: "enqueue-and-wait-atomically",
            upstream: "https://github.com/javaee/glassfish/issues/21355",
            changes: "a waiter enqueues and starts waiting in one critical section",
            why: "otherwise a check-in in between notifies a waiter that is not waiting yet",
        },
        FixInfo {
            name: "notify-on-discard",
            upstream: "https://github.com/djc/bb8/issues/167",
            changes: "discarding a broken connection wakes a checkout waiting for room",
            why: "otherwise waiters keep waiting although they could create a connection",
        },
        FixInfo {
            name: "ignore-double-release",
            upstream: "https://github.com/coopernurse/node-pool/pull/19",
            changes: "the pool ignores a release by a request that does not hold the connection",
            why: "otherwise a connection released twice is handed to two checkouts",
        },
        FixInfo {
            name: "release-slot-on-connect-failure",
            upstream: "https://github.com/vert-x3/vertx-mysql-postgresql-client/issues/79",
            changes: "a failed connection attempt releases its slot and wakes a waiter",
            why: "otherwise every failure shrinks the pool for good",
        },
        FixInfo {
            name: "close-created-after-close",
            upstream: "https://github.com/apache/cassandra-nodejs-driver/pull/166",
            changes: "a connection created after close is closed instead of pooled",
            why: "otherwise it sits in the closed pool's idle list, open for good",
        },
        FixInfo {
            name: "expire-at-checkin",
            upstream: "https://github.com/fantom-lang/fantom/pull/93",
            changes: "the age pass closes only idle connections and marks checked-out ones to close at check-in",
            why: "otherwise a connection past max_lifetime is closed mid-query",
        },
        FixInfo {
            name: "disconnect-on-cancelled-read",
            upstream: "https://github.com/redis/redis-py/issues/2624",
            changes: "a command cancelled while its reply is pending closes the connection",
            why: "otherwise the connection goes back with the reply unread and the next command reads it",
        },
        FixInfo {
            name: "recheck-idle-on-timer",
            upstream: "https://github.com/eclipse-vertx/vertx-sql-client/pull/881",
            changes: "an idle timer's callback closes the connection only if it is still idle under that timer",
            why: "otherwise a timer that fired as a checkout took the connection closes it under its holder",
        },
        FixInfo {
            name: "detach-shared-connect",
            upstream: "https://github.com/golang/go/issues/22724",
            changes: "a connect others wait on goes on when its driver is cancelled, for the first waiter",
            why: "otherwise every waiter fails with the driver's cancellation",
        },
        FixInfo {
            name: "wake-on-last-drop",
            upstream: "https://github.com/hyperium/h2/issues/502",
            changes: "the drop of a connection's last reference wakes its connection task",
            why: "otherwise a task already waiting never closes the connection",
        },
        FixInfo {
            name: "close-outside-lock",
            upstream: "https://github.com/ebean-orm/ebean-datasource/issues/126",
            changes: "the reaper retires expired connections under the lock and closes them after releasing it",
            why: "otherwise a close that blocks on the network stalls every checkout behind the lock",
        },
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Design, FixSpec::All),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::ReleaseSlotOnCancel]),
        ),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::ReturnDeliveredOnCancel]),
        ),
        (Release::Design, FixSpec::AllBut(&[Fix::ReapUnderLock])),
        (Release::Design, FixSpec::AllBut(&[Fix::ReserveWithCheck])),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::RecheckClosedOnCheckin]),
        ),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::CloseOnCreateTimeout]),
        ),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::EnqueueAndWaitAtomically]),
        ),
        (Release::Design, FixSpec::AllBut(&[Fix::NotifyOnDiscard])),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::IgnoreDoubleRelease]),
        ),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::ReleaseSlotOnConnectFailure]),
        ),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::CloseCreatedAfterClose]),
        ),
        (Release::Design, FixSpec::AllBut(&[Fix::ExpireAtCheckin])),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::DisconnectOnCancelledRead]),
        ),
        (Release::Design, FixSpec::AllBut(&[Fix::RecheckIdleOnTimer])),
        (
            Release::Design,
            FixSpec::AllBut(&[Fix::DetachSharedConnect]),
        ),
        (Release::Design, FixSpec::AllBut(&[Fix::WakeOnLastDrop])),
        (Release::Design, FixSpec::AllBut(&[Fix::CloseOutsideLock])),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "every fix applied",
        },
        VariantInfo {
            name: "cancel-leaks-slot",
            kind: VariantKind::Bug,
            upstream: "https://github.com/ClickHouse/clickhouse-go/pull/1759",
            summary: "a checkout cancelled after reserving a slot never gives it back",
        },
        VariantInfo {
            name: "cancel-drops-delivered",
            kind: VariantKind::Bug,
            upstream: "https://github.com/hibernate/hibernate-reactive/issues/4133",
            summary: "a connection handed to a waiter as it is cancelled is lost",
        },
        VariantInfo {
            name: "reaper-races-checkout",
            kind: VariantKind::Bug,
            upstream: "https://github.com/mperham/connection_pool/pull/127",
            summary: "the reaper closes, outside the lock, a connection checked out meanwhile",
        },
        VariantInfo {
            name: "size-check-then-create",
            kind: VariantKind::Bug,
            upstream: "https://github.com/mongodb/mongo-java-driver/pull/127",
            summary: "capacity checked and reserved in separate critical sections",
        },
        VariantInfo {
            name: "checkin-after-close",
            kind: VariantKind::Bug,
            upstream: "https://github.com/topoteretes/cognee-rs/issues/132",
            summary: "a check-in racing pool close puts the connection back into a closed pool",
        },
        VariantInfo {
            name: "timeout-leaks-connection",
            kind: VariantKind::Bug,
            upstream: "https://github.com/r2dbc/r2dbc-pool/issues/165",
            summary: "a cancelled creation abandons its half-open connection",
        },
        VariantInfo {
            name: "lost-wakeup",
            kind: VariantKind::Bug,
            upstream: "https://github.com/javaee/glassfish/issues/21355",
            summary: "a waiter enqueues under the lock but starts waiting after releasing it: a \
                  check-in in between notifies nobody",
        },
        VariantInfo {
            name: "discard-skips-notify",
            kind: VariantKind::Bug,
            upstream: "https://github.com/djc/bb8/issues/167",
            summary: "discarding a broken connection frees its slot without waking the \
                  checkouts waiting for room",
        },
        VariantInfo {
            name: "double-release",
            kind: VariantKind::Bug,
            upstream: "https://github.com/coopernurse/node-pool/pull/19",
            summary: "a connection released twice goes on the idle list twice: two checkouts \
                  share it",
        },
        VariantInfo {
            name: "connect-failure-leaks-slot",
            kind: VariantKind::Bug,
            upstream: "https://github.com/vert-x3/vertx-mysql-postgresql-client/issues/79",
            summary: "a failed connection attempt keeps its capacity slot: the pool shrinks \
                  for good",
        },
        VariantInfo {
            name: "create-after-close",
            kind: VariantKind::Bug,
            upstream: "https://github.com/apache/cassandra-nodejs-driver/pull/166",
            summary: "a connection created while the pool closes is added to the closed \
                  pool's idle list and never closed",
        },
        VariantInfo {
            name: "lifetime-closes-in-use",
            kind: VariantKind::Bug,
            upstream: "https://github.com/fantom-lang/fantom/pull/93",
            summary: "the reaper closes a connection past max_lifetime while it is checked out \
                  instead of at check-in",
        },
        VariantInfo {
            name: "cancel-returns-dirty",
            kind: VariantKind::Bug,
            upstream: "https://github.com/redis/redis-py/issues/2624",
            summary: "a command cancelled before its reply was read goes back to the pool with \
                  the reply pending: the next command reads it",
        },
        VariantInfo {
            name: "idle-timer-closes-in-use",
            kind: VariantKind::Bug,
            upstream: "https://github.com/eclipse-vertx/vertx-sql-client/pull/881",
            summary: "an idle timer that fired as a checkout took the connection closes it \
                  under its new holder",
        },
        VariantInfo {
            name: "shared-connect-cancels-waiters",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/22724",
            summary: "the driver of a connect others wait on is cancelled: every waiter fails \
                  cancelled too",
        },
        VariantInfo {
            name: "drop-skips-wake",
            kind: VariantKind::Bug,
            upstream: "https://github.com/hyperium/h2/issues/502",
            summary: "dropping a connection's last reference does not wake its connection \
                  task: the connection is never closed",
        },
        VariantInfo {
            name: "close-under-lock",
            kind: VariantKind::Bug,
            upstream: "https://github.com/ebean-orm/ebean-datasource/issues/126",
            summary: "the reaper closes expired connections under the pool lock: a blocking \
                  close stalls every checkout",
        },
    ];
}
