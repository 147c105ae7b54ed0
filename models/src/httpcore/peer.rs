//! The network and the remote peer: one socket per connection, and an HTTP/2 server behind it
//! (or an HTTP/1.1 one: the same frames, a request/response cycle numbered like a stream, no
//! preface and no SETTINGS, [`super::http11`]).
//!
//! The server reacts to what the client writes (the preface, request HEADERS, RST_STREAM) and to
//! the scenario's peer operations (`settings`, `respond`, `reset`, `end-stream`, `goaway`,
//! `disconnect`), which an actor performs at moments the scheduler explores. Its behaviour per
//! request is configured by [`Respond`]: `full` answers every request at once (HEADERS, optional
//! DATA, END_STREAM; a body of several DATA frames waits for the client's WINDOW_UPDATEs past the
//! stream's window, [`PeerConfig::stream_window`]), `headers` sends only response HEADERS (a response that never ends by itself:
//! a long poll, a stream), `manual` waits for `respond` operations. A `respond` or `reset` for a
//! stream the server has not seen yet becomes a plan applied when its HEADERS arrive, so peer
//! operations never block: the peer actor cannot deadlock a scenario by itself.
//!
//! One lock (`network`, internal: it is the kernel's socket buffer, not a lock of httpcore) guards
//! every socket; each client read or write and each peer operation takes it once, which is the
//! one scheduling point of that `await`. A client read blocks (declared [`BlockKind::NetRead`])
//! until a frame arrives or the transport closes.

use super::h2state::{ClientFrame, ServerFrame};
use crate::sync::{blocking, probe, BlockKind, Condvar, Event, LockClass, Mutex};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How the server answers requests when no `respond`/`reset` plan names the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Respond {
    /// A complete response as soon as the request's HEADERS arrive.
    Full,
    /// Response HEADERS only; END_STREAM only on an `end-stream` operation.
    HeadersOnly,
    /// Nothing until a `respond` operation.
    Manual,
}

/// The server's configuration.
#[derive(Clone, Copy, Debug)]
pub struct PeerConfig {
    /// Default answer to a request.
    pub respond: Respond,
    /// MAX_CONCURRENT_STREAMS in the server's first SETTINGS (`None`: the setting is absent).
    pub initial_max_streams: Option<u32>,
    /// Whether a full response carries a body (else HEADERS carry END_STREAM).
    pub body: bool,
    /// DATA frames in a response body (at least 1).
    pub body_frames: u32,
    /// HTTP/2: DATA frames the server sends on a stream before it waits for the client's
    /// WINDOW_UPDATE, one more per update (`None`: bodies never fill the window).
    pub stream_window: Option<u32>,
}

/// What the server does with one request stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Answer with HEADERS, a body if `body`, and END_STREAM if `end_stream`.
    Respond {
        /// Send END_STREAM.
        end_stream: bool,
        /// Send a body.
        body: bool,
    },
    /// Refuse it with RST_STREAM.
    Reset,
}

#[derive(Default)]
struct Wire {
    /// The client's preface arrived (the server has sent its first SETTINGS).
    started: bool,
    /// Server to client, not yet read.
    inbound: VecDeque<ServerFrame>,
    /// The last-stream-id of the GOAWAY the server sent: it processes no stream above it.
    goaway: Option<u32>,
    /// Frames the peer sent before the preface arrived (delivered after its first SETTINGS).
    early: Vec<ServerFrame>,
    /// The server closed the transport.
    eof: bool,
    /// The client closed the transport.
    client_closed: bool,
    /// Request streams whose HEADERS arrived, in order.
    seen: Vec<u32>,
    /// Streams answered (HEADERS sent) or reset by either side.
    answered: BTreeSet<u32>,
    /// Streams answered without END_STREAM.
    unended: BTreeSet<u32>,
    /// Plans for named streams not seen yet.
    planned: BTreeMap<u32, Plan>,
    /// Plans for the next streams to arrive.
    next: VecDeque<Plan>,
    /// `end-stream` operations that found no stream to end yet (0: any stream), applied when a
    /// stream is answered without END_STREAM.
    pending_ends: Vec<u32>,
    /// The client sent the HTTP/2 preface: its DATA is flow-controlled.
    h2: bool,
    /// Body frames waiting for their stream's window, by stream.
    held: BTreeMap<u32, HeldBody>,
}

/// The rest of a response body the stream's window does not admit yet.
#[derive(Clone, Copy, Debug)]
struct HeldBody {
    /// DATA frames still to send.
    frames: u32,
    /// DATA frames the window admits now.
    window: u32,
    /// END_STREAM on the last frame.
    end_stream: bool,
}

/// Every socket of the execution and the server behind them.
pub struct Network {
    config: PeerConfig,
    wires: Mutex<BTreeMap<u32, Wire>>,
    readable: Condvar,
}

/// A client read found the transport closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The server closed it: `read` returned `b""`.
    Eof,
    /// The client closed it (`aclose`): anyio raises `ClosedResourceError`.
    Closed,
}

impl Network {
    /// The network of one execution.
    pub fn new(config: PeerConfig) -> Self {
        Network {
            config,
            wires: Mutex::new("network", LockClass::internal("socket"), BTreeMap::new()),
            readable: Condvar::new("network: frame arrived or transport closed"),
        }
    }

    /// Whether the server's full responses carry DATA unless an operation says otherwise.
    pub fn body_default(&self) -> bool {
        self.config.body
    }

    /// `connect_tcp` + `start_tls` succeeded: the socket of connection `conn` exists. An
    /// HTTP/1.1 server needs no preface: what the peer sent early is readable at once.
    pub fn connect(&self, conn: u32, http11: bool) {
        let mut all = self.wires.lock();
        probe(Event::ResourceOpened {
            kind: "conn",
            id: conn,
        });
        if http11 {
            let w = all.entry(conn).or_default();
            w.started = true;
            let early = std::mem::take(&mut w.early);
            w.inbound.extend(early);
        }
    }

    /// `network_stream.write(data)`: deliver the client's frames; the server reacts at once.
    /// `Err` when the client already closed the transport.
    pub fn write(&self, conn: u32, frames: &[ClientFrame]) -> Result<(), ReadError> {
        let mut all = self.wires.lock();
        let w = all.entry(conn).or_default();
        if w.client_closed {
            return Err(ReadError::Closed);
        }
        for f in frames {
            self.server_receives(conn, w, *f);
        }
        drop(all);
        self.readable.notify_all();
        Ok(())
    }

    /// `network_stream.read()`: wait for frames (or the end of the transport), take them all.
    pub fn read(&self, conn: u32) -> Result<Vec<ServerFrame>, ReadError> {
        blocking(
            BlockKind::NetRead,
            &format!("conn{conn}.network_stream.read"),
        );
        let mut all = self.wires.lock();
        loop {
            let w = all.entry(conn).or_default();
            if w.client_closed {
                return Err(ReadError::Closed);
            }
            if !w.inbound.is_empty() {
                return Ok(w.inbound.drain(..).collect());
            }
            if w.eof {
                return Err(ReadError::Eof);
            }
            all = self.readable.wait(all);
        }
    }

    /// `network_stream.aclose()` by the client.
    pub fn close(&self, conn: u32) {
        let mut all = self.wires.lock();
        let w = all.entry(conn).or_default();
        if !w.client_closed {
            w.client_closed = true;
            probe(Event::ResourceClosed {
                kind: "conn",
                id: conn,
            });
        }
        drop(all);
        self.readable.notify_all();
    }

    fn server_receives(&self, conn: u32, w: &mut Wire, frame: ClientFrame) {
        match frame {
            ClientFrame::Preface => {
                w.started = true;
                w.h2 = true;
                let max_streams = self.config.initial_max_streams;
                w.inbound.push_back(ServerFrame::Settings { max_streams });
                let early = std::mem::take(&mut w.early);
                w.inbound.extend(early);
            }
            ClientFrame::Headers { stream } if w.goaway.is_some_and(|last| stream > last) => {
                // Above the GOAWAY's last-stream-id: ignored, never processed (RFC 9113 6.8).
            }
            ClientFrame::Headers { stream } => {
                w.seen.push(stream);
                probe(Event::PeerProcessed { conn, stream });
                let plan = w.planned.remove(&stream).or_else(|| w.next.pop_front());
                match (plan, self.config.respond) {
                    (Some(p), _) => self.apply(w, stream, p),
                    (None, Respond::Full) => self.apply(w, stream, self.full()),
                    (None, Respond::HeadersOnly) => self.apply(w, stream, Self::headers_only()),
                    (None, Respond::Manual) => {}
                }
            }
            ClientFrame::RstStream { stream } => {
                w.answered.insert(stream);
                w.unended.remove(&stream);
                w.held.remove(&stream);
            }
            ClientFrame::WindowUpdate { stream } => {
                if let Some(body) = w.held.get_mut(&stream) {
                    body.window += 1;
                    send_body(w, stream);
                }
            }
            ClientFrame::SettingsAck | ClientFrame::Goaway => {}
        }
    }

    /// Answer `stream` as `plan` says: HEADERS, then the body as far as the stream's window
    /// admits (every frame of it on HTTP/1.1, which has no flow control).
    fn apply(&self, w: &mut Wire, stream: u32, plan: Plan) {
        w.answered.insert(stream);
        let (end_stream, body) = match plan {
            Plan::Reset => return w.inbound.push_back(ServerFrame::RstStream { stream }),
            Plan::Respond { end_stream, body } => (end_stream, body),
        };
        w.inbound.push_back(ServerFrame::Headers {
            stream,
            end_stream: end_stream && !body,
        });
        if body {
            let frames = self.config.body_frames.max(1);
            let window = self.config.stream_window.filter(|_| w.h2).unwrap_or(frames);
            let body = HeldBody {
                frames,
                window,
                end_stream,
            };
            w.held.insert(stream, body);
            send_body(w, stream);
        }
        if !end_stream {
            w.unended.insert(stream);
            let pending = w.pending_ends.iter().position(|p| *p == 0 || *p == stream);
            if let Some(i) = pending {
                w.pending_ends.remove(i);
                end(w, stream);
            }
        }
    }

    fn full(&self) -> Plan {
        Plan::Respond {
            end_stream: true,
            body: self.config.body,
        }
    }

    fn headers_only() -> Plan {
        Plan::Respond {
            end_stream: false,
            body: false,
        }
    }

    /// Peer operation: send a frame now (or, before the connection exists, once it does).
    pub fn send(&self, conn: u32, frame: ServerFrame) {
        let mut all = self.wires.lock();
        push(all.entry(conn).or_default(), frame);
        drop(all);
        self.readable.notify_all();
    }

    /// Peer operation: apply `plan` to `stream` (0: the oldest unanswered stream, or the next to
    /// arrive); a named stream not seen yet is planned for when its HEADERS arrive.
    pub fn plan(&self, conn: u32, stream: u32, plan: Plan) {
        let mut all = self.wires.lock();
        let w = all.entry(conn).or_default();
        let target = if stream == 0 {
            w.seen.iter().copied().find(|s| !w.answered.contains(s))
        } else {
            Some(stream).filter(|s| w.seen.contains(s))
        };
        match target {
            Some(s) if !w.answered.contains(&s) => self.apply(w, s, plan),
            Some(_) => {}
            None if stream == 0 => w.next.push_back(plan),
            None => {
                w.planned.insert(stream, plan);
            }
        }
        drop(all);
        self.readable.notify_all();
    }

    /// Peer operation: END_STREAM on a stream answered without it (0: the oldest such stream);
    /// if there is none yet, the next stream answered without END_STREAM (or the named one)
    /// ends right after its HEADERS.
    pub fn end_stream(&self, conn: u32, stream: u32) {
        let mut all = self.wires.lock();
        let w = all.entry(conn).or_default();
        let target = if stream == 0 {
            w.unended.iter().next().copied()
        } else {
            w.unended.get(&stream).copied()
        };
        match target {
            Some(s) => end(w, s),
            None => w.pending_ends.push(stream),
        }
        drop(all);
        self.readable.notify_all();
    }

    /// Peer operation: GOAWAY (`last_stream` < 0: the highest stream seen so far).
    pub fn goaway(&self, conn: u32, last_stream: i64) {
        let mut all = self.wires.lock();
        let w = all.entry(conn).or_default();
        let highest = w.seen.iter().max().copied().unwrap_or(0);
        let last_stream = u32::try_from(last_stream).unwrap_or(highest);
        w.goaway = Some(w.goaway.map_or(last_stream, |l| l.min(last_stream)));
        push(w, ServerFrame::Goaway { last_stream });
        drop(all);
        self.readable.notify_all();
    }

    /// Peer operation: close the transport (the client's next read returns `b""`).
    pub fn disconnect(&self, conn: u32) {
        let mut all = self.wires.lock();
        all.entry(conn).or_default().eof = true;
        drop(all);
        self.readable.notify_all();
    }
}

fn push(w: &mut Wire, frame: ServerFrame) {
    if !w.started {
        w.early.push(frame);
    } else if !w.eof {
        w.inbound.push_back(frame);
    }
}

/// Send the frames of `stream`'s held body that its window admits (a DATA frame with END_STREAM
/// last, if the plan ends the stream).
fn send_body(w: &mut Wire, stream: u32) {
    let Some(body) = w.held.get_mut(&stream) else {
        return;
    };
    while body.window > 0 && body.frames > 0 {
        body.window -= 1;
        body.frames -= 1;
        let end_stream = body.end_stream && body.frames == 0;
        w.inbound
            .push_back(ServerFrame::Data { stream, end_stream });
    }
    if body.frames == 0 {
        w.held.remove(&stream);
    }
}

/// END_STREAM on `stream`: on the last frame of its body if part of it is still held, else an
/// empty DATA frame (which no window limits).
fn end(w: &mut Wire, stream: u32) {
    w.unended.remove(&stream);
    match w.held.get_mut(&stream) {
        Some(body) => body.end_stream = true,
        None => w.inbound.push_back(ServerFrame::Data {
            stream,
            end_stream: true,
        }),
    }
}

#[cfg(test)]
#[path = "peer_tests.rs"]
mod tests;
