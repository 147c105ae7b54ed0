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
//! Each connection is full duplex with its own state, like the `net.Conn` that golang/net
//! `http2/transport.go` (4e4d966f, `newClientConn` 699-700) wraps in `cc.bw` for writing and
//! `cc.br` for the read loop: a [`Wire`] keeps the client-to-peer direction (with the peer's
//! state, which the client's writes drive) and the peer-to-client direction behind two locks
//! with a condition variable each. Writers and the read loop of one connection, and different
//! connections, then touch no common object unless a frame really passes between them: the
//! `dpor` scheduler sees them as independent, as they are (one lock for the whole network made
//! every network step depend on every other). The connections are found by number in a
//! [`Plain`] list (reading it commutes); a peer operation that waits for a connection to be
//! dialed, or for any connection to be ready, waits on the network's own lock.
//!
//! A header block larger than the peer's SETTINGS_MAX_FRAME_SIZE travels as HEADERS +
//! CONTINUATION frames ([`ClientFrame::Continuation`]) written by one [`Wire::write`], as
//! upstream's `writeHeaders` writes them all under `cc.wmu` (RFC 9113 section 6.10: the frames of
//! a header block are contiguous); the peer checks that and each frame's size.
//!
//! Abstractions: frames are whole units (a frame never half-fits), and the client's
//! `bufio.Writer` is flushed at every `Flush` point of the original (every client write in the
//! model is a write + flush).

use super::peer::{Peer, PeerConfig};
use crate::sync::{Condvar, LockClass, Mutex, MutexGuard, Plain};
use std::collections::VecDeque;
use std::sync::Arc;

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
    /// HEADERS carrying the first fragment of a header block.
    Headers {
        /// Stream id.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// END_HEADERS: the block is complete (otherwise CONTINUATION frames follow).
        end_headers: bool,
        /// The HPACK fragment as written (for trailers at 95888ee7: whatever `hbuf` holds now).
        block: Vec<u8>,
    },
    /// CONTINUATION: the next fragment of the header block a HEADERS frame started.
    Continuation {
        /// Stream id.
        stream: u32,
        /// END_HEADERS: the last fragment.
        end_headers: bool,
        /// The HPACK fragment.
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
            ClientFrame::Headers { block, .. } | ClientFrame::Continuation { block, .. } => {
                block.len()
            }
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
            ClientFrame::Continuation { stream, .. } => format!("CONTINUATION({stream})"),
            ClientFrame::Data { stream, len, .. } => format!("DATA({stream}, {len})"),
            ClientFrame::WindowUpdate { stream, inc } => format!("WINDOW_UPDATE({stream}, {inc})"),
            ClientFrame::RstStream { stream, .. } => format!("RST_STREAM({stream})"),
        }
    }
}

/// SETTINGS_MAX_FRAME_SIZE's initial value and lower bound (RFC 9113 section 6.5.2).
pub const MIN_MAX_FRAME_SIZE: u32 = 16 << 10;
/// SETTINGS_MAX_FRAME_SIZE's upper bound.
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

/// The parameters of one SETTINGS frame the peer sends (`None`: not in the frame).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub max_streams: Option<u32>,
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub header_table_size: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload the peer accepts.
    pub max_frame_size: Option<u32>,
}

/// A frame the peer sends.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerFrame {
    /// SETTINGS (not ACK).
    Settings(Settings),
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
        /// Ghost: the peer's send windows for the stream and the connection before this frame.
        peer_windows: (i64, i64),
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

/// The client-to-peer direction of one connection, and the peer the client's frames drive.
pub struct Upstream {
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
    /// The peer's close was passed on to the peer-to-client direction.
    close_sent: bool,
}

impl Upstream {
    fn deliver_buffered(&mut self) {
        while let Some(f) = self.buffered.pop_front() {
            self.buffered_len -= f.wire_len();
            self.peer.on_frame(f);
        }
    }

    /// The peer reads `f` now (its reply, if any, waits in its outbox for [`Wire::flush`]).
    fn deliver(&mut self, f: ClientFrame) {
        if f == ClientFrame::SettingsAck {
            self.client_acks += 1;
        }
        self.peer.on_frame(f);
    }

    fn buffer(&mut self, f: ClientFrame) {
        if f == ClientFrame::SettingsAck {
            self.client_acks += 1;
        }
        self.buffered_len += f.wire_len();
        self.buffered.push_back(f);
    }
}

/// The peer-to-client direction of one connection: what the read loop reads.
#[derive(Default)]
struct Downstream {
    /// Frames the peer sent and the read loop has not read yet.
    frames: VecDeque<PeerFrame>,
    /// The peer closed the connection: EOF once `frames` is drained.
    peer_closed: bool,
    /// The client closed its end (`tconn.Close`).
    client_closed: bool,
    /// The execution ended: the read loop stops without processing anything more.
    torn_down: bool,
}

/// What a peer operation waiting on some connection ([`Net::peer_op_any`]) or on one not dialed
/// yet waits on: the network's own lock, told about every dial and, while such an operation
/// waits, about every change of a peer's state.
struct Watch {
    lock: Mutex<()>,
    changed: Condvar,
    /// Peer operations waiting for any connection to be ready (read by every change: reads
    /// commute, so a change is independent of another unless someone waits).
    any_waiters: Plain<u32>,
}

impl Watch {
    /// A peer's state changed: wake the operations waiting for any connection, if there are.
    fn poke(&self) {
        if self.any_waiters.get() > 0 {
            drop(self.lock.lock());
            self.changed.notify_all();
        }
    }
}

/// One connection (class `internal` locks: the kernel's socket buffers, not locks of the
/// original).
pub struct Wire {
    id: u32,
    up: Mutex<Upstream>,
    up_changed: Condvar,
    down: Mutex<Downstream>,
    down_changed: Condvar,
    watch: Arc<Watch>,
}

impl Wire {
    fn new(id: u32, peer: Peer, capacity: usize, watch: Arc<Watch>) -> Self {
        let up = Upstream {
            peer,
            buffered: VecDeque::new(),
            buffered_len: 0,
            reading: true,
            capacity,
            stalled: 0,
            client_closed: false,
            client_acks: 0,
            close_sent: false,
        };
        let class = || LockClass::internal("net");
        let wire = Wire {
            id,
            up: Mutex::new(format!("conn{id} client->peer"), class(), up),
            up_changed: Condvar::new(format!(
                "conn{id} client->peer: read, room or state changed"
            )),
            down: Mutex::new(
                format!("conn{id} peer->client"),
                class(),
                Downstream::default(),
            ),
            down_changed: Condvar::new(format!("conn{id} peer->client: frames or end")),
            watch,
        };
        // The server accepts and queues its initial SETTINGS.
        wire.flush(&mut wire.up.lock());
        wire
    }

    /// The connection's number (dials count from 1).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Write and flush `frames` (the caller declared `blocking(NetWrite, ..)`); stalls while the
    /// peer does not read and the buffer is full.
    pub fn write(&self, frames: Vec<ClientFrame>) -> Result<(), WriteError> {
        let mut up = self.up.lock();
        for f in frames {
            up = self.write_one(up, f)?;
        }
        self.flush(&mut up);
        drop(up);
        self.changed();
        Ok(())
    }

    fn write_one<'a>(
        &'a self,
        mut up: MutexGuard<'a, Upstream>,
        f: ClientFrame,
    ) -> Result<MutexGuard<'a, Upstream>, WriteError> {
        loop {
            if up.client_closed {
                return Err(WriteError(format!(
                    "write {}: connection closed",
                    f.describe()
                )));
            }
            if up.peer.closed {
                // The kernel accepts the write; the peer's close shows up on the read side.
                return Ok(up);
            }
            if up.reading {
                up.deliver(f);
                return Ok(up);
            }
            if up.buffered_len + f.wire_len() <= up.capacity {
                up.buffer(f);
                return Ok(up);
            }
            // What the peer sent so far is on the wire while this writer waits for room.
            self.flush(&mut up);
            up.stalled += 1;
            self.up_changed.notify_all();
            up = self.up_changed.wait(up);
            up.stalled -= 1;
        }
    }

    /// Pass what the peer sent (and its close) on to the peer-to-client direction, in order:
    /// called with the client-to-peer lock held after every change of the peer (lock order:
    /// client->peer, then peer->client). Touches the other direction only when there is
    /// something to pass on.
    fn flush(&self, up: &mut Upstream) {
        let closing = up.peer.closed && !up.close_sent;
        if up.peer.inbound.is_empty() && !closing {
            return;
        }
        let mut down = self.down.lock();
        down.frames.extend(up.peer.inbound.drain(..));
        down.peer_closed |= up.peer.closed;
        up.close_sent = up.peer.closed;
        drop(down);
        self.down_changed.notify_all();
    }

    /// The peer's state or the client-to-peer buffer changed (the lock is released).
    fn changed(&self) {
        self.up_changed.notify_all();
        self.watch.poke();
    }

    /// The read loop's `ReadFrame`: the next frame, or the end of the connection.
    pub fn read(&self) -> Read {
        let mut down = self.down.lock();
        loop {
            if down.torn_down {
                return Read::TornDown;
            }
            if down.client_closed {
                return Read::Eof;
            }
            if let Some(f) = down.frames.pop_front() {
                return Read::Frame(f);
            }
            if down.peer_closed {
                return Read::Eof;
            }
            down = self.down_changed.wait(down);
        }
    }

    /// The client closes its end (`cc.tconn.Close()`, one call for both directions): stalled
    /// writers fail, the read loop reads EOF.
    pub fn close(&self) {
        let mut up = self.up.lock();
        up.client_closed = true;
        self.down.lock().client_closed = true;
        drop(up);
        self.down_changed.notify_all();
        self.changed();
    }

    /// The execution ended: the read loop stops.
    fn tear_down(&self) {
        self.down.lock().torn_down = true;
        self.down_changed.notify_all();
    }

    /// Wait until `ready` holds, then run `op` on the client-to-peer direction.
    fn upstream_op<R>(
        &self,
        ready: impl Fn(&Upstream) -> bool,
        op: impl FnOnce(&mut Upstream) -> R,
    ) -> R {
        let mut up = self.up.lock();
        while !ready(&up) {
            up = self.up_changed.wait(up);
        }
        let r = self.run_ready(&mut up, op);
        drop(up);
        self.changed();
        r
    }

    /// `op` on a ready connection, its frames passed on.
    fn run_ready<R>(&self, up: &mut Upstream, op: impl FnOnce(&mut Upstream) -> R) -> R {
        let r = op(up);
        self.flush(up);
        r
    }
}

/// All connections of one execution.
pub struct Net {
    /// The connections, by number (dials count from 1).
    wires: Plain<Vec<Arc<Wire>>>,
    watch: Arc<Watch>,
    peer_config: PeerConfig,
    capacity: usize,
}

impl Net {
    /// A network whose peers follow `peer_config` and whose connections buffer `capacity`
    /// octets while the peer is not reading.
    pub fn new(peer_config: PeerConfig, capacity: usize) -> Self {
        Net {
            wires: Plain::new(Vec::new()),
            watch: Arc::new(Watch {
                lock: Mutex::new("net", LockClass::internal("net"), ()),
                changed: Condvar::new("net: connection dialed or a peer changed"),
                any_waiters: Plain::new(0),
            }),
            peer_config,
            capacity,
        }
    }

    /// A new connection (the server accepts and queues its initial SETTINGS).
    pub fn accept(&self) -> Arc<Wire> {
        let watching = self.watch.lock.lock();
        let id = u32::try_from(self.wires.read(Vec::len) + 1).expect("few connections");
        let peer = Peer::new(id, self.peer_config.clone());
        let wire = Arc::new(Wire::new(id, peer, self.capacity, self.watch.clone()));
        self.wires.with(|w| w.push(wire.clone()));
        drop(watching);
        self.watch.changed.notify_all();
        wire
    }

    /// Connection `conn`, waiting until it is dialed.
    fn wire(&self, conn: u32) -> Arc<Wire> {
        let find = || self.wires.read(|w| w.get(idx(conn)).cloned());
        if let Some(w) = find() {
            return w;
        }
        let mut watching = self.watch.lock.lock();
        loop {
            if let Some(w) = find() {
                return w;
            }
            watching = self.watch.changed.wait(watching);
        }
    }

    /// The end of the execution, after the client's own cleanup: every connection's server goes
    /// away and its read loop stops without recording anything, so the connections the client
    /// left open stay open for `no-leak` to judge.
    pub fn teardown(&self) {
        for w in self.wires.get() {
            w.tear_down();
        }
    }

    /// Run a peer operation on connection `conn`, waiting until the connection exists and
    /// `ready` holds; returns what `op` returns.
    pub fn peer_op<R>(
        &self,
        conn: u32,
        ready: impl Fn(&Upstream) -> bool,
        op: impl FnOnce(&mut Peer) -> R,
    ) -> R {
        self.wire(conn).upstream_op(ready, |up| op(&mut up.peer))
    }

    /// Run a peer operation on the first connection where `ready` holds (in creation order).
    pub fn peer_op_any<R>(
        &self,
        ready: impl Fn(&Upstream) -> bool,
        op: impl FnOnce(&mut Peer) -> R,
    ) -> R {
        let mut watching = self.watch.lock.lock();
        self.watch.any_waiters.with(|n| *n += 1);
        loop {
            for w in self.wires.get() {
                let mut up = w.up.lock();
                if ready(&up) {
                    self.watch.any_waiters.with(|n| *n -= 1);
                    drop(watching);
                    let r = w.run_ready(&mut up, |up| op(&mut up.peer));
                    drop(up);
                    w.changed();
                    return r;
                }
            }
            watching = self.watch.changed.wait(watching);
        }
    }

    /// The peer stops reading connection `conn` (waits until it exists).
    pub fn stop_reading(&self, conn: u32) {
        self.wire(conn)
            .upstream_op(|_| true, |up| up.reading = false);
    }

    /// The peer reads again: everything buffered is read, stalled writers continue.
    pub fn resume_reading(&self, conn: u32) {
        self.wire(conn).upstream_op(
            |_| true,
            |up| {
                up.reading = true;
                up.deliver_buffered();
            },
        );
    }

    /// Wait until a write on `conn` is stalled (the seed test's `conn.wait()`).
    pub fn await_stall(&self, conn: u32) {
        self.wire(conn).upstream_op(|up| up.stalled > 0, |_| {});
    }

    /// Wait until the client wrote `acks` SETTINGS ACKs on `conn` (1: the initial SETTINGS).
    pub fn await_settings(&self, conn: u32, acks: u32) {
        self.wire(conn)
            .upstream_op(|up| up.client_acks >= acks, |_| {});
    }
}

fn idx(conn: u32) -> usize {
    conn as usize - 1
}

#[cfg(test)]
#[path = "net_tests.rs"]
mod tests;
