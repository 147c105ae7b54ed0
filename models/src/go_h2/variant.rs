//! The go-h2 model's variants: golang/net commits exactly as published ([`Release`]), and
//! `fixed` = the last of them plus named [`Fix`]es (later upstream commits, carried onto its
//! structure, and two of ours).
//!
//! Each historical bug is the code of the commit it lived in: golang/go#32388 and #48340 both
//! lived in 95888ee7 (the parent of 978cfadd, CL 349594, which fixed both), so they are one
//! variant, `upstream-95888ee7`; #48491 lived in 978cfadd (`go-48491`); the TOCTOU that
//! `streamsReserved` fixed lived in 76eb614f, the parent of 4e4d966f (`go-reserve`). The
//! commits are consecutive on golang/net master:
//! 95888ee7 -> 978cfadd -> cf34111c -> 3ad01bba -> 76eb614f -> 4e4d966f.
//!
//! Two fixes are older than every commit modelled: `forget-after-response` (1087133b,
//! golang/go#20521, the request-body writer goroutine racing an early response) and
//! `close-watch-on-refusal` (5f9ae10d, golang/go#24776, the slot-wait watcher of a refused
//! request), so that `fixed-without=<fix>` is 4e4d966f with that one reverted.
//!
//! Every behaviour switch below names the commit that introduced it; model code asks the
//! switches, never the variant's name.

use crate::model::{FixInfo, VariantInfo, VariantKind};
use crate::typed::{self, FixSpec};

/// A variant of the model: its release plus a set of [`Fix`]es.
pub type Variant = typed::Variant<Release>;

/// The golang/net code the variants start from, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Release {
    /// 95888ee7 ("http2: add Transport.CountErrors"), the parent of 978cfadd: `roundTrip` holds
    /// `cc.mu` from `awaitOpenSlotForRequest` through `encodeHeaders`, `newStream` and the
    /// HEADERS write (`wmu` taken inside `mu`, "acquire AFTER mu"); trailers are encoded under
    /// `mu` and written later under `wmu`; no `reqHeaderMu`, no `streamsReserved`.
    Net95888ee7,
    /// 978cfadd (CL 349594): writes hold only `wmu`, the encoder moves under `wmu`,
    /// `reqHeaderMu` covers stream allocation through the HEADERS write; the padding refund to
    /// `cs.inflow` moved outside `mu` (golang/go#48491).
    Net978cfadd,
    /// 76eb614f: cf34111c (the refund back under `mu`) and 76eb614f (close a do-not-reuse
    /// connection once idle) on top of 978cfadd; still no `streamsReserved`.
    Net76eb614f,
    /// 4e4d966f: `ReserveNewRequest` and `streamsReserved`.
    Net4e4d966f,
    /// Not a published commit: 4e4d966f with 8dab9293 (golang/go#18083, 2016) reverted, so
    /// `setGoAway` records the GOAWAY without failing the streams above its last-stream-id.
    /// The 2016 code itself is not modelled; this puts its GOAWAY handling on 4e4d966f's
    /// structure.
    Revert8dab9293,
}

/// A fix `fixed` applies to 4e4d966f: a later upstream commit, carried onto its structure, one
/// of ours, or an older upstream commit every published commit modelled already contains (their
/// variants are `Only` it), so that `fixed-without=` can revert it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// 0e478a2a (golang/go#56054): SETTINGS_HEADER_TABLE_SIZE resizes the encoder
    /// (`cc.henc.SetMaxDynamicTableSize`), capped at 4096.
    HeaderTableSize,
    /// d0c6ba3f (golang/go#39752): a connection that received GOAWAY is closed once its last
    /// stream is forgotten (`forgetStreamID`'s `closeOnIdle` gains `cc.goAway != nil`).
    GoawayCloseIdle,
    /// Ours (no upstream commit): the same close also when no stream is forgotten after the
    /// GOAWAY: `setGoAway` closes a connection that is idle when the GOAWAY arrives, and
    /// `awaitOpenSlotForRequest` closes one its refusal leaves idle (the reservation returned,
    /// no stream opened). d0c6ba3f closes only in `forgetStreamID`, so at golang/net master
    /// such a connection stays open until the server closes it.
    GoawayIdleClose,
    /// 1087133b (golang/go#20521, 2017; in every published commit modelled, so `fixed`
    /// keeps it and `fixed-without=forget-after-response` is 4e4d966f with it reverted):
    /// `processHeaders` forgets a stream that a response HEADERS ends only after handing the
    /// response to `roundTrip` (before it, `cc.streamByID(f.StreamID, f.StreamEnded())`).
    ForgetAfterResponse,
    /// 5f9ae10d (golang/go#24776, 2018; in every published commit modelled, like
    /// `forget-after-response`): `awaitOpenSlotForRequest` closes `waitingForConn` when it
    /// refuses the request, so the `awaitRequestCancel` goroutine it started ends.
    CloseWatchOnRefusal,
    /// Ours (no upstream commit): the trailers are split at `cc.maxFrameSize` read when they
    /// are written (under `wmu`, as `roundTrip` reads it for HEADERS), not at the value
    /// `writeRequestBody` read before the body (4e4d966f 1424-1426; still so at master).
    TrailersFrameSize,
    /// 80e70a3f (golang/go#22721, 2017; in every published commit modelled): `writeRequestBody`
    /// reads `cc.maxFrameSize` under `mu` and passes it to `writeHeaders` for the trailers;
    /// before it `writeHeaders` read the field itself with only `wmu` held, racing
    /// `processSettings`, which stored it under `mu` alone until 978cfadd.
    FrameSizeUnderMu,
}

impl Variant {
    /// Before 978cfadd: `mu` is held across writes (`wmu` inside it), the encoder is guarded
    /// by `mu`, there is no `reqHeaderMu`.
    pub fn writes_under_mu(self) -> bool {
        self.release() < Release::Net978cfadd
    }

    /// 978cfadd only: `processData` adds the padding refund to `cs.inflow` after releasing
    /// `mu` (golang/go#48491, undone by cf34111c).
    pub fn refund_outside_mu(self) -> bool {
        self.release() == Release::Net978cfadd
    }

    /// 76eb614f: a do-not-reuse connection is closed by its read loop once idle
    /// (`rl.closeWhenIdle`).
    pub fn closes_do_not_reuse_when_idle(self) -> bool {
        self.release() >= Release::Net76eb614f
    }

    /// 4e4d966f: the pool reserves a stream slot (`streamsReserved`).
    pub fn reserves(self) -> bool {
        self.release() >= Release::Net4e4d966f
    }

    /// 8dab9293 (in every published commit modelled): `setGoAway` fails the streams above the
    /// last-stream-id with a retryable error.
    pub fn goaway_fails_streams(self) -> bool {
        self.release() != Release::Revert8dab9293
    }

    /// 1087133b: `processHeaders` hands an END_STREAM response to `roundTrip` before it
    /// forgets a stream that has a request body (every published commit modelled has it).
    pub fn forgets_after_response(self) -> bool {
        self.has(Fix::ForgetAfterResponse)
    }

    /// 5f9ae10d: a request refused while it waited for a stream slot closes its watcher's
    /// `waitingForConn`.
    pub fn closes_watch_on_refusal(self) -> bool {
        self.has(Fix::CloseWatchOnRefusal)
    }

    /// Ours, and before 80e70a3f: the trailers read `cc.maxFrameSize` at their write, not
    /// before the body.
    pub fn reads_trailer_frame_size_at_write(self) -> bool {
        self.has(Fix::TrailersFrameSize) || !self.has(Fix::FrameSizeUnderMu)
    }

    /// 0e478a2a: SETTINGS_HEADER_TABLE_SIZE resizes the encoder.
    pub fn applies_header_table_size(self) -> bool {
        self.has(Fix::HeaderTableSize)
    }

    /// d0c6ba3f: a connection that received GOAWAY closes when its last stream is forgotten.
    pub fn closes_after_goaway_when_idle(self) -> bool {
        self.has(Fix::GoawayCloseIdle)
    }

    /// Ours: a connection that received GOAWAY closes once idle, with no stream forgotten.
    pub fn closes_idle_on_goaway(self) -> bool {
        self.has(Fix::GoawayIdleClose)
    }
}

impl typed::Fix for Fix {
    const ALL: &'static [Self] = &[
        Fix::HeaderTableSize,
        Fix::GoawayCloseIdle,
        Fix::GoawayIdleClose,
        Fix::ForgetAfterResponse,
        Fix::CloseWatchOnRefusal,
        Fix::TrailersFrameSize,
        Fix::FrameSizeUnderMu,
    ];
    const INFO: &'static [FixInfo] = &[
        FixInfo {
            name: "header-table-size",
            upstream: "https://github.com/golang/net/commit/0e478a2a",
            changes: "SETTINGS_HEADER_TABLE_SIZE resizes the encoder's dynamic table \
                      (0e478a2a, golang/go#56054)",
            why: "otherwise the encoder keeps a 4096-octet table the peer no longer has, and \
                  the peer cannot decode the next header block",
        },
        FixInfo {
            name: "goaway-close-idle",
            upstream: "https://github.com/golang/net/commit/d0c6ba3f",
            changes: "forgetStreamID closes a connection that received GOAWAY once it has no \
                      stream and no reservation (d0c6ba3f, golang/go#39752)",
            why: "MarkDead takes it out of the pool, so nothing else ever closes it: it leaks \
                  against a server that waits for the client to close",
        },
        FixInfo {
            name: "goaway-idle-close",
            upstream: "https://github.com/golang/go/issues/39752",
            changes: "ours: setGoAway closes a connection that is idle when the GOAWAY arrives, \
                      and awaitOpenSlotForRequest one its refusal leaves idle",
            why: "d0c6ba3f closes only when a stream is forgotten after the GOAWAY; a \
                  connection idle at that moment leaks as before (golang/net master too)",
        },
        FixInfo {
            name: "forget-after-response",
            upstream: "https://github.com/golang/net/commit/1087133b",
            changes: "processHeaders hands an END_STREAM response to roundTrip before it \
                      forgets the stream (1087133b, golang/go#20521; already in every \
                      published commit modelled)",
            why: "otherwise the body writer goroutine finds its stream forgotten, and its \
                  errStreamClosed can reach roundTrip before the response: an answered \
                  request fails",
        },
        FixInfo {
            name: "close-watch-on-refusal",
            upstream: "https://github.com/golang/net/commit/5f9ae10d",
            changes: "awaitOpenSlotForRequest closes waitingForConn when it refuses the request \
                      (5f9ae10d, golang/go#24776; already in every published commit modelled)",
            why: "otherwise the awaitRequestCancel goroutine it started for the wait selects on \
                  ctx.Done() and waitingForConn for ever: one leaked goroutine per refused \
                  request whose context never ends",
        },
        FixInfo {
            name: "trailers-frame-size",
            upstream: "https://github.com/golang/net/blob/4e4d966f74761e243baf87ad8bf106367a626260/http2/transport.go#L1424-L1426",
            changes: "ours: writeRequestBody splits the trailers at cc.maxFrameSize read under \
                      wmu when it writes them, not at the value it read before the body",
            why: "a SETTINGS that lowers SETTINGS_MAX_FRAME_SIZE during the body write is \
                  acknowledged before the trailers go out, which are then split at the old \
                  size: a frame above the acknowledged limit is the server's FRAME_SIZE_ERROR, \
                  a connection error that fails every stream on the connection",
        },
        FixInfo {
            name: "frame-size-under-mu",
            upstream: "https://github.com/golang/net/commit/80e70a3f",
            changes: "writeRequestBody reads cc.maxFrameSize under mu for the trailers' \
                      writeHeaders (80e70a3f, golang/go#22721; already in every published \
                      commit modelled)",
            why: "otherwise writeHeaders loads cc.maxFrameSize holding only wmu while \
                  processSettings stores it holding only mu (before 978cfadd): a data race",
        },
    ];
}

impl typed::Release for Release {
    type Fix = Fix;
    const NAMED: &'static [(Self, FixSpec<Fix>)] = &[
        (Release::Net4e4d966f, FixSpec::All),
        (
            Release::Net95888ee7,
            FixSpec::Only(&[
                Fix::ForgetAfterResponse,
                Fix::CloseWatchOnRefusal,
                Fix::FrameSizeUnderMu,
            ]),
        ),
        (
            Release::Net4e4d966f,
            FixSpec::Only(&[
                Fix::ForgetAfterResponse,
                Fix::CloseWatchOnRefusal,
                Fix::FrameSizeUnderMu,
            ]),
        ),
        (
            Release::Net978cfadd,
            FixSpec::Only(&[
                Fix::ForgetAfterResponse,
                Fix::CloseWatchOnRefusal,
                Fix::FrameSizeUnderMu,
            ]),
        ),
        (
            Release::Net76eb614f,
            FixSpec::Only(&[
                Fix::ForgetAfterResponse,
                Fix::CloseWatchOnRefusal,
                Fix::FrameSizeUnderMu,
            ]),
        ),
        (Release::Revert8dab9293, FixSpec::All),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::HeaderTableSize]),
        ),
        (
            Release::Net4e4d966f,
            FixSpec::AllBut(&[Fix::CloseWatchOnRefusal]),
        ),
        (
            Release::Net95888ee7,
            FixSpec::Only(&[Fix::ForgetAfterResponse, Fix::CloseWatchOnRefusal]),
        ),
    ];
    const INFO: &'static [VariantInfo] = &[
        VariantInfo {
            name: "fixed",
            kind: VariantKind::Fixed,
            upstream:
                "https://github.com/golang/net/commit/4e4d966f74761e243baf87ad8bf106367a626260",
            summary: "4e4d966f + 0e478a2a's header table size + d0c6ba3f's close after GOAWAY \
                      once idle + ours: that close also when no stream is forgotten, and \
                      trailers split at the current SETTINGS_MAX_FRAME_SIZE",
        },
        VariantInfo {
            name: "upstream-95888ee7",
            kind: VariantKind::Upstream,
            upstream: "https://github.com/golang/net/commit/95888ee7",
            summary: "golang/net 95888ee7 exactly, the code of golang/go#32388 (roundTrip \
                      writes HEADERS holding cc.mu, so the pool's check blocks) and #48340 \
                      (trailers encoded into hbuf under mu, written later under wmu)",
        },
        VariantInfo {
            name: "upstream-4e4d966f",
            kind: VariantKind::Upstream,
            upstream:
                "https://github.com/golang/net/commit/4e4d966f74761e243baf87ad8bf106367a626260",
            summary: "golang/net 4e4d966f exactly (no header table size, no close after \
                      GOAWAY once idle)",
        },
        VariantInfo {
            name: "go-48491",
            kind: VariantKind::Upstream,
            upstream: "https://github.com/golang/go/issues/48491",
            summary: "golang/net 978cfadd exactly: processData refunds padding to cs.inflow \
                      outside cc.mu (fixed by cf34111c)",
        },
        VariantInfo {
            name: "go-reserve",
            kind: VariantKind::Upstream,
            upstream: "https://github.com/golang/net/commit/76eb614f",
            summary: "golang/net 76eb614f exactly: the pool checks idleState() and the request \
                      opens its stream in another critical section; no streamsReserved",
        },
        VariantInfo {
            name: "go-goaway",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/18083",
            summary: "fixed with 8dab9293 reverted: setGoAway does not fail streams above the \
                      last-stream-id with the retryable errClientConnGotGoAway",
        },
        VariantInfo {
            name: "go-56054",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/56054",
            summary: "fixed without header-table-size: SETTINGS_HEADER_TABLE_SIZE ignored, \
                      the encoder keeps its 4096-octet table",
        },
        VariantInfo {
            name: "go-24776",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/24776",
            summary: "fixed without close-watch-on-refusal (5f9ae10d reverted): a request \
                      refused while it waits for a stream slot leaves its awaitRequestCancel \
                      goroutine blocked",
        },
        VariantInfo {
            name: "go-22721",
            kind: VariantKind::Bug,
            upstream: "https://github.com/golang/go/issues/22721",
            summary: "upstream-95888ee7 with 80e70a3f reverted (frame-size-under-mu): the \
                      trailers' writeHeaders loads cc.maxFrameSize under wmu while \
                      processSettings stores it under mu (the 2017 code itself is not modelled)",
        },
    ];
}
