//! The checkout pool's variants: the correct design and five bug classes that recur across
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
            _ => Variant::Fixed,
        }
    }
}
