//! The httpcore model's variants: the fixed connection and five historical bugs, each a runtime
//! switch so that every variant compiles into one binary.
//!
//! Every buggy variant is the fixed model with exactly one fix undone, so a scenario that catches
//! a variant catches *that* bug. Upstream encode/httpcore 1.0.9 has all of them at once.
//!
//! The fixed model also carries four fixes for bugs that BUGS.md does not list, in every
//! variant (they are not switches); see [`super::connection`] and [`super::pool`]:
//! - a request that leaves before it has a stream (cancelled while waiting for its permit) undoes
//!   its ACTIVE mark under `_state_lock` (upstream leaves the connection ACTIVE for good);
//! - a request that gets its stream permit after the connection processed GOAWAY opens no
//!   stream and is retried (`ConnectionNotAvailable`); upstream allocates a stream that h2
//!   refuses and fails the request with `RemoteProtocolError`, though the server never saw it;
//! - a GOAWAY with last-stream-id 0 retries the requests it caught, as any other GOAWAY does
//!   (upstream's `if stream_id and last_stream_id and ...` treats 0 as "no limit" and fails them
//!   with `RemoteProtocolError`, though the server processed none of them);
//! - the pool closes the state of every connection it removes inside the section that removes
//!   it, not one `await` at a time afterwards (upstream's `_close_connections` loop lets a
//!   request reuse the second connection of the list before its `aclose` runs).

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
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::EventsDeleteInLock,
        Fix::IdleCountsPending,
        Fix::ReleaseOnIdExhaustion,
        Fix::ResetOnEarlyClose,
        Fix::LowerLimitWithoutWaiting,
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
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Httpcore1_0_9, FixSpec::All),
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
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "",
            summary: "httpcore 1.0.9 with every named fix",
        },
        VariantInfo {
            name: "httpcore-1062",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/pull/1062",
            summary: "fixed-without=events-delete-in-lock,idle-counts-pending: the last \
                      stream's close deletes its events outside _state_lock and goes IDLE while \
                      a new request is about to open a stream (1.0.9's code)",
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
                      permit and leaves the connection ACTIVE (1.0.9's code)",
        },
        VariantInfo {
            name: "httpcore-943",
            kind: VariantKind::Bug,
            upstream: "https://github.com/encode/httpcore/issues/943",
            summary: "fixed-without=reset-on-early-close: a response closed before END_STREAM \
                      is not reset, h2 still counts it open (1.0.9's code)",
        },
        VariantInfo {
            name: "httpx2-1219",
            kind: VariantKind::Bug,
            upstream: "https://github.com/pydantic/httpx2/pull/1219",
            summary: "fixed-without=lower-limit-without-waiting: a lowered \
                      MAX_CONCURRENT_STREAMS waits for permits while holding _read_lock \
                      (1.0.9's code)",
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
