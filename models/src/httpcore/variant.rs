//! The httpcore model's variants: encode/httpcore 1.0.9 (commit 9820975, the last release)
//! plus a set of named fixes ([`Fix`]), each a runtime switch so that every variant compiles into
//! one binary.
//!
//! - `upstream-1.0.9` is the release exactly as published: no fix applied. Every site a fix
//!   changes cites the 1.0.9 lines it replaces (`// fix <name>:` in [`super::connection`] and
//!   [`super::pool`]).
//! - `fixed` applies every fix: five for the bugs BUGS.md lists (two of them, #1062's
//!   delete-inside-the-lock and our pending count, together fix #1062), five of our own for
//!   bugs found while modelling 1.0.9 (`undo-active-on-cancel`, `goaway-before-stream`,
//!   `goaway-zero`, `close-in-section`, `own-connect-failure`), `reclaim-orphaned-connection`
//!   for #1093 (after the open PR #1099) and `retry-cleanup-on-cancel` for encode/httpx#3782
//!   (after the open PR #1116).
//! - Every historical bug lived in 1.0.9 (none of their fixes is in a release of
//!   encode/httpcore), so each historical variant is *1.0.9 minus the later fix*: `fixed` with
//!   that fix undone (`httpcore-943` = `fixed-without=reset-on-early-close`), so that a
//!   scenario catching it catches that bug alone. `httpx2-1013` is httpx2#1013's partial fix:
//!   `fixed-without=idle-counts-pending`, with our other fixes on (not httpx2's code as a
//!   whole).

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the httpcore model: a release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The code the variants start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// encode/httpcore 1.0.9 (commit 9820975).
    Httpcore1_0_9,
}

/// A named fix of httpcore 1.0.9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// pydantic/httpx2#1013, the merged port of encode/httpcore#1062: `del self._events[stream_id]`
    /// moves inside `_state_lock` (before: after `release()`, before `async with`).
    EventsDeleteInLock,
    /// Ours, completing #1062: `_response_closed` goes IDLE only when no stream is registered
    /// *and* no request is between its `_state_lock` section and its stream registration (a
    /// `pending` count, incremented where the request sets ACTIVE, decremented where it
    /// registers its stream or leaves without one). Before: `not self._events` alone.
    IdleCountsPending,
    /// encode/httpcore#1061 (httpx2#1012): on `NoAvailableStreamIDError` the permit is released
    /// and the connection goes IDLE (then closes, since it can take no more streams). Before: the
    /// request sets `_used_all_stream_ids`, decrements `_request_count` and raises
    /// `ConnectionNotAvailable` with the permit still taken and the connection ACTIVE.
    ReleaseOnIdExhaustion,
    /// encode/httpcore#943 / #1022 (as in encode/httpcore#1098): `_response_closed` resets a
    /// stream h2 still counts open (`reset_stream`; the RST_STREAM frame goes out with the next
    /// write) *before* it releases the permit. Before: after enough early closes h2 refuses new
    /// streams ("Max outbound streams is 100, 100 open").
    ResetOnEarlyClose,
    /// Ours, for pydantic/httpx2#1216: a lowered MAX_CONCURRENT_STREAMS never waits under
    /// `_read_lock`: free permits are taken at once (`try_acquire`), the rest is a debt, booked
    /// atomically with h2 applying the new limit, that the next closing streams (and requests
    /// that get a permit meanwhile) pay by keeping their permits instead of releasing or using
    /// them. Before: `await self._max_streams_semaphore.acquire()` per step down, under
    /// `_read_lock`, waiting for permits held by streams that need `_read_lock` to finish.
    LowerLimitWithoutWaiting,
    /// Ours: a request cancelled in `async with self._init_lock` (http2.py 104) or while waiting
    /// for its stream permit (http2.py 131), both outside the `try` of 141-187, undoes its
    /// ACTIVE mark and `_request_count` under `_state_lock`.
    /// Before (1.0.9): the connection stays ACTIVE until another stream's close, for good if
    /// none comes; the pool never expires or evicts it.
    UndoActiveOnCancel,
    /// Ours: a request that gets its permit after h2 received GOAWAY opens no stream and is
    /// retried (`ConnectionNotAvailable`). Before (1.0.9, http2.py 133-135, 171-182): it
    /// allocates a stream id, `send_headers` raises `ProtocolError`, and the request fails with
    /// `RemoteProtocolError` (or `LocalProtocolError` before the reader stored the GOAWAY),
    /// although the server never saw it.
    GoawayBeforeStream,
    /// Ours: GOAWAY with last-stream-id 0 retries the requests it caught, as any other limit.
    /// Before (1.0.9, http2.py 352: `if stream_id and last_stream_id and ...`): 0 reads as "no
    /// limit" and every caught request fails with `RemoteProtocolError`, although the server
    /// processed none of them.
    GoawayZero,
    /// Ours: the pool marks every connection it removes CLOSED inside the section that removes
    /// it. Before (1.0.9, connection_pool.py 341-345): `_close_connections` closes them one
    /// `await connection.aclose()` at a time, so a request can be handed (and open a stream on)
    /// a removed connection that is not closed yet.
    CloseInSection,
    /// After encode/httpcore#1099 (open), for #1093: a request that fails or is cancelled drops
    /// the connection assigned to it if no request started on it (still connecting, or an
    /// HTTP/1.1 connection still NEW) and no other request is assigned to it. Before (1.0.9,
    /// connection_pool.py 250-258): the request leaves the queue and the connection stays,
    /// neither available (HTTP/1.1), idle, expired nor closed: its slot is never freed.
    ReclaimOrphanedConnection,
    /// After encode/httpcore#1116 (open), for encode/httpx#3782: the shielded cleanup of an
    /// HTTP/1.1 response whose task was cancelled completes even if a second `Task.cancel()`
    /// raises in it. Before (1.0.9, http11.py 336-348): the second cancellation passes anyio's
    /// shield at `_response_closed`'s `async with self._state_lock`; `_closed` is already set,
    /// so no later `aclose` retries, and the connection stays ACTIVE for good.
    RetryCleanupOnCancel,
    /// Ours: only the request that runs the connect (it holds `_request_lock` and finds
    /// `_connection is None`) marks the connection failed when that connect raises. Before
    /// (1.0.9, connection.py 75-101): the `try` wraps `async with self._request_lock`, so a
    /// request cancelled while it waits for the lock another request holds to connect sets
    /// `_connect_failed = True`; the pool then drops the connection as closed (`is_closed()`,
    /// connection_pool.py 285-287, no `aclose`) while the other request connects it and uses
    /// it, and nothing ever closes its socket.
    OwnConnectFailure,
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::EventsDeleteInLock,
        Fix::IdleCountsPending,
        Fix::ReleaseOnIdExhaustion,
        Fix::ResetOnEarlyClose,
        Fix::LowerLimitWithoutWaiting,
        Fix::UndoActiveOnCancel,
        Fix::GoawayBeforeStream,
        Fix::GoawayZero,
        Fix::CloseInSection,
        Fix::ReclaimOrphanedConnection,
        Fix::RetryCleanupOnCancel,
        Fix::OwnConnectFailure,
    ];
    const INFO: &'static [FixInfo] = &[
        FixInfo {
            name: "events-delete-in-lock",
            upstream: "https://github.com/pydantic/httpx2/pull/1013",
            changes: "_response_closed deletes _events[stream_id] inside _state_lock, not between \
                      release() and async with _state_lock",
            why: "a request that marks the connection ACTIVE in that gap sees its events table \
                  already empty and the closing stream turns the connection IDLE under it",
        },
        FixInfo {
            name: "idle-counts-pending",
            upstream: "https://github.com/encode/httpcore/pull/1062",
            changes: "_response_closed goes IDLE only when no stream is registered and no \
                      request is between its ACTIVE mark and its stream registration",
            why: "`not self._events` alone cannot see such a request: the pool may then expire \
                  or evict the connection the request is about to open a stream on",
        },
        FixInfo {
            name: "release-on-id-exhaustion",
            upstream: "https://github.com/encode/httpcore/pull/1061",
            changes: "on NoAvailableStreamIDError the request releases its permit and the \
                      connection goes IDLE (and closes)",
            why: "otherwise the permit leaks and the connection stays ACTIVE with no stream: \
                  the pool never closes it",
        },
        FixInfo {
            name: "reset-on-early-close",
            upstream: "https://github.com/encode/httpcore/issues/943",
            changes: "a response closed before END_STREAM resets its stream (RST_STREAM) before \
                      releasing the permit",
            why: "otherwise h2 still counts the stream open, and after enough early closes \
                  refuses new streams on a connection the pool believes has room",
        },
        FixInfo {
            name: "lower-limit-without-waiting",
            upstream: "https://github.com/pydantic/httpx2/issues/1216",
            changes: "a lowered MAX_CONCURRENT_STREAMS takes free permits at once and books the \
                      rest as a debt the next closing streams pay",
            why: "awaiting the permits under _read_lock deadlocks: the streams holding them \
                  need _read_lock to finish",
        },
        FixInfo {
            name: "undo-active-on-cancel",
            upstream: "https://github.com/encode/httpcore/blob/1.0.9/httpcore/_async/http2.py#L131",
            changes: "a request cancelled in _init_lock or while waiting for its stream permit \
                      undoes its ACTIVE mark and _request_count under _state_lock",
            why: "1.0.9 raises out of acquire() outside the try: the connection stays ACTIVE \
                  with no stream until another stream closes, and for good if none does",
        },
        FixInfo {
            name: "goaway-before-stream",
            upstream: "https://github.com/encode/httpcore/blob/1.0.9/httpcore/_async/http2.py#L133-L135",
            changes: "a request that gets its permit after GOAWAY opens no stream and is \
                      retried (ConnectionNotAvailable)",
            why: "1.0.9 allocates a stream h2 refuses and fails the request with \
                  RemoteProtocolError, though the server never saw it",
        },
        FixInfo {
            name: "goaway-zero",
            upstream: "https://github.com/encode/httpcore/blob/1.0.9/httpcore/_async/http2.py#L352",
            changes: "GOAWAY with last-stream-id 0 retries the requests it caught, like any \
                      other last-stream-id",
            why: "1.0.9's `if stream_id and last_stream_id and ...` reads 0 as no limit and \
                  fails them with RemoteProtocolError, though the server processed none",
        },
        FixInfo {
            name: "close-in-section",
            upstream: "https://github.com/encode/httpcore/blob/1.0.9/httpcore/_async/connection_pool.py#L341-L345",
            changes: "the pool marks the connections it removes CLOSED inside the section that \
                      removes them; only the network close waits",
            why: "1.0.9 closes them one await at a time, so a request can reuse a removed \
                  connection before its aclose runs",
        },
        FixInfo {
            name: "reclaim-orphaned-connection",
            upstream: "https://github.com/encode/httpcore/pull/1099",
            changes: "a request that fails or is cancelled drops the connection assigned to it \
                      if nothing started on it (connecting, or HTTP/1.1 NEW) and no other \
                      request is assigned to it",
            why: "1.0.9 only removes the request: such a connection is neither available, idle, \
                  expired nor closed, and holds its pool slot (and socket) for good",
        },
        FixInfo {
            name: "retry-cleanup-on-cancel",
            upstream: "https://github.com/encode/httpcore/pull/1116",
            changes: "the shielded cleanup of a cancelled HTTP/1.1 response completes even when \
                      a second cancellation raises in it",
            why: "a second Task.cancel() passes anyio's shield at _response_closed's \
                  _state_lock; _closed is already set, so the connection stays ACTIVE for good \
                  (encode/httpx#3782)",
        },
        FixInfo {
            name: "own-connect-failure",
            upstream: "https://github.com/encode/httpcore/blob/1.0.9/httpcore/_async/connection.py#L75-L101",
            changes: "only the request that runs the connect marks the connection failed when \
                      that connect raises; one cancelled while waiting for _request_lock does not",
            why: "1.0.9's try wraps the lock: the waiter's cancellation sets _connect_failed, the \
                  pool drops the connection as closed while the connecting request uses it, and \
                  its socket is never closed",
        },
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Httpcore1_0_9, FixSpec::All),
        (Release::Httpcore1_0_9, FixSpec::Only(&[])),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::EventsDeleteInLock, Fix::IdleCountsPending]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::IdleCountsPending]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::ReleaseOnIdExhaustion]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::ResetOnEarlyClose]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::LowerLimitWithoutWaiting]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::ReclaimOrphanedConnection]),
        ),
        (
            Release::Httpcore1_0_9,
            FixSpec::AllBut(&[Fix::RetryCleanupOnCancel]),
        ),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "httpcore 1.0.9 with every named fix",
        },
        VariantInfo {
            name: "upstream-1.0.9",
            kind: VariantKind::Upstream,
            upstream:
                "https://github.com/encode/httpcore/tree/98209758cc14e1a5f966fe1dfdc1064b94055d8c",
            summary: "encode/httpcore 1.0.9 exactly as released: no fix applied",
        },
        VariantInfo {
            name: "httpcore-1062",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/pull/1062",
            summary: "fixed-without=events-delete-in-lock,idle-counts-pending: the last \
                      stream's close deletes its events outside _state_lock and goes IDLE while \
                      a new request is about to open a stream (1.0.9's code there)",
        },
        VariantInfo {
            name: "httpx2-1013",
            kind: VariantKind::Bug,
            upstream: "https://github.com/pydantic/httpx2/pull/1013",
            summary: "fixed-without=idle-counts-pending: the merged fix, the delete moved inside \
                      _state_lock, nothing else changed",
        },
        VariantInfo {
            name: "httpcore-1061",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/pull/1061",
            summary: "fixed-without=release-on-id-exhaustion: stream-id exhaustion keeps the \
                      permit and leaves the connection ACTIVE (1.0.9's code there)",
        },
        VariantInfo {
            name: "httpcore-943",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/issues/943",
            summary: "fixed-without=reset-on-early-close: a response closed before END_STREAM \
                      is not reset, h2 still counts it open (1.0.9's code there)",
        },
        VariantInfo {
            name: "httpx2-1219",
            kind: VariantKind::Bug,
            upstream: "https://github.com/pydantic/httpx2/pull/1219",
            summary: "fixed-without=lower-limit-without-waiting: a lowered \
                      MAX_CONCURRENT_STREAMS waits for permits while holding _read_lock \
                      (1.0.9's code there)",
        },
        VariantInfo {
            name: "httpcore-1093",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/issues/1093",
            summary: "fixed-without=reclaim-orphaned-connection: a request cancelled before \
                      it starts on the connection the pool made for it (waiting for it, or at \
                      the HTTP/1.1 _state_lock) leaves that connection in the pool for good \
                      (1.0.9's code there)",
        },
        VariantInfo {
            name: "httpx-3782",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpx/issues/3782",
            summary: "fixed-without=retry-cleanup-on-cancel: a second cancellation interrupts \
                      the shielded cleanup of a cancelled HTTP/1.1 response, which stays ACTIVE \
                      for good (1.0.9's code there)",
        },
    ];
}

/// The model's questions to its variant, one per fix site.
impl Variant {
    /// Does `_response_closed` go IDLE on `not self._events` alone (the #1062 family)?
    pub fn idles_on_events_only(self) -> bool {
        !self.has(Fix::IdleCountsPending)
    }

    /// Is `del self._events[stream_id]` outside `_state_lock` (the original #1062 bug)?
    pub fn deletes_events_outside_lock(self) -> bool {
        !self.has(Fix::EventsDeleteInLock)
    }

    /// Does stream-id exhaustion leak the permit and leave the connection ACTIVE (#1061)?
    pub fn leaks_permit_on_exhaustion(self) -> bool {
        !self.has(Fix::ReleaseOnIdExhaustion)
    }

    /// Does an early close leave the stream open in h2 (#943)?
    pub fn skips_stream_reset(self) -> bool {
        !self.has(Fix::ResetOnEarlyClose)
    }

    /// Does a lowered MAX_CONCURRENT_STREAMS wait for permits under `_read_lock` (httpx2#1219)?
    pub fn waits_for_permits_under_read_lock(self) -> bool {
        !self.has(Fix::LowerLimitWithoutWaiting)
    }
}
