//! `hpack-consistent`: every header block the peer decodes equals, field for field, the header
//! list the client encoded for that stream (trailers included, in order), and a connection's
//! HPACK encoder is never in use by two actors at once.
//!
//! Blocks are paired per (connection, stream) in order: the k-th block the peer decodes on a
//! stream must be the k-th block the client encoded for it ([`Event::HeaderBlockEncoded`],
//! [`Event::HeaderBlockDecoded`]). A block the peer rejects is a violation too: a decoding error
//! (COMPRESSION_ERROR), a HEADERS or CONTINUATION frame above the SETTINGS_MAX_FRAME_SIZE the
//! client had to respect (FRAME_SIZE_ERROR), or a header block another frame interrupted
//! (PROTOCOL_ERROR, RFC 9113 section 6.10). This
//! catches golang/go#48340 as the peer sees it: trailers written from a shared buffer that another
//! stream's headers overwrote, and blocks reaching the wire in another order than the encoder's
//! dynamic table was updated in. [`Event::EncoderEnter`] / [`Event::EncoderExit`] bracket each use
//! of the encoder; an enter while another actor is inside is a data race on the encoder.

use super::{Cx, Monitor, MonitorInfo};
use poolcheck_models::sync::{ActorId, Event, Record, RecordKind};
use std::collections::{BTreeMap, VecDeque};

/// Registry entry.
pub const INFO: MonitorInfo = MonitorInfo {
    name: "hpack-consistent",
    holds_when: "every header block the peer decodes equals what the client encoded for that \
                 stream (trailers included; a block the peer rejects, for its HPACK, its frame \
                 sizes or frames between its HEADERS and CONTINUATION, fails), and the encoder \
                 is never used by two actors at once",
    new: || Box::new(HpackConsistent::default()),
};

#[derive(Default)]
struct HpackConsistent {
    /// Encoded and not yet decoded, per (conn, stream).
    sent: BTreeMap<(u32, u32), VecDeque<String>>,
    /// Who is inside each connection's encoder.
    inside: BTreeMap<u32, ActorId>,
}

fn show(headers: &str) -> String {
    let lines: Vec<String> = headers
        .lines()
        .map(|l| {
            if l.len() > 48 {
                format!("{}...({} octets)", &l[..40], l.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("[{}]", lines.join("; "))
}

impl HpackConsistent {
    fn decoded(
        &mut self,
        cx: &Cx<'_>,
        conn: u32,
        stream: u32,
        headers: &Result<String, String>,
    ) -> Result<(), String> {
        let expected = self
            .sent
            .get_mut(&(conn, stream))
            .and_then(VecDeque::pop_front);
        match (headers, expected) {
            (Err(e), exp) => Err(format!(
                "the peer could not decode the header block on connection {conn} stream \
                 {stream}: {e} (the client had encoded {})",
                exp.as_deref().map_or("nothing for it".into(), show)
            )),
            (Ok(got), None) => Err(format!(
                "the peer decoded a header block on connection {conn} stream {stream} that the \
                 client never encoded for it: {}",
                show(got)
            )),
            (Ok(got), Some(exp)) if *got != exp => Err(format!(
                "the peer decoded {} on connection {conn} stream {stream}, but the client \
                 encoded {} for it (the block reached the wire out of encode order or from a \
                 buffer another stream overwrote); seen by {}",
                show(got),
                show(&exp),
                cx.actor(cx.ghost.log.last().map_or(0, |r| r.actor))
            )),
            _ => Ok(()),
        }
    }
}

impl Monitor for HpackConsistent {
    /// The encoder brackets and the header blocks it pairs up.
    fn reads(&self, kind: &RecordKind) -> bool {
        matches!(
            kind,
            RecordKind::Probe(
                Event::EncoderEnter { .. }
                    | Event::EncoderExit { .. }
                    | Event::HeaderBlockEncoded { .. }
                    | Event::HeaderBlockDecoded { .. }
            )
        )
    }

    fn on_record(&mut self, cx: &Cx<'_>, rec: &Record) -> Result<(), String> {
        let RecordKind::Probe(ev) = &rec.kind else {
            return Ok(());
        };
        match ev {
            Event::EncoderEnter { conn } => {
                if let Some(other) = self.inside.get(conn).filter(|a| **a != rec.actor) {
                    return Err(format!(
                        "{} starts using connection {conn}'s HPACK encoder while {} is still \
                         using it",
                        cx.actor(rec.actor),
                        cx.actor(*other)
                    ));
                }
                self.inside.insert(*conn, rec.actor);
            }
            Event::EncoderExit { conn } => {
                self.inside.remove(conn);
            }
            Event::HeaderBlockEncoded {
                conn,
                stream,
                headers,
            } => self
                .sent
                .entry((*conn, *stream))
                .or_default()
                .push_back(headers.clone()),
            Event::HeaderBlockDecoded {
                conn,
                stream,
                headers,
            } => return self.decoded(cx, *conn, *stream, headers),
            _ => {}
        }
        Ok(())
    }
}
