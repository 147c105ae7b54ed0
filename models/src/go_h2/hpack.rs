//! A thin wrapper over a real HPACK codec (RFC 7541): the client's encoder (Go's `cc.henc`,
//! writing into the shared `cc.hbuf`) and the peer's decoder.
//!
//! # Which crate, and why
//! HPACK is not hand-written here: both sides use [`httlib_hpack`] (crates.io `httlib-hpack`
//! 0.1.3). We checked the alternatives:
//! - h2 0.4's `unstable` feature makes `h2::frame`, `h2::proto` and `h2::Codec` public, but
//!   `mod hpack` stays private (src/lib.rs of h2 0.4.20), so its `Encoder`/`Decoder` cannot be
//!   named; `Codec` encodes whole frames from `http::HeaderMap`s, which cannot express Go's
//!   separate "encode into hbuf" and "write hbuf as a frame" steps that golang/go#48340 is about.
//! - `hpack` 0.3.0 is unmaintained since 2016; its maintained forks `fluke-hpack` /
//!   `loona-hpack` can only resize the encoder's table silently: they cannot emit the dynamic
//!   table size update instruction (RFC 7541 section 6.3) that SETTINGS_HEADER_TABLE_SIZE requires.
//! - `httlib-hpack` encodes and decodes that instruction (`Encoder::update_max_dynamic_size`),
//!   its decoder enforces the protocol limit on it (`Decoder::set_max_dynamic_size`), and it
//!   indexes literals into the dynamic table the way Go's `hpack.Encoder` does, so encode order
//!   versus wire order matters to the decoder exactly as it does between Go and a real server.
//!
//! Abstraction: no Huffman coding (Go uses it when shorter; it changes sizes, not semantics).

use httlib_hpack::{Decoder as HDecoder, Encoder as HEncoder};

/// One header field, name and value.
pub type Field = (String, String);

/// Render a header list as the probes do: `name: value` lines.
pub fn render(fields: &[Field]) -> String {
    let lines: Vec<String> = fields.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    lines.join("\n")
}

/// The client's HPACK encoder (Go's `hpack.Encoder` over `cc.hbuf`).
#[derive(Default)]
pub struct Encoder {
    inner: HEncoder<'static>,
    /// A table size change to signal at the start of the next block (Go's `tableSizeUpdate`).
    pending_size: Option<u32>,
}

impl Encoder {
    /// Go's `Encoder.SetMaxDynamicTableSize`: the change is signalled at the start of the next
    /// header block, as RFC 7541 section 4.2 requires.
    pub fn set_max_dynamic_table_size(&mut self, size: u32) {
        self.pending_size = Some(size);
    }

    /// Encode one field (Go's `WriteField`), returning its bytes; a pending table size update
    /// comes first.
    pub fn write_field(&mut self, name: &str, value: &str) -> Vec<u8> {
        let mut dst = Vec::new();
        if let Some(size) = self.pending_size.take() {
            self.inner
                .update_max_dynamic_size(size, &mut dst)
                .expect("size update encodes");
        }
        let flags = HEncoder::WITH_INDEXING | HEncoder::BEST_FORMAT;
        let field = (name.as_bytes().to_vec(), value.as_bytes().to_vec(), flags);
        self.inner.encode(field, &mut dst).expect("field encodes");
        dst
    }
}

/// The peer's HPACK decoder, with the acknowledged SETTINGS_HEADER_TABLE_SIZE enforced.
pub struct Decoder {
    inner: HDecoder<'static>,
    /// The limit the client acknowledged last.
    limit: u32,
    /// The first block after a lowered limit was acknowledged must bring the table under it.
    check_next: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            inner: HDecoder::default(),
            limit: 4096,
            check_next: false,
        }
    }
}

impl Decoder {
    /// The client acknowledged SETTINGS_HEADER_TABLE_SIZE = `size` (RFC 7540 section 6.5.3).
    pub fn limit_acknowledged(&mut self, size: u32) {
        self.inner.set_max_dynamic_size(size);
        self.limit = size;
        self.check_next = self.inner.max_dynamic_size() > size;
    }

    /// Decode one complete header block; a decoding error is a COMPRESSION_ERROR.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, String> {
        let mut buf = block.to_vec();
        let mut out = Vec::new();
        self.inner
            .decode(&mut buf, &mut out)
            .map_err(|e| format!("COMPRESSION_ERROR: {e:?}"))?;
        if std::mem::take(&mut self.check_next) && self.inner.max_dynamic_size() > self.limit {
            return Err(format!(
                "COMPRESSION_ERROR: the first header block after SETTINGS_HEADER_TABLE_SIZE={} \
                 was acknowledged left the dynamic table at {} octets without a size update \
                 (RFC 7541 section 4.2)",
                self.limit,
                self.inner.max_dynamic_size()
            ));
        }
        out.into_iter()
            .map(|(n, v, _)| {
                let name = String::from_utf8(n).map_err(|e| format!("bad name: {e}"))?;
                let value = String::from_utf8(v).map_err(|e| format!("bad value: {e}"))?;
                Ok((name, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: &mut Encoder, fields: &[Field]) -> Vec<u8> {
        fields
            .iter()
            .flat_map(|(n, v)| enc.write_field(n, v))
            .collect()
    }

    fn f(n: &str, v: &str) -> Field {
        (n.into(), v.into())
    }

    #[test]
    fn a_header_list_renders_one_field_a_line() {
        let fields = [f(":method", "GET"), f("x-big", "aaaa")];
        assert_eq!(render(&fields), ":method: GET\nx-big: aaaa");
    }

    #[test]
    fn round_trip_in_order() {
        let (mut e, mut d) = (Encoder::default(), Decoder::default());
        let a = vec![f(":method", "GET"), f("x-big", "aaaa")];
        let b = vec![f(":method", "GET"), f("x-big", "aaaa"), f("x-big", "bbbb")];
        let (ba, bb) = (encode(&mut e, &a), encode(&mut e, &b));
        assert_eq!(d.decode(&ba).unwrap(), a);
        assert_eq!(d.decode(&bb).unwrap(), b);
    }

    #[test]
    fn out_of_order_blocks_do_not_decode_to_what_was_sent() {
        let (mut e, mut d) = (Encoder::default(), Decoder::default());
        let a = vec![f("x-trailer", "one")];
        let b = vec![f("x-trailer", "one"), f(":path", "/")];
        let (ba, bb) = (encode(&mut e, &a), encode(&mut e, &b));
        assert_ne!(d.decode(&bb), Ok(b));
        let _ = ba;
    }

    #[test]
    fn lowered_table_needs_a_size_update() {
        let (mut e, mut d) = (Encoder::default(), Decoder::default());
        let a = vec![f("x-big", "aaaa")];
        let _ = d.decode(&encode(&mut e, &a)).unwrap();
        d.limit_acknowledged(0);
        assert!(d.decode(&encode(&mut e, &a)).is_err());
        let (mut e, mut d) = (Encoder::default(), Decoder::default());
        e.set_max_dynamic_table_size(0);
        d.limit_acknowledged(0);
        assert_eq!(d.decode(&encode(&mut e, &a)).unwrap(), a);
    }
}
