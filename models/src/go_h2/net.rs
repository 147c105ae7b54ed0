//! The network: one in-memory connection per dial, between a [`super::client_conn::ClientConn`]
//! and its [`Peer`].
//!
//! Client-to-peer frames are read by the peer the moment they are written, while the peer is
//! reading; after `stop-reading` they queue in the connection's buffer (`net_buffer` octets,
//! 1024 by default, like the seed test's `blockingWriteConn`), and a write that does not fit
//! stalls until `resume-reading` (or a close). A stall is a condition-variable wait that the
//! writer entered after declaring `blocking(NetWrite, ..)`, so `lock-held-blocking` judges every
//! write whether or not it stalls. Peer-to-client frames queue without limit and are read by the
//! connection's read loop, one per scheduling step.
//!
//! Abstractions: frames are whole units (a frame never half-fits), HEADERS are never split into
//! CONTINUATION frames, and the client's `bufio.Writer` is flushed at every `Flush` point of the
//! original (every client write in the model is a write + flush).

use super::peer::{Peer, PeerConfig};
use crate::sync::{Condvar, LockClass, Mutex, MutexGuard};
use std::collections::VecDeque;

/// An HTTP/2 error code (RFC 7540 section 7), the ones the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrCode {
    /// PROTOCOL_ERROR.
    Protocol,
    /// INTERNAL_ERROR.
    Internal,
    /// FLOW_CONTROL_ERROR.
    FlowControl,
    /// REFUSED_STREAM.
    RefusedStream,
    /// CANCEL.
    Cancel,
    /// COMPRESSION_ERROR.
    Compression,
}

/// A frame the client writes.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientFrame {
    /// The connection preface, the client's SETTINGS (INITIAL_WINDOW_SIZE) and its connection
    /// WINDOW_UPDATE, as `newClientConn` writes them.
    Preface {
        /// `transportDefaultStreamFlow`.
        initial_window: i64,
        /// `transportDefaultConnFlow`.
        conn_window_update: i64,
    },
    /// SETTINGS with ACK.
    SettingsAck,
    /// HEADERS carrying a complete header block.
    Headers {
        /// Stream id.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// The HPACK block as written (for trailers at 95888ee7: whatever `hbuf` holds now).
        block: Vec<u8>,
    },
    /// DATA (request body); only its length is modelled.
    Data {
        /// Stream id.
        stream: u32,
        /// Payload octets.
        len: u32,
        /// END_STREAM.
        end_stream: bool,
    },
    /// WINDOW_UPDATE (stream 0: the connection).
    WindowUpdate {
        /// Stream id.
        stream: u32,
        /// Increment.
        inc: i64,
    },
    /// RST_STREAM.
    RstStream {
        /// Stream id.
        stream: u32,
        /// Error code.
        code: ErrCode,
    },
}

impl ClientFrame {
    /// Octets on the wire (9-octet frame header + payload).
    pub fn wire_len(&self) -> usize {
        9 + match self {
            ClientFrame::Preface { .. } => 24 + 12 + 13,
            ClientFrame::SettingsAck => 0,
            ClientFrame::Headers { block, .. } => block.len(),
            ClientFrame::Data { len, .. } => *len as usize,
            ClientFrame::WindowUpdate { .. } => 4,
            ClientFrame::RstStream { .. } => 4,
        }
    }

    /// Short description for traces.
    pub fn describe(&self) -> String {
        match self {
            ClientFrame::Preface { .. } => "preface+SETTINGS".into(),
            ClientFrame::SettingsAck => "SETTINGS ACK".into(),
            ClientFrame::Headers { stream, .. } => format!("HEADERS({stream})"),
            ClientFrame::Data { stream, len, .. } => format!("DATA({stream}, {len})"),
            ClientFrame::WindowUpdate { stream, inc } => format!("WINDOW_UPDATE({stream}, {inc})"),
            ClientFrame::RstStream { stream, .. } => format!("RST_STREAM({stream})"),
        }
    }
}

/// A frame the peer sends.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerFrame {
    /// SETTINGS (not ACK).
    Settings {
        /// SETTINGS_MAX_CONCURRENT_STREAMS.
        max_streams: Option<u32>,
        /// SETTINGS_HEADER_TABLE_SIZE.
        header_table_size: Option<u32>,
    },
    /// SETTINGS with ACK.
    SettingsAck,
    /// Response HEADERS (`:status: 200`; the client's response decoding is not modelled).
    Headers {
        /// Stream id.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
    },
    /// Response DATA.
    Data {
        /// Stream id.
        stream: u32,
        /// Payload octets.
        len: u32,
        /// Padding octets (flow-controlled, refunded by the client at once).
        pad: u32,
        /// END_STREAM.
        end_stream: bool,
        /// Ghost: the peer's send window for the stream before this frame.
        peer_window: i64,
    },
    /// RST_STREAM.
    RstStream {
        /// Stream id.
        stream: u32,
        /// Error code.
        code: ErrCode,
    },
    /// GOAWAY.
    GoAway {
        /// Last-stream-id.
        last: u32,
    },
    /// WINDOW_UPDATE (request-body flow control back to the client).
    WindowUpdate {
        /// Stream id (0: the connection).
        stream: u32,
        /// Increment.
        inc: i64,
    },
}

/// What the read loop's `ReadFrame` returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// The next frame.
    Frame(PeerFrame),
    /// The connection is closed (EOF, or the client closed its end).
    Eof,
    /// The execution is over and its servers are gone ([`Net::teardown`]).
    TornDown,
}

/// A write failed: the connection is closed (Go's sticky `cc.werr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteError(pub String);

/// One connection.
pub struct Wire {
    /// The peer playing the server.
    pub peer: Peer,
    /// Client-to-peer frames written but not read yet (the peer stopped reading).
    buffered: VecDeque<ClientFrame>,
    buffered_len: usize,
    reading: bool,
    capacity: usize,
    /// Writers waiting for room right now.
    stalled: u32,
    /// The client closed its end (`tconn.Close`).
    client_closed: bool,
    /// SETTINGS ACKs the client wrote (for `await-settings`).
    client_acks: u32,
    /// The execution ended: the read loop stops without processing anything more.
    torn_down: bool,
}

impl Wire {
    fn deliver_buffered(&mut self) {
        while let Some(f) = self.buffered.pop_front() {
            self.buffered_len -= f.wire_len();
            self.peer.on_frame(f);
        }
    }
}

/// All connections of one execution, behind one lock (class `internal`: the kernel's socket
/// buffers, not a lock of the original).
pub struct Net {
    state: Mutex<Vec<Wire>>,
    changed: Condvar,
    peer_config: PeerConfig,
    capacity: usize,
}

impl Net {
    /// A network whose peers follow `peer_config` and whose connections buffer `capacity`
    /// octets while the peer is not reading.
    pub fn new(peer_config: PeerConfig, capacity: usize) -> Self {
        Net {
            state: Mutex::new("net", LockClass::internal("net"), Vec::new()),
            changed: Condvar::new("net: frames, room or state changed"),
            peer_config,
            capacity,
        }
    }

    /// A new connection to `host` (the server accepts and queues its initial SETTINGS).
    pub fn accept(&self, host: &str) -> u32 {
        let mut s = self.state.lock();
        let conn = u32::try_from(s.len() + 1).expect("few connections");
        s.push(Wire {
            peer: Peer::new(conn, host, self.peer_config.clone()),
            buffered: VecDeque::new(),
            buffered_len: 0,
            reading: true,
            capacity: self.capacity,
            stalled: 0,
            client_closed: false,
            client_acks: 0,
            torn_down: false,
        });
        conn
    }

    /// Write and flush `frames` (the caller declared `blocking(NetWrite, ..)`); stalls while the
    /// peer does not read and the buffer is full.
    pub fn write(&self, conn: u32, frames: Vec<ClientFrame>) -> Result<(), WriteError> {
        let mut s = self.state.lock();
        for f in frames {
            s = self.write_one(s, conn, f)?;
        }
        drop(s);
        self.changed.notify_all();
        Ok(())
    }

    fn write_one<'a>(
        &'a self,
        mut s: MutexGuard<'a, Vec<Wire>>,
        conn: u32,
        f: ClientFrame,
    ) -> Result<MutexGuard<'a, Vec<Wire>>, WriteError> {
        loop {
            let w = &mut s[idx(conn)];
            if w.client_closed {
                return Err(WriteError(format!(
                    "write {}: connection closed",
                    f.describe()
                )));
            }
            if w.peer.closed {
                // The kernel accepts the write; the peer's close shows up on the read side.
                return Ok(s);
            }
            if w.reading {
                if f == ClientFrame::SettingsAck {
                    w.client_acks += 1;
                }
                w.peer.on_frame(f);
                return Ok(s);
            }
            if w.buffered_len + f.wire_len() <= w.capacity {
                if f == ClientFrame::SettingsAck {
                    w.client_acks += 1;
                }
                w.buffered_len += f.wire_len();
                w.buffered.push_back(f);
                return Ok(s);
            }
            w.stalled += 1;
            self.changed.notify_all();
            s = self.changed.wait(s);
            s[idx(conn)].stalled -= 1;
        }
    }

    /// The read loop's `ReadFrame`: the next frame, or the end of the connection.
    pub fn read(&self, conn: u32) -> Read {
        let mut s = self.state.lock();
        loop {
            let w = &mut s[idx(conn)];
            if w.torn_down {
                return Read::TornDown;
            }
            if w.client_closed {
                return Read::Eof;
            }
            if let Some(f) = w.peer.inbound.pop_front() {
                return Read::Frame(f);
            }
            if w.peer.closed {
                return Read::Eof;
            }
            s = self.changed.wait(s);
        }
    }

    /// The end of the execution, after the client's own cleanup: every connection's server goes
    /// away and its read loop stops without recording anything, so the connections the client
    /// left open stay open for `no-leak` to judge.
    pub fn teardown(&self) {
        for w in self.state.lock().iter_mut() {
            w.torn_down = true;
        }
        self.changed.notify_all();
    }

    /// The client closes its end (`cc.tconn.Close()`); stalled writers fail.
    pub fn close(&self, conn: u32) {
        self.state.lock()[idx(conn)].client_closed = true;
        self.changed.notify_all();
    }

    /// Run a peer operation on connection `conn`, waiting until the connection exists and
    /// `ready` holds; returns what `op` returns.
    pub fn peer_op<R>(
        &self,
        conn: u32,
        ready: impl Fn(&Wire) -> bool,
        op: impl FnOnce(&mut Peer) -> R,
    ) -> R {
        let mut s = self.state.lock();
        loop {
            if let Some(w) = s.get_mut(idx(conn)) {
                if ready(w) {
                    let r = op(&mut w.peer);
                    drop(s);
                    self.changed.notify_all();
                    return r;
                }
            }
            s = self.changed.wait(s);
        }
    }

    /// Run a peer operation on the first connection where `ready` holds (in creation order).
    pub fn peer_op_any<R>(
        &self,
        ready: impl Fn(&Wire) -> bool,
        op: impl FnOnce(&mut Peer) -> R,
    ) -> R {
        let mut s = self.state.lock();
        loop {
            if let Some(w) = s.iter_mut().find(|w| ready(w)) {
                let r = op(&mut w.peer);
                drop(s);
                self.changed.notify_all();
                return r;
            }
            s = self.changed.wait(s);
        }
    }

    /// The peer stops reading connection `conn` (waits until it exists).
    pub fn stop_reading(&self, conn: u32) {
        self.wire_op(conn, |w| w.reading = false);
    }

    /// The peer reads again: everything buffered is read, stalled writers continue.
    pub fn resume_reading(&self, conn: u32) {
        self.wire_op(conn, |w| {
            w.reading = true;
            w.deliver_buffered();
        });
    }

    fn wire_op(&self, conn: u32, op: impl FnOnce(&mut Wire)) {
        self.peer_op_wire(conn, |_| true, op);
    }

    fn peer_op_wire(&self, conn: u32, ready: impl Fn(&Wire) -> bool, op: impl FnOnce(&mut Wire)) {
        let mut s = self.state.lock();
        loop {
            if let Some(w) = s.get_mut(idx(conn)) {
                if ready(w) {
                    op(w);
                    drop(s);
                    self.changed.notify_all();
                    return;
                }
            }
            s = self.changed.wait(s);
        }
    }

    /// Wait until a write on `conn` is stalled (the seed test's `conn.wait()`).
    pub fn await_stall(&self, conn: u32) {
        self.peer_op_wire(conn, |w| w.stalled > 0, |_| {});
    }

    /// Wait until the client wrote `acks` SETTINGS ACKs on `conn` (1: the initial SETTINGS).
    pub fn await_settings(&self, conn: u32, acks: u32) {
        self.peer_op_wire(conn, |w| w.client_acks >= acks, |_| {});
    }
}

fn idx(conn: u32) -> usize {
    conn as usize - 1
}
