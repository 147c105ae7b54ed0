//! The server end of one connection: it reads the client's frames (decoding every header block
//! with a real HPACK decoder, [`super::hpack::Decoder`]), and sends SETTINGS (initial and later),
//! SETTINGS ACK, responses, RST_STREAM and GOAWAY.
//!
//! The peer's own reading happens inside the client's write (see [`super::net`]): what the peer
//! does with a frame is atomic with its arrival. Everything the peer *sends* is either automatic
//! (initial SETTINGS, SETTINGS ACK, a response to each complete request when `auto_respond`,
//! RST_STREAM for streams over its limit, WINDOW_UPDATE for request bodies as its handlers read
//! them) or a scenario operation (`settings`, `goaway`, `respond`, `data`, `refuse`, `close`,
//! `read-body`), so its timing is a scheduling choice.
//!
//! A header block may span HEADERS + CONTINUATION frames: the peer collects the fragments and
//! decodes the block at END_HEADERS. Any other frame in between, a CONTINUATION that no open
//! block expects, or a header-block frame above the SETTINGS_MAX_FRAME_SIZE the client must
//! respect (the value the client acknowledged, or a pending larger one) is a connection error
//! (RFC 9113 sections 4.2 and 6.10): the peer reports the block as undecodable, sends GOAWAY and
//! closes.
//!
//! The stream limit follows Go's own server (golang/net `http2/server.go`, `processHeaders`): a
//! stream over the advertised MAX_CONCURRENT_STREAMS is refused with REFUSED_STREAM while that
//! SETTINGS is unacknowledged ("over_max_streams_race") and with PROTOCOL_ERROR after. After
//! GOAWAY it ignores streams above the last-stream-id (RFC 7540 section 6.8) and, with
//! `close` (the default), closes the connection once the streams it still processes are done.

use super::hpack::{render, Decoder};
use super::net::{ClientFrame, ErrCode, PeerFrame, Settings, MIN_MAX_FRAME_SIZE};
use crate::sync::{probe, Event};
use std::collections::{BTreeMap, VecDeque};

/// SETTINGS_INITIAL_WINDOW_SIZE's default (RFC 9113 section 6.5.2), also the connection's
/// initial window: the receive windows of a peer that advertises neither.
const DEFAULT_WINDOW: i64 = 65_535;

/// What every peer does without being told.
#[derive(Clone, Debug, Default)]
pub struct PeerConfig {
    /// MAX_CONCURRENT_STREAMS in the initial SETTINGS (none: not sent).
    pub max_streams: Option<u32>,
    /// HEADER_TABLE_SIZE in the initial SETTINGS (none: not sent).
    pub header_table_size: Option<u32>,
    /// MAX_FRAME_SIZE in the initial SETTINGS (none: not sent).
    pub max_frame_size: Option<u32>,
    /// Respond to each complete request at once.
    pub auto_respond: bool,
    /// Response body octets of automatic responses (0: HEADERS with END_STREAM).
    pub response_body: u32,
    /// Handlers do not read their request bodies until the scenario's `read-body` (false: each
    /// reads its body as it arrives, so its flow control is refunded at once).
    pub defer_body_reads: bool,
    /// The connection receive window the peer opens (65,535 or less: the protocol's default, no
    /// WINDOW_UPDATE).
    pub conn_window: i64,
}

#[derive(Clone, Debug, Default)]
struct PeerStream {
    /// The request ended (END_STREAM received).
    complete: bool,
    /// Response HEADERS sent.
    responded: bool,
    /// END_STREAM sent (or the stream was reset or refused).
    ended: bool,
    /// Above a GOAWAY's last-stream-id: ignored.
    ignored: bool,
    /// The peer's send window for this stream.
    window: i64,
    /// Request-body octets received since the last WINDOW_UPDATE.
    unrefunded: i64,
    /// The stream's handler reads its request body (as it arrives), refunding it.
    reading: bool,
    /// The receive window the peer advertised for the stream, less what the client sent.
    recv_window: i64,
}

/// The fragments of a header block received so far.
#[derive(Debug)]
struct OpenBlock {
    stream: u32,
    end_stream: bool,
    fragments: Vec<u8>,
}

/// The server end of one connection.
pub struct Peer {
    conn: u32,
    config: PeerConfig,
    decoder: Decoder,
    /// Frames sent and not yet on the wire: [`super::net`] moves them to the connection's
    /// peer-to-client direction after every operation of the peer.
    pub inbound: VecDeque<PeerFrame>,
    /// The peer closed the connection (after `inbound` drains, the client reads EOF).
    pub closed: bool,
    /// SETTINGS sent and not yet acknowledged.
    unacked: VecDeque<Settings>,
    /// The SETTINGS_MAX_FRAME_SIZE the client acknowledged last.
    acked_max_frame: u32,
    /// A header block whose END_HEADERS has not come yet.
    open_block: Option<OpenBlock>,
    /// The MAX_CONCURRENT_STREAMS the peer last advertised (enforced like Go's server).
    advertised_max: Option<u32>,
    streams: BTreeMap<u32, PeerStream>,
    highest: u32,
    going_away: Option<u32>,
    close_after_goaway: bool,
    conn_window: i64,
    initial_window: i64,
    /// The connection receive window the peer advertised, less what the client sent.
    recv_conn_window: i64,
}

impl Peer {
    /// A peer that has just accepted connection `conn` and queued its initial SETTINGS.
    pub fn new(conn: u32, config: PeerConfig) -> Self {
        let mut p = Peer {
            conn,
            decoder: Decoder::default(),
            inbound: VecDeque::new(),
            closed: false,
            unacked: VecDeque::new(),
            acked_max_frame: MIN_MAX_FRAME_SIZE,
            open_block: None,
            advertised_max: None,
            streams: BTreeMap::new(),
            highest: 0,
            going_away: None,
            close_after_goaway: true,
            conn_window: 65_535,
            initial_window: 65_535,
            recv_conn_window: DEFAULT_WINDOW,
            config,
        };
        p.settings(Settings {
            max_streams: p.config.max_streams,
            header_table_size: p.config.header_table_size,
            max_frame_size: p.config.max_frame_size,
        });
        p.open_conn_window();
        p
    }

    /// Go's server raises its connection receive window after its initial SETTINGS (golang/net
    /// `http2/server.go` at 0ca694d2, `serve` 796-800: `MaxUploadBufferPerConnection`, 1 MiB by
    /// default); the stream windows stay at the default (the model's peer sends no
    /// SETTINGS_INITIAL_WINDOW_SIZE).
    fn open_conn_window(&mut self) {
        let more = self.config.conn_window - DEFAULT_WINDOW;
        if more > 0 {
            self.recv_conn_window += more;
            self.inbound.push_back(PeerFrame::WindowUpdate {
                stream: 0,
                inc: more,
            });
        }
    }

    // ---- what the peer reads -------------------------------------------------------------

    /// Read one client frame.
    pub fn on_frame(&mut self, f: ClientFrame) {
        if self.closed {
            return;
        }
        if let Err(e) = self.check_header_block_frame(&f) {
            // The block the error breaks: the open one, or the one this frame starts.
            let stream = match (&self.open_block, &f) {
                (Some(open), _) => open.stream,
                (None, ClientFrame::Headers { stream, .. })
                | (None, ClientFrame::Continuation { stream, .. }) => *stream,
                (None, _) => 0,
            };
            self.connection_error(stream, e);
            return;
        }
        match f {
            ClientFrame::Preface {
                initial_window,
                conn_window_update,
            } => {
                self.initial_window = initial_window;
                self.conn_window += conn_window_update;
                self.inbound.push_back(PeerFrame::SettingsAck);
            }
            ClientFrame::SettingsAck => self.on_settings_ack(),
            ClientFrame::Headers {
                stream,
                end_stream,
                end_headers,
                block,
            } => self.on_header_fragment(stream, Some(end_stream), end_headers, block),
            ClientFrame::Continuation {
                stream,
                end_headers,
                block,
            } => self.on_header_fragment(stream, None, end_headers, block),
            ClientFrame::Data {
                stream,
                len,
                end_stream,
            } => self.on_data(stream, len, end_stream),
            ClientFrame::WindowUpdate { stream: 0, inc } => self.conn_window += inc,
            ClientFrame::WindowUpdate { stream, inc } => {
                if let Some(s) = self.streams.get_mut(&stream) {
                    s.window += inc;
                }
            }
            ClientFrame::RstStream { stream, .. } => {
                if let Some(s) = self.streams.get_mut(&stream) {
                    s.ended = true;
                    s.complete = true;
                }
                self.maybe_close();
            }
        }
    }

    fn on_settings_ack(&mut self) {
        let Some(acked) = self.unacked.pop_front() else {
            return;
        };
        if let Some(size) = acked.header_table_size {
            self.decoder.limit_acknowledged(size);
        }
        if let Some(size) = acked.max_frame_size {
            self.acked_max_frame = size;
        }
    }

    /// The largest header-block fragment the client may send now: the acknowledged
    /// SETTINGS_MAX_FRAME_SIZE, or a larger one it may already have applied (a limit applies to
    /// the client once it read the SETTINGS; a lowered one binds it from its ACK on).
    fn frame_limit(&self) -> u32 {
        self.unacked
            .iter()
            .filter_map(|s| s.max_frame_size)
            .fold(self.acked_max_frame, u32::max)
    }

    /// RFC 9113 section 6.10 (a header block is contiguous: while one is open only its
    /// CONTINUATION may come, and a CONTINUATION needs an open block on its stream) and section
    /// 4.2 (a header-block frame within SETTINGS_MAX_FRAME_SIZE).
    fn check_header_block_frame(&self, f: &ClientFrame) -> Result<(), String> {
        let open = self.open_block.as_ref().map(|b| b.stream);
        match (f, open) {
            (ClientFrame::Continuation { stream, .. }, Some(s)) if *stream == s => {}
            (ClientFrame::Continuation { stream, .. }, None) => {
                return Err(format!(
                    "PROTOCOL_ERROR: CONTINUATION on stream {stream} with no header block \
                     open (RFC 9113 section 6.10)"
                ))
            }
            (other, Some(s)) => {
                return Err(format!(
                    "PROTOCOL_ERROR: {} inside the header block of stream {s}, which only its \
                     CONTINUATION frames may follow (RFC 9113 section 6.10)",
                    other.describe()
                ))
            }
            _ => {}
        }
        let fragment = match f {
            ClientFrame::Headers { block, .. } | ClientFrame::Continuation { block, .. } => block,
            _ => return Ok(()),
        };
        let limit = self.frame_limit();
        if fragment.len() > limit as usize {
            return Err(format!(
                "FRAME_SIZE_ERROR: {} carries {} octets, above the SETTINGS_MAX_FRAME_SIZE of \
                 {limit} the client acknowledged (RFC 9113 section 4.2)",
                f.describe(),
                fragment.len()
            ));
        }
        Ok(())
    }

    /// A HEADERS (`end_stream` is its flag) or CONTINUATION (`None`) fragment of a block on
    /// `stream`, checked by [`Self::check_header_block_frame`]; the block is decoded at
    /// END_HEADERS.
    fn on_header_fragment(
        &mut self,
        stream: u32,
        end_stream: Option<bool>,
        end_headers: bool,
        fragment: Vec<u8>,
    ) {
        let mut block = match (self.open_block.take(), end_stream) {
            (Some(mut open), None) => {
                open.fragments.extend(fragment);
                open
            }
            (_, end_stream) => OpenBlock {
                stream,
                end_stream: end_stream.unwrap_or(false),
                fragments: fragment,
            },
        };
        if !end_headers {
            self.open_block = Some(block);
            return;
        }
        let fragments = std::mem::take(&mut block.fragments);
        self.on_headers(stream, block.end_stream, &fragments);
    }

    /// A connection error while reading a header block (or its decoding): the block is
    /// reported undecodable, GOAWAY and close.
    fn connection_error(&mut self, stream: u32, error: String) {
        probe(Event::HeaderBlockDecoded {
            conn: self.conn,
            stream,
            headers: Err(error),
        });
        self.open_block = None;
        self.inbound
            .push_back(PeerFrame::GoAway { last: self.highest });
        self.closed = true;
    }

    /// A complete header block: decode it (a COMPRESSION_ERROR is a connection error).
    fn on_headers(&mut self, stream: u32, end_stream: bool, block: &[u8]) {
        let fields = match self.decoder.decode(block) {
            Ok(fields) => fields,
            Err(e) => return self.connection_error(stream, e),
        };
        probe(Event::HeaderBlockDecoded {
            conn: self.conn,
            stream,
            headers: Ok(render(&fields)),
        });
        if stream > self.highest {
            self.open_stream(stream);
        }
        if end_stream {
            self.request_complete(stream);
        }
    }

    fn open_stream(&mut self, stream: u32) {
        self.highest = stream;
        let mut s = PeerStream {
            window: self.initial_window,
            recv_window: DEFAULT_WINDOW,
            reading: !self.config.defer_body_reads,
            ..PeerStream::default()
        };
        if self.going_away.is_some_and(|last| stream > last) {
            s.ignored = true;
        } else if self
            .advertised_max
            .is_some_and(|max| self.open_count() + 1 > max as usize)
        {
            let code = if self.unacked.iter().any(|s| s.max_streams.is_some()) {
                ErrCode::RefusedStream
            } else {
                ErrCode::Protocol
            };
            self.inbound
                .push_back(PeerFrame::RstStream { stream, code });
            s.ended = true;
            s.complete = true;
        }
        self.streams.insert(stream, s);
    }

    fn on_data(&mut self, stream: u32, len: u32, end_stream: bool) {
        self.take_recv_window(stream, i64::from(len));
        if let Some(s) = self.streams.get_mut(&stream) {
            if !s.ended {
                s.unrefunded += i64::from(len);
            }
        }
        if self.streams.get(&stream).is_some_and(|s| s.reading) {
            self.refund_read(stream);
        }
        if end_stream {
            self.request_complete(stream);
        }
    }

    /// The stream's handler reads what of its request body has arrived: refund it. Like Go's
    /// server (golang/net `http2/server.go` at 0ca694d2, `noteBodyRead` 2396-2404: the
    /// connection's window always, the stream's while the client may still send on it), except
    /// that the model refunds every octet at once where Go's `inflow.add` batches small ones.
    fn refund_read(&mut self, stream: u32) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        let refund = std::mem::take(&mut s.unrefunded);
        if refund == 0 {
            return;
        }
        let stream_open = !s.complete;
        self.recv_conn_window += refund;
        self.inbound.push_back(PeerFrame::WindowUpdate {
            stream: 0,
            inc: refund,
        });
        if stream_open {
            s.recv_window += refund;
            self.inbound.push_back(PeerFrame::WindowUpdate {
                stream,
                inc: refund,
            });
        }
    }

    /// Account `len` octets of DATA against the receive windows the peer advertised (Go's
    /// server: `processData`'s `sc.inflow.take` and `st.inflow.take`, golang/net
    /// `http2/server.go`), reporting both windows first. The model's peer never sends
    /// SETTINGS_INITIAL_WINDOW_SIZE, so every window starts at the protocol default.
    fn take_recv_window(&mut self, stream: u32, len: i64) {
        let Some(stream_window) = self.streams.get(&stream).map(|s| s.recv_window) else {
            return; // the client sends DATA only on streams it opened with HEADERS
        };
        probe(Event::PeerFlowWindow {
            conn: self.conn,
            stream,
            len,
            stream_window,
            conn_window: self.recv_conn_window,
        });
        self.recv_conn_window -= len;
        if let Some(s) = self.streams.get_mut(&stream) {
            s.recv_window -= len;
        }
    }

    fn request_complete(&mut self, stream: u32) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        if s.complete || s.ignored {
            return;
        }
        s.complete = true;
        probe(Event::PeerProcessed {
            conn: self.conn,
            stream,
        });
        if self.config.auto_respond {
            let body = self.config.response_body;
            self.respond_to(stream, body, true);
        }
    }

    fn open_count(&self) -> usize {
        self.streams
            .values()
            .filter(|s| !s.ended && !s.ignored)
            .count()
    }

    // ---- what the peer sends ---------------------------------------------------------------

    /// Send SETTINGS.
    pub fn settings(&mut self, settings: Settings) {
        if settings.max_streams.is_some() {
            self.advertised_max = settings.max_streams;
        }
        self.unacked.push_back(settings);
        self.inbound.push_back(PeerFrame::Settings(settings));
    }

    /// Send GOAWAY with `last` (default: the highest stream received); with `close`, close the
    /// connection once the streams at or below `last` are done.
    pub fn goaway(&mut self, last: Option<u32>, close: bool) {
        let last = last.unwrap_or(self.highest);
        self.going_away = Some(last);
        self.close_after_goaway = close;
        for (_, s) in self.streams.range_mut(last + 1..) {
            s.ignored = true;
        }
        self.inbound.push_back(PeerFrame::GoAway { last });
        self.maybe_close();
    }

    /// The oldest complete request not answered yet, if any (`stream` picks one); with
    /// `early`, also one whose request has not ended (its HEADERS came, its body is still
    /// arriving: a server that replies before reading the whole body).
    pub fn pending(&self, stream: Option<u32>, early: bool) -> Option<u32> {
        self.streams
            .iter()
            .filter(|(id, _)| stream.is_none_or(|want| **id == want))
            .find(|(_, s)| (s.complete || early) && !s.responded && !s.ended && !s.ignored)
            .map(|(id, _)| *id)
    }

    /// A responded stream that has not ended (for `data`).
    pub fn open_response(&self, stream: Option<u32>) -> Option<u32> {
        self.streams
            .iter()
            .filter(|(id, _)| stream.is_none_or(|want| **id == want))
            .find(|(_, s)| s.responded && !s.ended)
            .map(|(id, _)| *id)
    }

    /// Respond to `stream`: HEADERS, then `body` octets of DATA; END_STREAM when `end`.
    pub fn respond_to(&mut self, stream: u32, body: u32, end: bool) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        s.responded = true;
        let headers_end = end && body == 0;
        self.inbound.push_back(PeerFrame::Headers {
            stream,
            end_stream: headers_end,
        });
        if headers_end {
            s.ended = true;
        } else if body > 0 {
            self.data(stream, body, 0, end);
        }
        self.maybe_close();
    }

    /// Whether flow control lets the peer send `octets` on `stream` now (its windows as the
    /// client's WINDOW_UPDATEs have opened them).
    pub fn can_send(&self, stream: u32, octets: u32) -> bool {
        let n = i64::from(octets);
        self.streams
            .get(&stream)
            .is_some_and(|s| s.window >= n && self.conn_window >= n)
    }

    /// Send one DATA frame of `len` payload and `pad` padding octets on `stream`.
    pub fn data(&mut self, stream: u32, len: u32, pad: u32, end: bool) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        let flow = i64::from(len + pad);
        let peer_windows = (s.window, self.conn_window);
        s.window -= flow;
        self.conn_window -= flow;
        s.ended |= end;
        self.inbound.push_back(PeerFrame::Data {
            stream,
            len,
            pad,
            end_stream: end,
            peer_windows,
        });
        self.maybe_close();
    }

    /// The handler of `stream` starts reading its request body (`requestBody.Read`, golang/net
    /// `http2/server.go` at 0ca694d2, 2452-2469): what has arrived is refunded now, the rest as
    /// it arrives.
    pub fn read_body(&mut self, stream: u32) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.reading = true;
            self.refund_read(stream);
        }
    }

    /// The oldest stream whose handler does not read its body yet (for `read-body`).
    pub fn unread(&self, stream: Option<u32>) -> Option<u32> {
        self.streams
            .iter()
            .filter(|(id, _)| stream.is_none_or(|want| **id == want))
            .find(|(_, s)| !s.reading)
            .map(|(id, _)| *id)
    }

    /// Refuse `stream` with RST_STREAM(REFUSED_STREAM).
    pub fn refuse(&mut self, stream: u32) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.ended = true;
            self.inbound.push_back(PeerFrame::RstStream {
                stream,
                code: ErrCode::RefusedStream,
            });
        }
        self.maybe_close();
    }

    /// The oldest stream that is open and not answered (for `refuse`).
    pub fn unanswered(&self, stream: Option<u32>) -> Option<u32> {
        self.streams
            .iter()
            .filter(|(id, _)| stream.is_none_or(|want| **id == want))
            .find(|(_, s)| !s.responded && !s.ended && !s.ignored)
            .map(|(id, _)| *id)
    }

    /// Close the connection now (after the frames already sent).
    pub fn close(&mut self) {
        self.closed = true;
    }

    fn maybe_close(&mut self) {
        if self.going_away.is_some() && self.close_after_goaway && self.open_count() == 0 {
            self.closed = true;
        }
    }
}

#[cfg(test)]
#[path = "peer_tests.rs"]
mod tests;
