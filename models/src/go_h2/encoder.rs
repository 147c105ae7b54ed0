//! `cc.henc` writing into `cc.hbuf` (golang/net `http2/transport.go` at 4e4d966f: the fields at
//! 295-296, `encodeHeaders` 1575-1764, `encodeTrailers` 1766-1790, `writeHeaders` 1331-1357),
//! as an object whose concurrent use is detected.
//!
//! Which lock guards the encoder is what golang/go#48340 is about: before 978cfadd
//! `encodeHeaders` and `encodeTrailers` run under `cc.mu` but the trailers are written from
//! `hbuf` under `cc.wmu` alone; after it every use holds `wmu` ("wmu ... guards the per-conn
//! HPACK encoder and buffer"). Go's race detector flags the same field touched under different
//! locks; the model does the same with Eraser's lockset (Savage et al., SOSP 1997): every use
//! says which of `mu` and `wmu` it holds, and the cell keeps the locks common to all uses so
//! far. While that set is not empty, two uses cannot overlap and a use is one step (no
//! scheduling point inside, as in every correctly locked variant). Once it is empty, nothing
//! excludes a concurrent use, and each later use takes a scheduling point between
//! [`Event::EncoderEnter`] and [`Event::EncoderExit`], so the explorer can run another use inside
//! it and `hpack-consistent` sees two actors in the encoder at once.

use super::hpack::{render, Encoder, Field};
use crate::sync::{probe, yield_now, Event, Plain};

/// Go's `bytes.Buffer` as `hbuf`: `Bytes()` returns a slice that aliases the backing array, so
/// a later `Reset` + write overwrites what an earlier caller still holds, unless the buffer had
/// to grow in between (a new array; the old slice keeps the old array as it was then).
#[derive(Default)]
pub struct GoBuffer {
    array: Vec<u8>,
    len: usize,
    /// The arrays replaced by growth, by generation (what older slices still point to).
    retired: Vec<Vec<u8>>,
}

/// A slice returned by [`GoBuffer::bytes`]: which array, and how long.
#[derive(Clone, Copy, Debug)]
pub struct BufSlice {
    generation: usize,
    len: usize,
}

impl GoBuffer {
    /// `Reset`: length 0, capacity kept.
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// `Write`: grows to max(needed, 2 * capacity) when full, like `bytes.Buffer.grow`.
    pub fn write(&mut self, bytes: &[u8]) {
        let needed = self.len + bytes.len();
        if needed > self.array.len() {
            let cap = needed.max(2 * self.array.len());
            let mut array = vec![0; cap];
            array[..self.len].copy_from_slice(&self.array[..self.len]);
            self.retired.push(std::mem::replace(&mut self.array, array));
        }
        self.array[self.len..needed].copy_from_slice(bytes);
        self.len = needed;
    }

    /// `Bytes()`: a slice of the current contents.
    pub fn bytes(&self) -> BufSlice {
        BufSlice {
            generation: self.retired.len(),
            len: self.len,
        }
    }

    /// What `slice` holds now.
    pub fn read(&self, slice: &BufSlice) -> Vec<u8> {
        let array = self.retired.get(slice.generation).unwrap_or(&self.array);
        array[..slice.len].to_vec()
    }
}

/// Which of the connection's locks a use of the encoder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// `cc.mu`.
    pub mu: bool,
    /// `cc.wmu`.
    pub wmu: bool,
}

impl Held {
    /// `cc.mu` only.
    pub const MU: Held = Held {
        mu: true,
        wmu: false,
    };
    /// `cc.wmu` only.
    pub const WMU: Held = Held {
        mu: false,
        wmu: true,
    };
    /// Both.
    pub const BOTH: Held = Held {
        mu: true,
        wmu: true,
    };

    fn meet(self, other: Held) -> Held {
        Held {
            mu: self.mu && other.mu,
            wmu: self.wmu && other.wmu,
        }
    }

    fn is_empty(self) -> bool {
        !self.mu && !self.wmu
    }
}

/// The locks held by every use so far (`None` before the first use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lockset(Option<Held>);

impl Lockset {
    /// Record a use holding `held`; true when some lock still excludes every pair of uses.
    pub fn guarded_after(&mut self, held: Held) -> bool {
        let common = self.0.map_or(held, |c| c.meet(held));
        self.0 = Some(common);
        !common.is_empty()
    }
}

#[derive(Default)]
struct Inner {
    enc: Encoder,
    hbuf: GoBuffer,
    lockset: Lockset,
}

/// `cc.henc` + `cc.hbuf` of connection `conn`.
pub struct HpackCell {
    conn: u32,
    inner: Plain<Inner>,
}

impl HpackCell {
    /// A fresh encoder with an empty buffer.
    pub fn new(conn: u32) -> Self {
        HpackCell {
            conn,
            inner: Plain::new(Inner::default()),
        }
    }

    /// `encodeHeaders` / `encodeTrailers`: reset `hbuf`, write every field, return
    /// `hbuf.Bytes()`; the caller holds `held`.
    pub fn encode(&self, held: Held, stream: u32, fields: &[Field]) -> BufSlice {
        let slice = self.use_with(held, |inner| {
            inner.hbuf.reset();
            for (name, value) in fields {
                let bytes = inner.enc.write_field(name, value);
                inner.hbuf.write(&bytes);
            }
            inner.hbuf.bytes()
        });
        probe(Event::HeaderBlockEncoded {
            conn: self.conn,
            stream,
            headers: render(fields),
        });
        slice
    }

    /// `writeHeaders` reading what `slice` of `hbuf` holds now; the caller holds `held`.
    pub fn read(&self, held: Held, slice: &BufSlice) -> Vec<u8> {
        self.use_with(held, |inner| inner.hbuf.read(slice))
    }

    /// `cc.henc.SetMaxDynamicTableSize(size)` (0e478a2a, under `mu` and `wmu`).
    pub fn set_max_dynamic_table_size(&self, held: Held, size: u32) {
        self.use_with(held, |inner| inner.enc.set_max_dynamic_table_size(size));
    }

    /// One use of the encoder: inside [`Event::EncoderEnter`] / [`Event::EncoderExit`], with a
    /// scheduling point inside once the lockset is empty.
    fn use_with<R>(&self, held: Held, f: impl FnOnce(&mut Inner) -> R) -> R {
        probe(Event::EncoderEnter { conn: self.conn });
        let guarded = self.inner.with(|i| i.lockset.guarded_after(held));
        if !guarded {
            yield_now("inside cc.henc/cc.hbuf: no lock excludes another use");
        }
        let r = self.inner.with(f);
        probe(Event::EncoderExit { conn: self.conn });
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_under_one_common_lock_stay_guarded() {
        let mut l = Lockset::default();
        assert!(l.guarded_after(Held::BOTH));
        assert!(l.guarded_after(Held::WMU));
        assert!(l.guarded_after(Held::WMU));
    }

    #[test]
    fn encoding_under_mu_and_writing_under_wmu_is_unguarded() {
        // 95888ee7: encodeTrailers under mu, writeHeaders of the trailers under wmu alone.
        let mut l = Lockset::default();
        assert!(l.guarded_after(Held::MU));
        assert!(l.guarded_after(Held::BOTH));
        assert!(!l.guarded_after(Held::WMU));
        assert!(
            !l.guarded_after(Held::BOTH),
            "once unguarded, always unguarded"
        );
    }

    #[test]
    fn an_aliased_slice_sees_a_later_reset_unless_the_buffer_grew() {
        let mut b = GoBuffer::default();
        b.write(b"abcd");
        let first = b.bytes();
        b.reset();
        b.write(b"wx");
        assert_eq!(b.read(&first), b"wxcd");
        b.write(b"yz0123");
        assert_eq!(
            b.read(&first),
            b"wxcd",
            "grown: the old array stays as it was"
        );
        assert_eq!(b.read(&b.bytes()), b"wxyz0123");
    }

    #[test]
    fn a_full_buffer_grows_to_twice_its_capacity() {
        let mut b = GoBuffer::default();
        b.write(b"abcd");
        b.write(b"e");
        let grown = b.bytes();
        b.reset();
        b.write(b"vwxyz123");
        assert_eq!(
            b.read(&grown),
            b"vwxyz",
            "8 octets fit: still the array the slice aliases"
        );
    }

    #[test]
    fn a_write_that_fills_the_buffer_exactly_does_not_grow_it() {
        let mut b = GoBuffer::default();
        b.write(b"abcd");
        let first = b.bytes();
        b.reset();
        b.write(b"wx");
        b.write(b"yz");
        assert_eq!(b.read(&first), b"wxyz", "still the array the slice aliases");
    }
}
