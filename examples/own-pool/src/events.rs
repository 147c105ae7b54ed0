//! What the pool tells poolcheck's invariants; nothing without the `poolcheck` feature.

#[cfg(feature = "poolcheck")]
mod on {
    use poolcheck::{probe, UserEvent};

    pub(crate) fn pool_created(max: usize) {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        probe(UserEvent::new("pool-created").with("max", max));
    }

    pub(crate) fn connected(id: u32) {
        probe(UserEvent::new("connected").with("conn", i64::from(id)));
    }
}

#[cfg(not(feature = "poolcheck"))]
mod on {
    pub(crate) fn pool_created(_max: usize) {}
    pub(crate) fn connected(_id: u32) {}
}

pub(crate) use on::{connected, pool_created};
