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

use crate::model::VariantInfo;
use crate::typed::Variants;

/// Which behaviour the connection has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Every fix applied (our own fixes; see each variant for what they replace).
    ///
    /// - #1062: `_response_closed` goes IDLE only when no stream is registered *and* no request
    ///   is between its `_state_lock` section and its stream registration (a `pending` count,
    ///   incremented where the request sets ACTIVE, decremented where it registers its stream or
    ///   leaves without one). The delete of `_events[stream_id]` is inside `_state_lock`.
    /// - #1061: the permit is released and the connection goes IDLE (then closes, since it can
    ///   take no more streams) when stream ids run out.
    /// - #943: `_response_closed` resets a stream h2 still counts open (`reset_stream`; the
    ///   RST_STREAM frame goes out with the next write, as in encode/httpcore#1098) *before* it
    ///   releases the permit.
    /// - httpx2#1219: a lowered MAX_CONCURRENT_STREAMS never waits under `_read_lock`: free
    ///   permits are taken at once (`try_acquire`), the rest is a debt, booked atomically with
    ///   h2 applying the new limit, that the next closing streams (and requests that get a
    ///   permit meanwhile) pay by keeping their permits instead of releasing or using them.
    Fixed,
    /// encode/httpcore#1062 (<https://github.com/encode/httpcore/pull/1062>): before, the delete
    /// of `_events[stream_id]` ran after `release()` and before `async with self._state_lock`,
    /// and the IDLE test was `not self._events` alone. After (our fix): see [`Variant::Fixed`].
    Httpcore1062,
    /// pydantic/httpx2#1013 (<https://github.com/pydantic/httpx2/pull/1013>), the merged port of
    /// #1062: the delete moved inside `_state_lock`, nothing else changed (the IDLE test is still
    /// `not self._events`, so a request between its ACTIVE mark and its stream registration is
    /// still invisible).
    Httpx21013,
    /// encode/httpcore#1061 (<https://github.com/encode/httpcore/pull/1061>, httpx2#1012): on
    /// `NoAvailableStreamIDError` the request sets `_used_all_stream_ids`, decrements
    /// `_request_count` and raises `ConnectionNotAvailable`, without releasing the permit it just
    /// acquired and leaving the connection ACTIVE with no stream. After: release it, go IDLE.
    Httpcore1061,
    /// encode/httpcore#943 / #1022 (<https://github.com/encode/httpcore/issues/943>): a response
    /// closed before END_STREAM (cancelled, or closed without reading the body) releases its
    /// permit and drops its events, but h2 still counts the stream open; after enough of them
    /// h2 refuses new streams ("Max outbound streams is 100, 100 open"). After: reset the stream.
    Httpcore943,
    /// pydantic/httpx2#1219 (<https://github.com/pydantic/httpx2/pull/1219>, fixes #1216):
    /// `_receive_remote_settings_change` lowers the limit with `await semaphore.acquire()` while
    /// `_receive_events` holds `_read_lock`; the permits it waits for belong to in-flight streams,
    /// which need `_read_lock` to finish. Deadlock. After: see [`Variant::Fixed`] (our own fix;
    /// the PR's diff was not available to us).
    Httpx21219,
}

impl Variants for Variant {
    const ALL: &'static [Self] = &[
        Variant::Fixed,
        Variant::Httpcore1062,
        Variant::Httpx21013,
        Variant::Httpcore1061,
        Variant::Httpcore943,
        Variant::Httpx21219,
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            upstream: "",
            summary: "our fixes for #1062, #1061, #943 and httpx2#1219",
        },
        VariantInfo {
            name: "httpcore-1062",
            upstream: "https://github.com/encode/httpcore/pull/1062",
            summary: "the last stream's close deletes its events outside _state_lock and goes \
                  IDLE while a new request is about to open a stream",
        },
        VariantInfo {
            name: "httpx2-1013",
            upstream: "https://github.com/pydantic/httpx2/pull/1013",
            summary: "the merged fix: the delete moved inside _state_lock, nothing else changed",
        },
        VariantInfo {
            name: "httpcore-1061",
            upstream: "https://github.com/encode/httpcore/pull/1061",
            summary: "stream-id exhaustion keeps the permit and leaves the connection ACTIVE",
        },
        VariantInfo {
            name: "httpcore-943",
            upstream: "https://github.com/encode/httpcore/issues/943",
            summary: "a response closed before END_STREAM is not reset: h2 still counts it open",
        },
        VariantInfo {
            name: "httpx2-1219",
            upstream: "https://github.com/pydantic/httpx2/pull/1219",
            summary: "a lowered MAX_CONCURRENT_STREAMS waits for permits while holding _read_lock",
        },
    ];
}

impl Variant {
    /// Does `_response_closed` go IDLE on `not self._events` alone (the #1062 family)?
    pub fn idles_on_events_only(self) -> bool {
        matches!(self, Variant::Httpcore1062 | Variant::Httpx21013)
    }

    /// Is `del self._events[stream_id]` outside `_state_lock` (the original #1062 bug)?
    pub fn deletes_events_outside_lock(self) -> bool {
        self == Variant::Httpcore1062
    }

    /// Does stream-id exhaustion leak the permit and leave the connection ACTIVE (#1061)?
    pub fn leaks_permit_on_exhaustion(self) -> bool {
        self == Variant::Httpcore1061
    }

    /// Does an early close leave the stream open in h2 (#943)?
    pub fn skips_stream_reset(self) -> bool {
        self == Variant::Httpcore943
    }

    /// Does a lowered MAX_CONCURRENT_STREAMS wait for permits under `_read_lock` (httpx2#1219)?
    pub fn waits_for_permits_under_read_lock(self) -> bool {
        self == Variant::Httpx21219
    }
}
