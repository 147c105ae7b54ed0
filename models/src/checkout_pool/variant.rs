//! The checkout pool's variants: the correct design and the bug classes that recur across
//! pools in many languages. Each names the public reports it reproduces.

/// Which behaviour the pool has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Every fix below applied.
    Fixed,
    /// A checkout cancelled after it reserved a capacity slot returns without giving the slot
    /// back (ClickHouse/clickhouse-go#1759; sqlx#83/#84). Before: `return err` on cancellation.
    /// After: release the slot on every exit path. The pool's capacity shrinks by one per race.
    CancelLeaksSlot,
    /// A connection handed to a waiter at the moment the waiter is cancelled is neither used nor
    /// returned (hibernate/hibernate-reactive#4133, awslabs/aws-crt-java#437,
    /// apache/httpcomponents-client#309). Before: the woken waiter checks "cancelled?" first and
    /// leaves. After: it checks "delivered?" first and gives a delivered connection back.
    CancelDropsDelivered,
    /// The reaper picks expired idle connections under the lock but closes them after releasing
    /// it, without checking they are still idle (mperham/connection_pool#127: "a connection is
    /// checked out during a reaping. The connection will be removed and then closed").
    /// After: remove them from the idle list under the lock, close outside it.
    ReaperRacesCheckout,
    /// Capacity is checked in one critical section and the size incremented in another, after
    /// creating the connection, so concurrent checkouts overshoot `max_size`
    /// (mongodb/mongo-java-driver#127; the same shape as golang/net 4e4d966f's streamsReserved).
    /// After: reserve the slot in the same critical section as the check.
    SizeCheckThenCreate,
    /// Check-in reads "is the pool closed?" once, then awaits a health check (`ping`), then puts
    /// the connection on the idle list unconditionally; a `close` that drained the idle list in
    /// between never sees it, and it leaks for the life of the pool (launchbadge/sqlx
    /// `return_to_pool`, measured in topoteretes/cognee-rs#132). After: re-check under the lock
    /// that pushes it, and close it if the pool closed meanwhile.
    CheckinAfterClose,
    /// A checkout whose creation is cancelled (a create timeout) abandons the half-open
    /// connection instead of closing it (r2dbc/r2dbc-pool#165). After: close it.
    TimeoutLeaksConnection,
    /// A checkout that must wait puts itself on the wait queue under the pool lock, releases the
    /// lock, and only then waits on its monitor; a check-in in between hands it the connection
    /// and notifies a waiter that is not waiting yet, so the wake-up is lost and the checkout
    /// waits while its connection sits delivered (javaee/glassfish#21355, ConnectionPool
    /// `getResource` lines 425-432: `waitQueue.addToQueue()` outside `synchronized
    /// (waitMonitor)`; fixed by javaee/glassfish#22086, which enqueues inside the block). After:
    /// enqueue and wait in one critical section (a condition variable's atomic release-and-wait).
    LostWakeup,
    /// Discarding a broken connection frees its capacity slot but notifies nobody, so a checkout
    /// waiting for room keeps waiting although it could now create a connection (djc/bb8#167,
    /// fixed by djc/bb8#194; eclipse-ee4j/glassfish#23483, fixed by #24879: "inform waiting
    /// threads when resources are marked as failed"; atomikos/transactions-essentials#148).
    /// After: every path that frees a slot notifies the waiters.
    DiscardSkipsNotify,
    /// Releasing a connection twice (an error handler and a `finally` both release it) puts it on
    /// the idle list twice, so two later checkouts get the same connection
    /// (coopernurse/node-pool#19: "it will end up allowing two clients to acquire the resource
    /// simultaneously"; brianc/node-pg-pool#115; sidorares/node-mysql2#1280). After: the pool
    /// remembers who holds each connection and ignores a release by a request that does not.
    DoubleRelease,
    /// A connection attempt that fails leaves the pool's size counter incremented, so every
    /// failure shrinks the pool for good; once the server is back, checkouts still wait for room
    /// that never frees (vert-x3/vertx-mysql-postgresql-client#79: "Failed connection
    /// establishment doesn't decrease poolSize"; eclipse-vertx/vert.x#324; knadh/smtppool#9).
    /// After: the failure path releases the slot and wakes a waiter.
    ConnectFailureLeaksSlot,
    /// A connection whose creation completes after `close` is added to the closed pool's idle
    /// list, which nothing drains again, so it stays open for good
    /// (apache/cassandra-nodejs-driver#166, NODEJS-283: "Close newly opened connection if pool
    /// was shutdown"; brettwooldridge/HikariCP#76: connections created while the pool shuts
    /// down are left open). Before: the creation callback pushes the new connection without
    /// looking at the pool's state. After: under the lock that adds it, re-check `closed`, and
    /// close the connection instead (here the fixed pool hands a new connection to its creator
    /// and closes it at check-in to a closed pool).
    CreateAfterClose,
    /// With a maximum lifetime, the reaper closes every connection past it, including ones
    /// checked out and in use, so a query fails mid-flight (fantom-lang/fantom#93:
    /// "checkLinger() no longer closes connections that are in use"; the same age-based shape
    /// in ebean-orm/ebean-datasource#149: "force-closed mid-query"; neither report is about a
    /// `max_lifetime` setting as such). Before: the age pass walks all connections and closes
    /// them. After: it closes only idle ones and marks checked-out ones evicted, to be closed at
    /// check-in (HikariCP's soft eviction).
    LifetimeClosesInUse,
}

impl Variant {
    /// Parse a variant name (validated by the loader against the model's variant list).
    pub fn parse(name: &str) -> Self {
        match name {
            "cancel-leaks-slot" => Variant::CancelLeaksSlot,
            "cancel-drops-delivered" => Variant::CancelDropsDelivered,
            "reaper-races-checkout" => Variant::ReaperRacesCheckout,
            "size-check-then-create" => Variant::SizeCheckThenCreate,
            "timeout-leaks-connection" => Variant::TimeoutLeaksConnection,
            "checkin-after-close" => Variant::CheckinAfterClose,
            "lost-wakeup" => Variant::LostWakeup,
            "discard-skips-notify" => Variant::DiscardSkipsNotify,
            "double-release" => Variant::DoubleRelease,
            "connect-failure-leaks-slot" => Variant::ConnectFailureLeaksSlot,
            "create-after-close" => Variant::CreateAfterClose,
            "lifetime-closes-in-use" => Variant::LifetimeClosesInUse,
            _ => Variant::Fixed,
        }
    }
}
