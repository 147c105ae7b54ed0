//! Wire-level observation: the recorded bytes of every connection decoded into HTTP/2 frames
//! with h2's own codec (its `unstable` feature: `h2::Codec`, `h2::frame`), and the monitors that
//! judge them.
//!
//! Each direction of each connection gets its own codec (so HPACK state is per direction, as on
//! a real connection), fed one recorded chunk at a time in the order the chunks happened; every
//! frame is stamped with the chunk it completed in. The monitors see the frames in that order,
//! from the client's point of view (what it wrote, what it read):
//!
//! - `stream-after-goaway`: a client HEADERS that opens a stream above the smallest
//!   last-stream-id of every GOAWAY the client had read before writing it.
//! - `max-streams`: a client HEADERS that opens a stream while the client already has the
//!   acknowledged MAX_CONCURRENT_STREAMS open (acknowledged: the client wrote the SETTINGS ACK
//!   for the SETTINGS that carried it). A stream counts as open until both sides' END_STREAM
//!   crossed the client end or either side reset it; the client's own processing of what it
//!   read can only lag, so the count never blames the client for a stream it closed.
//! - `frames-decode`: a chunk that does not decode (bad frame, bad header block, bad
//!   preface).

use crate::world::{Chunk, Dir};
use bytes::Bytes;
use futures::Stream as _;
use h2::frame::Frame;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The client connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One decoded frame, as a report row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRow {
    /// Index of the chunk (read or write) the frame completed in.
    pub seq: usize,
    /// Connection index.
    pub conn: usize,
    /// The connection's host.
    pub host: String,
    /// Who sent it: `client` or `server`.
    pub actor: String,
    /// `client->server` or `server->client`.
    pub direction: String,
    /// The frame in words.
    pub frame: String,
}

/// A wire property that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireViolation {
    /// The property.
    pub property: &'static str,
    /// What happened.
    pub message: String,
}

/// The decoded wire of one execution.
#[derive(Default)]
pub struct Decoded {
    /// Every frame, in order.
    pub rows: Vec<WireRow>,
    /// HEADERS frames per `x-req` value the client wrote.
    pub attempts: BTreeMap<String, u32>,
    /// The first violation of each property, in order found.
    pub violations: Vec<WireViolation>,
}

/// A reader fed by hand: returns what was pushed, then `Pending`.
#[derive(Clone, Default)]
struct Feed(Rc<RefCell<VecDeque<u8>>>);

impl AsyncRead for Feed {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut q = self.0.borrow_mut();
        if q.is_empty() {
            return Poll::Pending;
        }
        let n = buf.remaining().min(q.len());
        let bytes: Vec<u8> = q.drain(..n).collect();
        buf.put_slice(&bytes);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Feed {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One direction of one connection.
struct Lane {
    feed: Feed,
    codec: h2::Codec<Feed, Bytes>,
    preface_left: usize,
    broken: bool,
}

impl Lane {
    fn new(dir: Dir) -> Self {
        let feed = Feed::default();
        Lane {
            codec: h2::Codec::new(feed.clone()),
            feed,
            preface_left: if dir == Dir::ClientWrite {
                PREFACE.len()
            } else {
                0
            },
            broken: false,
        }
    }

    /// Feed a chunk; returns the frames it completed, or the decode error.
    fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<Frame>, String> {
        if self.broken {
            return Ok(Vec::new());
        }
        if self.preface_left > 0 {
            let n = self.preface_left.min(bytes.len());
            let at = PREFACE.len() - self.preface_left;
            if bytes[..n] != PREFACE[at..at + n] {
                self.broken = true;
                return Err("the client's connection preface is wrong".into());
            }
            self.preface_left -= n;
            bytes = &bytes[n..];
        }
        self.feed.0.borrow_mut().extend(bytes);
        let mut out = Vec::new();
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        loop {
            match Pin::new(&mut self.codec).poll_next(&mut cx) {
                Poll::Ready(Some(Ok(f))) => out.push(f),
                Poll::Ready(Some(Err(e))) => {
                    self.broken = true;
                    return Err(format!("frame does not decode: {e}"));
                }
                Poll::Ready(None) | Poll::Pending => return Ok(out),
            }
        }
    }
}

#[derive(Clone, Copy, Default)]
struct StreamState {
    local_end: bool,
    remote_end: bool,
    reset: bool,
}

impl StreamState {
    fn open(&self) -> bool {
        !(self.reset || (self.local_end && self.remote_end))
    }
}

/// The client's view of one connection, for the monitors.
#[derive(Default)]
struct ConnView {
    goaway_last: Option<u32>,
    pending_settings: VecDeque<Option<u32>>,
    acked_max: Option<u32>,
    streams: BTreeMap<u32, StreamState>,
}

/// Decode the chunks of one execution and run the monitors over them.
pub fn decode(chunks: &[Chunk], hosts: &[String]) -> Decoded {
    let mut lanes: BTreeMap<(usize, Dir), Lane> = BTreeMap::new();
    let mut views: BTreeMap<usize, ConnView> = BTreeMap::new();
    let mut out = Decoded::default();
    for (seq, chunk) in chunks.iter().enumerate() {
        let lane = lanes
            .entry((chunk.conn, chunk.dir))
            .or_insert_with(|| Lane::new(chunk.dir));
        let host = hosts.get(chunk.conn).cloned().unwrap_or_default();
        let (actor, direction) = match chunk.dir {
            Dir::ClientWrite => ("client", "client->server"),
            Dir::ClientRead => ("server", "server->client"),
        };
        let row = |frame: String| WireRow {
            seq,
            conn: chunk.conn,
            host: host.clone(),
            actor: actor.into(),
            direction: direction.into(),
            frame,
        };
        if chunk.dir == Dir::ClientWrite && lane.preface_left == PREFACE.len() {
            out.rows.push(row("PREFACE".into()));
        }
        let frames = match lane.push(&chunk.bytes) {
            Ok(f) => f,
            Err(e) => {
                out.rows.push(row(format!("UNDECODABLE: {e}")));
                violation(
                    &mut out,
                    "frames-decode",
                    format!("conn {} {direction}: {e}", chunk.conn),
                );
                continue;
            }
        };
        let view = views.entry(chunk.conn).or_default();
        for f in frames {
            out.rows.push(row(describe(&f)));
            observe(view, chunk.dir, &f, chunk.conn, &mut out);
        }
    }
    out
}

fn violation(out: &mut Decoded, property: &'static str, message: String) {
    if !out.violations.iter().any(|v| v.property == property) {
        out.violations.push(WireViolation { property, message });
    }
}

fn observe(view: &mut ConnView, dir: Dir, f: &Frame, conn: usize, out: &mut Decoded) {
    match (dir, f) {
        (Dir::ClientWrite, Frame::Headers(h)) => {
            let id = u32::from(h.stream_id());
            if let Some(name) = h.fields().get("x-req").and_then(|v| v.to_str().ok()) {
                *out.attempts.entry(name.to_owned()).or_default() += 1;
            }
            let end = h.is_end_stream();
            if let Some(s) = view.streams.get_mut(&id) {
                s.local_end |= end; // trailers
                return;
            }
            if let Some(last) = view.goaway_last.filter(|last| id > *last) {
                violation(
                    out,
                    "stream-after-goaway",
                    format!(
                        "conn {conn}: the client opened stream {id} after reading a GOAWAY \
                         with last-stream-id {last}"
                    ),
                );
            }
            let open = view.streams.values().filter(|s| s.open()).count();
            if let Some(max) = view.acked_max.filter(|m| open >= *m as usize) {
                violation(
                    out,
                    "max-streams",
                    format!(
                        "conn {conn}: the client opened stream {id} with {open} stream(s) open, \
                         after acknowledging MAX_CONCURRENT_STREAMS = {max}"
                    ),
                );
            }
            view.streams.insert(
                id,
                StreamState {
                    local_end: end,
                    ..StreamState::default()
                },
            );
        }
        (Dir::ClientWrite, Frame::Data(d)) if d.is_end_stream() => {
            stream(view, u32::from(d.stream_id())).local_end = true;
        }
        (Dir::ClientRead, Frame::Data(d)) if d.is_end_stream() => {
            stream(view, u32::from(d.stream_id())).remote_end = true;
        }
        (Dir::ClientRead, Frame::Headers(h)) if h.is_end_stream() => {
            stream(view, u32::from(h.stream_id())).remote_end = true;
        }
        (_, Frame::Reset(r)) => stream(view, u32::from(r.stream_id())).reset = true,
        (Dir::ClientRead, Frame::Settings(s)) if !s.is_ack() => {
            view.pending_settings.push_back(s.max_concurrent_streams());
        }
        (Dir::ClientWrite, Frame::Settings(s)) if s.is_ack() => {
            if let Some(Some(max)) = view.pending_settings.pop_front() {
                view.acked_max = Some(max);
            }
        }
        (Dir::ClientRead, Frame::GoAway(g)) => {
            let last = u32::from(g.last_stream_id());
            view.goaway_last = Some(view.goaway_last.map_or(last, |l| l.min(last)));
        }
        _ => {}
    }
}

fn stream(view: &mut ConnView, id: u32) -> &mut StreamState {
    view.streams.entry(id).or_default()
}

/// A frame in words, stable across runs.
pub fn describe(f: &Frame) -> String {
    match f {
        Frame::Headers(h) => {
            let mut s = format!("HEADERS stream={}", u32::from(h.stream_id()));
            if h.is_end_stream() {
                s.push_str(" END_STREAM");
            }
            for key in ["x-req"] {
                if let Some(v) = h.fields().get(key).and_then(|v| v.to_str().ok()) {
                    s.push_str(&format!(" {key}={v}"));
                }
            }
            s
        }
        Frame::Data(d) => format!(
            "DATA stream={} len={}{}",
            u32::from(d.stream_id()),
            d.payload().len(),
            if d.is_end_stream() { " END_STREAM" } else { "" }
        ),
        Frame::Settings(s) if s.is_ack() => "SETTINGS ACK".into(),
        Frame::Settings(s) => {
            let mut out = "SETTINGS".to_owned();
            if let Some(m) = s.max_concurrent_streams() {
                out.push_str(&format!(" MAX_CONCURRENT_STREAMS={m}"));
            }
            if let Some(w) = s.initial_window_size() {
                out.push_str(&format!(" INITIAL_WINDOW_SIZE={w}"));
            }
            out
        }
        Frame::GoAway(g) => format!(
            "GOAWAY last-stream-id={} {}",
            u32::from(g.last_stream_id()),
            reason(g.reason())
        ),
        Frame::Reset(r) => format!(
            "RST_STREAM stream={} {}",
            u32::from(r.stream_id()),
            reason(r.reason())
        ),
        Frame::Ping(p) => format!("PING{}", if p.is_ack() { " ACK" } else { "" }),
        Frame::WindowUpdate(w) => format!(
            "WINDOW_UPDATE stream={} +{}",
            u32::from(w.stream_id()),
            w.size_increment()
        ),
        Frame::Priority(_) => "PRIORITY".into(),
        Frame::PushPromise(p) => format!("PUSH_PROMISE stream={}", u32::from(p.stream_id())),
    }
}

fn reason(r: h2::Reason) -> String {
    match r {
        h2::Reason::NO_ERROR => "NO_ERROR".into(),
        h2::Reason::PROTOCOL_ERROR => "PROTOCOL_ERROR".into(),
        h2::Reason::INTERNAL_ERROR => "INTERNAL_ERROR".into(),
        h2::Reason::REFUSED_STREAM => "REFUSED_STREAM".into(),
        h2::Reason::CANCEL => "CANCEL".into(),
        other => format!("error-code={}", u32::from(other)),
    }
}

/// FNV-1a over a sequence of chunks: equal digests mean (almost surely) equal wire bytes.
pub fn digest(mut state: u64, chunks: &[Chunk]) -> u64 {
    let mut eat = |b: u8| {
        state ^= u64::from(b);
        state = state.wrapping_mul(0x0100_0000_01b3);
    };
    for c in chunks {
        for b in (c.conn as u64).to_le_bytes() {
            eat(b);
        }
        eat(c.dir as u8);
        for b in (c.bytes.len() as u64).to_le_bytes() {
            eat(b);
        }
        c.bytes.iter().copied().for_each(&mut eat);
    }
    state
}

/// The FNV-1a offset basis.
pub const DIGEST_SEED: u64 = 0xcbf2_9ce4_8422_2325;

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = len.to_be_bytes()[1..].to_vec();
        out.extend([kind, flags]);
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }

    /// HEADERS, END_STREAM | END_HEADERS: GET http / with `x-req: <name>` (HPACK literal).
    fn headers(stream: u32, name: &str) -> Vec<u8> {
        let mut block = vec![0x82, 0x86, 0x84, 0x00, 5];
        block.extend(b"x-req");
        block.push(name.len() as u8);
        block.extend(name.as_bytes());
        frame(0x1, 0x5, stream, &block)
    }

    fn settings_max_streams(n: u32) -> Vec<u8> {
        let mut p = 3u16.to_be_bytes().to_vec();
        p.extend(n.to_be_bytes());
        frame(0x4, 0, 0, &p)
    }

    fn goaway(last: u32) -> Vec<u8> {
        let mut p = last.to_be_bytes().to_vec();
        p.extend(0u32.to_be_bytes());
        frame(0x7, 0, 0, &p)
    }

    fn chunk(dir: Dir, parts: &[Vec<u8>]) -> Chunk {
        Chunk {
            conn: 0,
            dir,
            bytes: parts.concat(),
        }
    }

    fn run(chunks: &[Chunk]) -> Decoded {
        decode(chunks, &["a".to_owned()])
    }

    fn properties(d: &Decoded) -> Vec<&'static str> {
        d.violations.iter().map(|v| v.property).collect()
    }

    #[test]
    fn opening_beyond_the_acknowledged_limit_is_caught() {
        let d = run(&[
            chunk(Dir::ClientWrite, &[PREFACE.to_vec()]),
            chunk(Dir::ClientRead, &[settings_max_streams(1)]),
            chunk(
                Dir::ClientWrite,
                &[frame(0x4, 0x1, 0, &[]), headers(1, "A"), headers(3, "B")],
            ),
        ]);
        assert_eq!(properties(&d), ["max-streams"]);
        assert_eq!(d.attempts["A"], 1);
        assert!(d
            .rows
            .iter()
            .any(|r| r.frame == "HEADERS stream=3 END_STREAM x-req=B"));
    }

    #[test]
    fn streams_opened_before_the_ack_are_allowed() {
        let d = run(&[
            chunk(
                Dir::ClientWrite,
                &[PREFACE.to_vec(), headers(1, "A"), headers(3, "B")],
            ),
            chunk(Dir::ClientRead, &[settings_max_streams(1)]),
            chunk(Dir::ClientWrite, &[frame(0x4, 0x1, 0, &[])]),
        ]);
        assert!(d.violations.is_empty(), "{:?}", d.violations);
    }

    #[test]
    fn a_stream_above_the_goaway_is_caught() {
        let d = run(&[
            chunk(Dir::ClientWrite, &[PREFACE.to_vec(), headers(1, "A")]),
            chunk(Dir::ClientRead, &[goaway(1)]),
            chunk(Dir::ClientWrite, &[headers(3, "B")]),
        ]);
        assert_eq!(properties(&d), ["stream-after-goaway"]);
    }

    #[test]
    fn an_undecodable_header_block_is_caught() {
        let d = run(&[chunk(
            Dir::ClientWrite,
            &[
                PREFACE.to_vec(),
                frame(0x1, 0x5, 1, &[0xff, 0xff, 0xff, 0xff]),
            ],
        )]);
        assert_eq!(properties(&d), ["frames-decode"]);
        let d = run(&[chunk(
            Dir::ClientWrite,
            &[b"GET / HTTP/1.1\r\n\r\n".to_vec()],
        )]);
        assert_eq!(properties(&d), ["frames-decode"]);
    }
}
