//! The probe vocabulary: ghost events that models report and monitors judge.
//!
//! The vocabulary is shared by every model, so an invariant written once (say `idle-while-active`)
//! judges every pool that reports these events. Identifiers are the model's own small integers:
//! `conn` numbers connections in creation order, `req` numbers requests, `stream` is the HTTP/2
//! stream id. A model reports what its code *does* (state assignments, closes, frames), never
//! what it should do; monitors decide what is wrong.

/// A connection's pool-visible phase, as the model's own state field says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnPhase {
    /// Being established (TCP/TLS/preface, or a transport's post-init).
    Connecting,
    /// Carrying (or about to carry) requests.
    Active,
    /// No requests; may be expired at `expire_at` (logical time) or evicted by the pool.
    Idle {
        /// Logical time after which the pool may close it.
        expire_at: Option<u64>,
    },
    /// Closed.
    Closed,
}

/// Why a connection was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The pool closed it because its keep-alive expiry passed.
    Expired,
    /// The pool closed an idle connection beyond `max_keepalive_connections`.
    Surplus,
    /// The pool closed an idle connection to make room for a new one under `max_connections`.
    MakeRoom,
    /// The connection closed itself after the last stream of a terminated connection.
    Terminated,
    /// A protocol or network error.
    Error,
    /// An explicit close by its owner (pool shutdown, transport close, request cancellation).
    Owner,
}

/// How a request ended, from the caller's point of view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response.
    Response,
    /// An error the caller may retry safely (the server never processed the request).
    RetryableError(String),
    /// An error after which the request may have been processed.
    Error(String),
    /// The caller cancelled it.
    Cancelled,
}

/// A lifecycle callback of a transport's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    /// `connection_made`.
    Made,
    /// `pipe_data_received` / `data_received`.
    Data,
    /// `process_exited` / `eof_received`.
    Exited,
    /// `connection_lost`.
    Lost,
}

/// A ghost-state event.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A request was submitted by its caller.
    RequestStarted {
        /// Request number.
        req: u32,
    },
    /// A request ended.
    RequestFinished {
        /// Request number.
        req: u32,
        /// How it ended.
        outcome: Outcome,
    },
    /// The pool assigned a request to a connection (before any stream exists).
    RequestAssigned {
        /// Request number.
        req: u32,
        /// Connection number.
        conn: u32,
    },
    /// Someone cancelled request `req` (a canceller, a timeout, a dropped future): from here the
    /// request may end [`Outcome::Cancelled`] or with an error (for `spurious-error`).
    RequestCancelled {
        /// Request number.
        req: u32,
    },
    /// The pool's owner closed the pool: later and waiting checkouts may fail (for
    /// `spurious-error`).
    PoolClosed,
    /// A request's stream became active on a connection: from here until [`Event::StreamClosed`]
    /// the connection must not be idle, expirable, evictable or closed by the pool.
    StreamOpened {
        /// Connection number.
        conn: u32,
        /// HTTP/2 stream id.
        stream: u32,
        /// Request number.
        req: u32,
    },
    /// A stream ended (response closed, reset, or abandoned).
    StreamClosed {
        /// Connection number.
        conn: u32,
        /// HTTP/2 stream id.
        stream: u32,
    },
    /// A connection object was created.
    ConnCreated {
        /// Connection number.
        conn: u32,
    },
    /// The connection's own state field changed.
    ConnPhase {
        /// Connection number.
        conn: u32,
        /// The new phase.
        phase: ConnPhase,
    },
    /// A connection was closed, and by whom.
    ConnClosed {
        /// Connection number.
        conn: u32,
        /// Why.
        reason: CloseReason,
    },
    /// A pool whose connections carry one request at a time (database and HTTP/1 pools) gave
    /// `conn` to request `req`: until [`Event::ConnCheckedIn`] nobody else may hold it.
    ConnCheckedOut {
        /// Connection number.
        conn: u32,
        /// Request number.
        req: u32,
    },
    /// Request `req` gave `conn` back (to the idle list, a waiter, or to be closed).
    ConnCheckedIn {
        /// Connection number.
        conn: u32,
        /// Request number.
        req: u32,
    },
    /// The pool took a connection back as available (idle in the pool).
    ConnPooled {
        /// Connection number.
        conn: u32,
    },
    /// The peer's SETTINGS frame was applied and acknowledged.
    SettingsApplied {
        /// Connection number.
        conn: u32,
        /// Its MAX_CONCURRENT_STREAMS, if it carried one.
        max_streams: Option<u32>,
        /// Its HEADER_TABLE_SIZE, if it carried one.
        header_table_size: Option<u32>,
    },
    /// The client put HEADERS for a new stream on the wire (what the peer will see).
    HeadersSent {
        /// Connection number.
        conn: u32,
        /// Stream id.
        stream: u32,
    },
    /// GOAWAY received by the client.
    GoawayReceived {
        /// Connection number.
        conn: u32,
        /// The last stream id the peer will process.
        last_stream: u32,
    },
    /// The client sent GOAWAY (it will open no new streams).
    GoawaySent {
        /// Connection number.
        conn: u32,
    },
    /// The peer processed a request (handed it to the application).
    PeerProcessed {
        /// Connection number.
        conn: u32,
        /// Stream id.
        stream: u32,
    },
    /// A header block was encoded by the client; `digest` identifies its header list.
    HeaderBlockEncoded {
        /// Connection number.
        conn: u32,
        /// Stream id.
        stream: u32,
        /// The header list, rendered `name: value` joined by `\n`.
        headers: String,
    },
    /// The peer decoded a header block; `headers` is `Err` when decoding failed.
    HeaderBlockDecoded {
        /// Connection number.
        conn: u32,
        /// Stream id the frame was sent on.
        stream: u32,
        /// The decoded header list rendered like [`Event::HeaderBlockEncoded`], or the error.
        headers: Result<String, String>,
    },
    /// An actor starts using a connection's HPACK encoder.
    EncoderEnter {
        /// Connection number.
        conn: u32,
    },
    /// The actor is done with the encoder.
    EncoderExit {
        /// Connection number.
        conn: u32,
    },
    /// An actor starts using a field of the original that no lock excludes from another use
    /// any more (its uses so far held disjoint locks); a model reports only such uses.
    FieldEnter {
        /// Connection number.
        conn: u32,
        /// The field, as the original names it (`cc.maxFrameSize`).
        field: &'static str,
        /// The use stores (otherwise it loads).
        write: bool,
    },
    /// The use is over.
    FieldExit {
        /// Connection number.
        conn: u32,
        /// The field.
        field: &'static str,
    },
    /// The protocol state machine's count of open streams (h2's own bookkeeping).
    ProtocolOpenStreams {
        /// Connection number.
        conn: u32,
        /// Streams the protocol layer counts as open.
        open: u32,
        /// Streams the protocol layer allows (the peer's MAX_CONCURRENT_STREAMS).
        limit: u32,
    },
    /// A lifecycle callback ran.
    Callback {
        /// Transport number.
        transport: u32,
        /// Which callback.
        kind: CallbackKind,
    },
    /// A resource that must be released by the end of the execution came into existence.
    ResourceOpened {
        /// Kind (`transport`, `pipe`, `task`, `conn`...).
        kind: &'static str,
        /// Number within its kind.
        id: u32,
    },
    /// The resource was released.
    ResourceClosed {
        /// Kind.
        kind: &'static str,
        /// Number within its kind.
        id: u32,
    },
    /// Connection flow-control window as the client's books say, and as the peer's say.
    FlowWindow {
        /// Connection number.
        conn: u32,
        /// The client's view of the receive window it advertised.
        client: i64,
        /// The peer's view of the same window.
        peer: i64,
    },
    /// A DATA frame reached the client: the stream's and the connection's receive windows as the
    /// client's books give them (before taking the frame) and as the peer saw them when it sent
    /// the frame. WINDOW_UPDATEs in flight make the client's values larger, never smaller (for
    /// `flow-control-consistent`).
    StreamFlowWindow {
        /// Connection number.
        conn: u32,
        /// Stream id.
        stream: u32,
        /// The client's `cs.inflow` before taking the frame.
        client: i64,
        /// The peer's send window for the stream before sending the frame.
        peer: i64,
        /// The client's `cc.inflow` before taking the frame.
        conn_client: i64,
        /// The peer's send window for the connection before sending the frame.
        conn_peer: i64,
    },
    /// A DATA frame reached the peer: the receive windows the peer advertised and has not seen
    /// used, for the stream and the connection, before taking the frame's `len` flow-controlled
    /// octets (for `flow-control-consistent`: a sender never exceeds either).
    PeerFlowWindow {
        /// Connection number.
        conn: u32,
        /// Stream id.
        stream: u32,
        /// The frame's flow-controlled octets.
        len: i64,
        /// The peer's receive window for the stream.
        stream_window: i64,
        /// The peer's receive window for the connection.
        conn_window: i64,
    },
    /// The pool's configured limit on open connections (for `max-connections`).
    PoolLimit {
        /// Connections the pool may have open at once (idle, in use or being created).
        max_connections: u32,
    },
    /// A connection's stream-permit semaphore and the number of concurrent streams it admits now
    /// (httpcore's `_max_streams`), reported when the semaphore is set up and on every change.
    StreamPermits {
        /// Connection number.
        conn: u32,
        /// The semaphore's id in the ghost state ([`crate::sync::SemId`]).
        sem: usize,
        /// Streams the permits admit: free permits + permits held by requests, when settled.
        limit: u32,
    },
    /// Free-form annotation shown in the interleaving table.
    Note(String),
    /// An event of the user's own vocabulary (the library API), judged by the user's monitors.
    User(UserEvent),
}

/// An event a user's pool reports through the library API: a kebab-case name and named integer
/// fields, in the order given. Built-in monitors ignore it; a user's `Monitor` judges it.
///
/// ```
/// use poolcheck_models::sync::UserEvent;
/// let ev = UserEvent::new("checked-out").with("conn", 3).with("holders", 1);
/// assert_eq!(ev.get("conn"), Some(3));
/// assert_eq!(ev.to_string(), "checked-out conn=3 holders=1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEvent {
    /// What happened (`checked-out`), as the user's monitor matches it.
    pub name: &'static str,
    /// Named values, in the order they were added.
    pub fields: Vec<(&'static str, i64)>,
}

impl UserEvent {
    /// An event named `name` with no fields yet.
    pub fn new(name: &'static str) -> Self {
        UserEvent {
            name,
            fields: Vec::new(),
        }
    }

    /// The same event with one more field.
    pub fn with(mut self, key: &'static str, value: i64) -> Self {
        self.fields.push((key, value));
        self
    }

    /// The value of field `key` (the first one, if it was added twice).
    pub fn get(&self, key: &str) -> Option<i64> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Is this the event named `name`?
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }
}

/// `name key=value ...`: how the event reads in an interleaving table.
impl std::fmt::Display for UserEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)?;
        for (k, v) in &self.fields {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

impl From<UserEvent> for Event {
    fn from(ev: UserEvent) -> Self {
        Event::User(ev)
    }
}
