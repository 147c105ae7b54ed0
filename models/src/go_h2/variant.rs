//! The go-h2 model's variants: the fixed code and one historical bug each, as runtime switches.
//!
//! Each buggy variant is the fixed model with exactly one historical behaviour restored, so that
//! a scenario's verdict names one bug. (The code before 978cfadd had #32388 and #48340 at once.)

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the model: its release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The code the variants start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// golang/net 978cfadd (CL 349594) + cf34111c + 4e4d966f, with SETTINGS_HEADER_TABLE_SIZE support from 0e478a2a.
    Net4e4d966f,
}

/// A named fix; each undoes one historical bug (the doc says what it was and what changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// golang/go#32388, the lock structure before 978cfadd: `roundTrip` holds `cc.mu` from
    /// `awaitOpenSlotForRequest` through `encodeHeaders` and the HEADERS write and flush (taking
    /// `wmu` inside `mu`, "acquire AFTER mu"), and every path that holds both takes `mu` first:
    /// `processSettings` (ACK), `transportResponseBody.Read`/`Close` (WINDOW_UPDATE, RST_STREAM),
    /// `processData` (padding refund). No `reqHeaderMu`. After: writes hold only `wmu`, order
    /// `reqHeaderMu` -> `wmu` -> `mu`.
    WritesOutsideMu,
    /// golang/go#48340: `writeRequestBody` encodes trailers into the shared `cc.hbuf` under
    /// `cc.mu` and writes the returned slice of `hbuf` later under `cc.wmu`; another stream's
    /// `encodeHeaders` (under `wmu`) resets and refills `hbuf` in between. After 978cfadd: the
    /// trailers are encoded and written under one `wmu` critical section.
    TrailersUnderWmu,
    /// golang/go#48491 (978cfadd's regression, fixed by cf34111c): `processData` refunds padding
    /// to the stream window (`cs.inflow.add`) after releasing `cc.mu`, racing with
    /// `transportResponseBody.Read`'s `cs.inflow.add` under `mu`. After: back under `mu`.
    RefundUnderMu,
    /// golang/net before 4e4d966f: `getClientConn` asks `idleState()` (a check, no reservation)
    /// and returns a freshly dialed conn without any check, so N requests pass the
    /// `len(streams)+1 <= maxConcurrentStreams` check before any opens its stream. After:
    /// `ReserveNewRequest` counts `streamsReserved`, released by `roundTrip` on every path.
    ReserveStream,
    /// golang/go#18083 (before 8dab9293): `setGoAway` records the GOAWAY but does not fail the
    /// streams above its last-stream-id with the retryable `errClientConnGotGoAway`; they wait
    /// until the server closes the connection and then fail with a non-retryable error.
    GoawayFailsStreams,
    /// golang/go#56054 (before 0e478a2a): SETTINGS_HEADER_TABLE_SIZE is ignored ("TODO: handle
    /// more settings? SETTINGS_HEADER_TABLE_SIZE probably"), so the encoder keeps its 4096-octet
    /// table after the peer lowered the limit. After: `cc.henc.SetMaxDynamicTableSize(v)`.
    HeaderTableSize,
}

impl Variant {
    /// Before 978cfadd: `mu` is held across writes, `mu` before `wmu`, no `reqHeaderMu`.
    pub fn writes_under_mu(self) -> bool {
        !self.has(Fix::WritesOutsideMu)
    }

    /// Trailers encoded under `mu`, written later under `wmu` from the shared buffer.
    pub fn trailers_encoded_under_mu(self) -> bool {
        !self.has(Fix::TrailersUnderWmu)
    }

    /// The stream-window padding refund happens outside `mu`.
    pub fn refund_outside_mu(self) -> bool {
        !self.has(Fix::RefundUnderMu)
    }

    /// The pool reserves a stream slot (`streamsReserved`).
    pub fn reserves(self) -> bool {
        self.has(Fix::ReserveStream)
    }

    /// `setGoAway` fails the streams above the last-stream-id with a retryable error.
    pub fn goaway_fails_streams(self) -> bool {
        self.has(Fix::GoawayFailsStreams)
    }

    /// SETTINGS_HEADER_TABLE_SIZE resizes the encoder.
    pub fn applies_header_table_size(self) -> bool {
        self.has(Fix::HeaderTableSize)
    }
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::WritesOutsideMu,
        Fix::TrailersUnderWmu,
        Fix::RefundUnderMu,
        Fix::ReserveStream,
        Fix::GoawayFailsStreams,
        Fix::HeaderTableSize,
    ];
    const INFO: &'static [FixInfo] = &[
        FixInfo {
            name: "writes-outside-mu",
            upstream: "https://github.com/golang/go/issues/32388",
            changes: "roundTrip writes and flushes HEADERS under wmu only (reqHeaderMu, then wmu, then mu), not under cc.mu (978cfadd)",
            why: "holding cc.mu across a write stalls every user of the connection, the pool's check included, behind a stalled peer",
        },
        FixInfo {
            name: "trailers-under-wmu",
            upstream: "https://github.com/golang/go/issues/48340",
            changes: "trailers are encoded and written in one wmu section (978cfadd)",
            why: "encoding into the shared hbuf under mu lets another stream's encodeHeaders overwrite it before the write",
        },
        FixInfo {
            name: "refund-under-mu",
            upstream: "https://github.com/golang/go/issues/48491",
            changes: "processData refunds padding to cs.inflow under cc.mu (cf34111c)",
            why: "outside mu the refund races transportResponseBody.Read's cs.inflow.add",
        },
        FixInfo {
            name: "reserve-stream",
            upstream: "https://github.com/golang/net/commit/4e4d966f74761e243baf87ad8bf106367a626260",
            changes: "the pool reserves a stream slot (streamsReserved) in the same section as its check (4e4d966f)",
            why: "a check without a reservation lets N requests pass it before any opens its stream",
        },
        FixInfo {
            name: "goaway-fails-streams",
            upstream: "https://github.com/golang/go/issues/18083",
            changes: "setGoAway fails the streams above the last-stream-id with the retryable errClientConnGotGoAway (8dab9293)",
            why: "otherwise they wait for the server to close and fail without retry",
        },
        FixInfo {
            name: "header-table-size",
            upstream: "https://github.com/golang/go/issues/56054",
            changes: "SETTINGS_HEADER_TABLE_SIZE resizes the encoder's dynamic table (0e478a2a)",
            why: "otherwise the encoder keeps a 4096-octet table the peer no longer has",
        },
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Net4e4d966f, FixSpec::All),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::WritesOutsideMu]),
        ),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::TrailersUnderWmu]),
        ),
        (Release::Net4e4d966f, FixSpec::AllBut(&[Fix::RefundUnderMu])),
        (Release::Net4e4d966f, FixSpec::AllBut(&[Fix::ReserveStream])),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::GoawayFailsStreams]),
        ),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::HeaderTableSize]),
        ),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream: "https://go-review.googlesource.com/c/net/+/349594",
            summary: "978cfadd + cf34111c + 4e4d966f (+ 0e478a2a's header table size)",
        },
        VariantInfo {
            name: "go-32388",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/32388",
            summary: "roundTrip writes and flushes HEADERS holding cc.mu (mu before wmu \
                  everywhere, no reqHeaderMu); the pool's check blocks on cc.mu",
        },
        VariantInfo {
            name: "go-48340",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/48340",
            summary: "trailers encoded into the shared hbuf under mu, written later under wmu",
        },
        VariantInfo {
            name: "go-48491",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/48491",
            summary: "processData refunds padding to cs.inflow outside cc.mu (978cfadd's \
                  regression, fixed by cf34111c)",
        },
        VariantInfo {
            name: "go-reserve",
            kind: VariantKind::Bug,
            upstream:
                "https://github.com/golang/net/commit/4e4d966f74761e243baf87ad8bf106367a626260",
            summary: "the pool checks idleState() and the request opens its stream in another \
                  critical section; no streamsReserved",
        },
        VariantInfo {
            name: "go-goaway",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/18083",
            summary: "setGoAway does not fail streams above the last-stream-id with the \
                  retryable errClientConnGotGoAway (before 8dab9293)",
        },
        VariantInfo {
            name: "go-56054",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/56054",
            summary: "SETTINGS_HEADER_TABLE_SIZE ignored: the encoder keeps its 4096-octet \
                  table (before 0e478a2a)",
        },
    ];
}
