//! A scalar field of the original that different code paths read and write under different
//! locks (`cc.maxFrameSize`), as an object whose racy use is detected.
//!
//! Each use says which of `cc.mu` and `cc.wmu` it holds ([`Held`]) and whether it stores. The
//! field keeps the lock sets its stores and its loads held so far; two uses conflict when one of
//! them stores and their lock sets are disjoint. Once any two uses seen so far conflict, nothing
//! excludes a concurrent use, and every later use is bracketed by [`Event::FieldEnter`] /
//! [`Event::FieldExit`] with a scheduling point inside, so the explorer can run another use
//! inside it and `field-race` reports the overlap (golang/go#22721: `writeHeaders` loaded
//! `cc.maxFrameSize` under `wmu` while `processSettings` stored it under `mu`). Correctly locked
//! fields are never bracketed and take no scheduling point.

use super::encoder::Held;
use crate::sync::{probe, yield_now, Event, Plain};

#[derive(Default)]
struct Inner {
    value: u32,
    /// The distinct lock sets stores held so far.
    stores: Vec<Held>,
    /// The distinct lock sets loads held so far.
    loads: Vec<Held>,
    unguarded: bool,
}

impl Inner {
    /// Record a use holding `held`; true once some two uses seen conflict.
    fn unguarded_after(&mut self, held: Held, write: bool) -> bool {
        let disjoint = |a: &Held| !((a.mu && held.mu) || (a.wmu && held.wmu));
        let conflicts =
            self.stores.iter().any(disjoint) || (write && self.loads.iter().any(disjoint));
        self.unguarded |= conflicts;
        let seen = if write {
            &mut self.stores
        } else {
            &mut self.loads
        };
        if !seen.contains(&held) {
            seen.push(held);
        }
        self.unguarded
    }
}

/// A `u32` field of connection `conn`, named `field` as upstream names it.
pub struct GoField {
    conn: u32,
    field: &'static str,
    inner: Plain<Inner>,
}

impl GoField {
    /// The field with its initial value.
    pub fn new(conn: u32, field: &'static str, value: u32) -> Self {
        GoField {
            conn,
            field,
            inner: Plain::new(Inner {
                value,
                ..Inner::default()
            }),
        }
    }

    /// Load it; the caller holds `held`.
    pub fn load(&self, held: Held) -> u32 {
        self.with(held, false, |v| *v)
    }

    /// Store `value`; the caller holds `held`.
    pub fn store(&self, held: Held, value: u32) {
        self.with(held, true, |v| *v = value);
    }

    fn with<R>(&self, held: Held, write: bool, f: impl FnOnce(&mut u32) -> R) -> R {
        if !self.inner.with(|i| i.unguarded_after(held, write)) {
            return self.inner.with(|i| f(&mut i.value));
        }
        let (conn, field) = (self.conn, self.field);
        probe(Event::FieldEnter { conn, field, write });
        yield_now("inside a field no lock excludes another use of");
        let r = self.inner.with(|i| f(&mut i.value));
        probe(Event::FieldExit { conn, field });
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_loads_sharing_a_lock_stay_guarded() {
        // 4e4d966f: processSettings stores under both locks, loads hold one or the other.
        let mut i = Inner::default();
        assert!(!i.unguarded_after(Held::BOTH, true));
        assert!(!i.unguarded_after(Held::WMU, false));
        assert!(!i.unguarded_after(Held::MU, false));
        assert!(!i.unguarded_after(Held::BOTH, true));
    }

    #[test]
    fn a_load_under_wmu_of_a_store_under_mu_is_unguarded_for_good() {
        // Before 80e70a3f at 95888ee7's locks: a store under mu, the trailers' load under wmu.
        let mut i = Inner::default();
        assert!(!i.unguarded_after(Held::MU, true));
        assert!(!i.unguarded_after(Held::BOTH, false));
        assert!(i.unguarded_after(Held::WMU, false));
        assert!(
            i.unguarded_after(Held::BOTH, true),
            "once unguarded, always"
        );
        let mut j = Inner::default();
        assert!(!j.unguarded_after(Held::WMU, false));
        assert!(j.unguarded_after(Held::MU, true), "the store comes second");
    }
}
