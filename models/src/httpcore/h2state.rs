//! The h2 protocol state machine (python-hyper/h2 `H2Connection`) as httpcore uses it: stream-id
//! allocation with exhaustion, the count of open outbound streams checked against the peer's
//! MAX_CONCURRENT_STREAMS, the events produced from received frames, and the frames queued for
//! sending (`data_to_send`).
//!
//! Abstractions (h2 4.x `h2/connection.py`, `h2/stream.py`): requests are GETs, so HEADERS carry
//! END_STREAM and a stream is *half-closed (local)* from the moment it is sent until END_STREAM or
//! RST_STREAM closes it:
//!
//! ```text
//!   idle --send_headers--> half-closed(local) --END_STREAM in / RST in / reset_stream--> closed
//! ```
//!
//! Stream ids are 1, 3, 5...; `stream_ids` caps how many a connection gets (2^30 upstream), so that
//! `NoAvailableStreamIDError` is reachable in a scenario. Frames for streams that are not open are
//! ignored (h2 tolerates frames on locally reset streams). Once the connection is closed (GOAWAY
//! received or `close_connection`) no stream can be opened and none counts as open: h2 refuses
//! every new stream, so its open-stream count no longer limits anything and is reported as 0.
//! Flow control is counted in frames, not octets: `acknowledge_received_data` queues one
//! WINDOW_UPDATE per DATA event, and the server ([`super::peer`], `stream_window`) sends a
//! stream's next DATA frame only when its window admits it; h2's own window books and
//! `increment_flow_control_window` are not modelled.
//!
//! This file abstracts h2 rather than following its code line by line: each method names the
//! `H2Connection` call httpcore makes (`http2.py` lines in the callers, [`super::connection`])
//! and keeps only the behaviour those calls observe, so it cites no h2 line.

use crate::sync::{probe, Event};
use std::collections::{BTreeMap, BTreeSet};

/// A frame the server sends to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// SETTINGS, with MAX_CONCURRENT_STREAMS if it carries one.
    Settings {
        /// The new MAX_CONCURRENT_STREAMS.
        max_streams: Option<u32>,
    },
    /// Response HEADERS.
    Headers {
        /// Stream id.
        stream: u32,
        /// END_STREAM flag.
        end_stream: bool,
    },
    /// Response DATA.
    Data {
        /// Stream id.
        stream: u32,
        /// END_STREAM flag.
        end_stream: bool,
    },
    /// RST_STREAM (REFUSED_STREAM or CANCEL: the code does not matter to httpcore).
    RstStream {
        /// Stream id.
        stream: u32,
    },
    /// GOAWAY.
    Goaway {
        /// The last stream id the server will process.
        last_stream: u32,
    },
}

/// A frame the client sends to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientFrame {
    /// The connection preface and the client's SETTINGS.
    Preface,
    /// Request HEADERS (with END_STREAM: requests are GETs).
    Headers {
        /// Stream id.
        stream: u32,
    },
    /// RST_STREAM(CANCEL).
    RstStream {
        /// Stream id.
        stream: u32,
    },
    /// WINDOW_UPDATE after received DATA.
    WindowUpdate {
        /// Stream id.
        stream: u32,
    },
    /// SETTINGS ACK.
    SettingsAck,
    /// GOAWAY (the client closes the connection).
    Goaway,
}

/// An h2 event, produced by [`H2State::receive_data`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H2Event {
    /// `ResponseReceived`.
    ResponseReceived {
        /// Stream id.
        stream: u32,
    },
    /// `DataReceived`.
    DataReceived {
        /// Stream id.
        stream: u32,
    },
    /// `StreamEnded`.
    StreamEnded {
        /// Stream id.
        stream: u32,
    },
    /// `StreamReset`.
    StreamReset {
        /// Stream id.
        stream: u32,
    },
    /// `RemoteSettingsChanged`, with the new MAX_CONCURRENT_STREAMS if it changed.
    RemoteSettingsChanged {
        /// The new MAX_CONCURRENT_STREAMS.
        max_streams: Option<u32>,
    },
    /// `ConnectionTerminated` (GOAWAY received).
    ConnectionTerminated {
        /// The last stream id the server will process.
        last_stream: u32,
    },
}

impl H2Event {
    /// The stream a stream-level event belongs to.
    pub fn stream(self) -> Option<u32> {
        match self {
            H2Event::ResponseReceived { stream }
            | H2Event::DataReceived { stream }
            | H2Event::StreamEnded { stream }
            | H2Event::StreamReset { stream } => Some(stream),
            _ => None,
        }
    }
}

/// Why h2 refused an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H2Error {
    /// `NoAvailableStreamIDError`: every stream id of the connection is used.
    NoAvailableStreamId,
    /// `TooManyStreamsError`: opening one more stream would exceed the peer's limit.
    TooManyStreams {
        /// The peer's MAX_CONCURRENT_STREAMS.
        max: u32,
        /// Streams open now.
        open: u32,
    },
    /// `ProtocolError`: the connection is closed (GOAWAY received or sent).
    ConnectionClosed,
}

impl std::fmt::Display for H2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            H2Error::NoAvailableStreamId => write!(f, "NoAvailableStreamIDError"),
            H2Error::TooManyStreams { max, open } => {
                write!(f, "Max outbound streams is {max}, {open} open")
            }
            H2Error::ConnectionClosed => write!(f, "Invalid input SEND_HEADERS in state CLOSED"),
        }
    }
}

/// One connection's h2 state machine.
#[derive(Debug)]
pub struct H2State {
    conn: u32,
    stream_ids: u32,
    used: u32,
    open: BTreeSet<u32>,
    remote_max: Option<u32>,
    closed: bool,
    goaway: Option<u32>,
    outbound: Vec<ClientFrame>,
    /// The stream window the client advertised, in DATA frames (`None`: no body fills it).
    window: Option<u32>,
    /// DATA frames received and not yet acknowledged, per stream.
    unacked: BTreeMap<u32, u32>,
    /// Streams the server ended (END_STREAM received).
    remote_ended: BTreeSet<u32>,
}

impl H2State {
    /// A fresh state machine for connection `conn` with `stream_ids` stream ids available and
    /// a stream window of `window` DATA frames.
    pub fn new(conn: u32, stream_ids: u32, window: Option<u32>) -> Self {
        H2State {
            conn,
            stream_ids,
            used: 0,
            open: BTreeSet::new(),
            remote_max: None,
            closed: false,
            goaway: None,
            outbound: Vec::new(),
            window,
            unacked: BTreeMap::new(),
            remote_ended: BTreeSet::new(),
        }
    }

    /// `initiate_connection`: queue the preface and the client's SETTINGS.
    pub fn initiate_connection(&mut self) {
        self.outbound.push(ClientFrame::Preface);
    }

    /// `get_next_available_stream_id`: the next odd id (not consumed until `send_headers`).
    pub fn get_next_available_stream_id(&self) -> Result<u32, H2Error> {
        if self.used >= self.stream_ids {
            return Err(H2Error::NoAvailableStreamId);
        }
        Ok(2 * self.used + 1)
    }

    /// `send_headers(stream_id, headers, end_stream=True)`: open the stream (half-closed local).
    pub fn send_headers(&mut self, stream: u32) -> Result<(), H2Error> {
        if self.closed {
            return Err(H2Error::ConnectionClosed);
        }
        let open = self.open_count();
        if let Some(max) = self.remote_max.filter(|m| open + 1 > *m) {
            return Err(H2Error::TooManyStreams { max, open });
        }
        self.used = self.used.max(stream.div_ceil(2));
        self.open.insert(stream);
        self.outbound.push(ClientFrame::Headers { stream });
        self.report();
        Ok(())
    }

    /// Does h2 count `stream` as open (not closed)?
    pub fn is_open(&self, stream: u32) -> bool {
        !self.closed && self.open.contains(&stream)
    }

    /// `reset_stream(stream_id)`: close the stream and queue RST_STREAM(CANCEL).
    pub fn reset_stream(&mut self, stream: u32) {
        if self.open.remove(&stream) {
            self.outbound.push(ClientFrame::RstStream { stream });
            self.report();
        }
    }

    /// `acknowledge_received_data`: give one DATA frame's room back, queue a WINDOW_UPDATE.
    pub fn acknowledge_received_data(&mut self, stream: u32) {
        if let Some(used) = self.unacked.get_mut(&stream) {
            *used = used.saturating_sub(1);
        }
        self.outbound.push(ClientFrame::WindowUpdate { stream });
    }

    /// `close_connection`: queue GOAWAY; the connection accepts no new stream.
    pub fn close_connection(&mut self) {
        if !self.closed {
            self.outbound.push(ClientFrame::Goaway);
            self.closed = true;
            self.report();
        }
    }

    /// The peer's MAX_CONCURRENT_STREAMS as h2 enforces it now (`None`: never set).
    pub fn remote_max_streams(&self) -> Option<u32> {
        self.remote_max
    }

    /// The last-stream-id of a GOAWAY received from the peer, if one was.
    pub fn goaway_received(&self) -> Option<u32> {
        self.goaway
    }

    /// Has the connection closed (GOAWAY either way)?
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// `data_to_send`: take the queued frames.
    pub fn data_to_send(&mut self) -> Vec<ClientFrame> {
        std::mem::take(&mut self.outbound)
    }

    /// `receive_data`: apply received frames, return the events they produce.
    pub fn receive_data(&mut self, frames: &[ServerFrame]) -> Vec<H2Event> {
        let mut events = Vec::new();
        for f in frames {
            self.receive_frame(*f, &mut events);
        }
        events
    }

    fn receive_frame(&mut self, frame: ServerFrame, events: &mut Vec<H2Event>) {
        match frame {
            ServerFrame::Headers { stream, .. } | ServerFrame::Data { stream, .. }
                if self.remote_ended.contains(&stream) =>
            {
                // h2 raises `StreamClosedError`; the model's server never sends after its own
                // END_STREAM, so this is a bug in the model.
                panic!("model bug: the server sent {frame:?} after it ended stream {stream}");
            }
            ServerFrame::Settings { max_streams } => {
                if max_streams.is_some() {
                    self.remote_max = max_streams;
                    self.report();
                }
                self.outbound.push(ClientFrame::SettingsAck);
                events.push(H2Event::RemoteSettingsChanged { max_streams });
            }
            ServerFrame::Headers { stream, end_stream } if self.open.contains(&stream) => {
                events.push(H2Event::ResponseReceived { stream });
                self.end_if(stream, end_stream, events);
            }
            ServerFrame::Data { stream, end_stream } if self.open.contains(&stream) => {
                self.consume_window(stream);
                events.push(H2Event::DataReceived { stream });
                self.end_if(stream, end_stream, events);
            }
            ServerFrame::RstStream { stream } if self.open.remove(&stream) => {
                events.push(H2Event::StreamReset { stream });
                self.report();
            }
            ServerFrame::Goaway { last_stream } => {
                self.closed = true;
                self.goaway = Some(last_stream);
                events.push(H2Event::ConnectionTerminated { last_stream });
                self.report();
            }
            _ => {}
        }
    }

    /// A DATA frame on `stream` takes one frame of its window. The model's server sends only
    /// what the window admits (h2 would raise `FlowControlError` otherwise), so an overrun is a
    /// bug in the model.
    fn consume_window(&mut self, stream: u32) {
        let used = self.unacked.entry(stream).or_default();
        *used += 1;
        if let Some(window) = self.window.filter(|w| *used > *w) {
            panic!(
                "model bug: the server overran stream {stream}'s window of {window} DATA frame(s)"
            );
        }
    }

    fn end_if(&mut self, stream: u32, end_stream: bool, events: &mut Vec<H2Event>) {
        if end_stream {
            self.remote_ended.insert(stream);
            self.open.remove(&stream);
            events.push(H2Event::StreamEnded { stream });
            self.report();
        }
    }

    fn open_count(&self) -> u32 {
        if self.closed {
            0
        } else {
            u32::try_from(self.open.len()).unwrap_or(u32::MAX)
        }
    }

    fn report(&self) {
        probe(Event::ProtocolOpenStreams {
            conn: self.conn,
            open: self.open_count(),
            limit: self.remote_max.unwrap_or(u32::MAX),
        });
    }
}

#[cfg(test)]
#[path = "h2state_tests.rs"]
mod tests;
