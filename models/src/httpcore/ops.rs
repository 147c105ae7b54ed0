//! The httpcore model's self-description (variants, operations, configuration) and the
//! scenario operation vocabulary, parsed into [`Op`] and checked before anything runs.
//!
//! Every actor may use every operation: a client actor sends requests and closes responses, a
//! maintenance actor moves the clock and runs pool passes, a peer actor plays the server of a
//! connection. Operations never block the peer, so a peer script cannot deadlock by itself.

use super::connection::CancelAt;
use crate::model::{
    ModelInfo, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError, VariantInfo,
};

const fn param(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamInfo {
    ParamInfo::new(name, kind, doc)
}

const CONN: ParamInfo = param(
    "conn",
    ParamKind::Int,
    "the connection (numbered 1, 2... in creation order; default 1); before it exists, frames wait \
     for its preface",
).range(1, 1000);
const STREAM: ParamInfo = param(
    "stream",
    ParamKind::Int,
    "stream id (1, 3, 5...); 0 (default): the oldest stream not answered yet, or the next to \
     arrive",
)
.range(0, 2_147_483_647);

/// The model's self-description.
pub static INFO: ModelInfo = ModelInfo {
    name: "httpcore",
    summary: "encode/httpcore AsyncConnectionPool + AsyncHTTP2Connection, with a scripted HTTP/2 \
              server",
    upstream: "encode/httpcore 1.0.9 (9820975) httpcore/_async/http2.py, connection_pool.py, \
               connection.py",
    variants: &[
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
    ],
    ops: OPS,
    config: CONFIG,
};

const OPS: &[OpInfo] = &[
    OpInfo {
        name: "request",
        doc: "send a request through the pool (queue, assign, connect, stream, HEADERS, response \
              HEADERS), then `hold` awaits, read the body to END_STREAM and close the response; a \
              ConnectionNotAvailable is retried as upstream",
        params: &[
            param(
                "cancel_after",
                ParamKind::Str,
                "where the task is cancelled: `none` (default), `permit` (while waiting for its \
                 stream permit), `sent` (HEADERS sent, before the response), `headers` (response \
                 HEADERS received; the response is closed without reading the body)",
            ),
            param(
                "hold",
                ParamKind::Int,
                "awaits between the response HEADERS and the body (default 0)",
            )
            .range(0, 1_000_000),
            param(
                "keep",
                ParamKind::Bool,
                "keep the response open; a later `close-response` reads and closes it (default \
                 false)",
            ),
        ],
    },
    OpInfo {
        name: "close-response",
        doc: "read the body of the oldest response this actor kept and close it (responses still \
              kept when the actor ends are closed then)",
        params: &[param(
            "read_body",
            ParamKind::Bool,
            "read to END_STREAM first (default true); false closes it early, as a cancelled \
             reader does",
        )],
    },
    OpInfo {
        name: "tick",
        doc: "advance the logical clock (keep-alive expiry is compared with it)",
        params: &[param("by", ParamKind::Int, "time units (default 1)").range(0, 1_000_000)],
    },
    OpInfo {
        name: "pool-maintain",
        doc: "one await, then one `_assign_requests_to_connections` pass (close expired \
              connections and idle ones beyond max_keepalive_connections, assign queued requests) \
              and the closes it decided, as every request arrival or departure runs it",
        params: &[],
    },
    OpInfo {
        name: "close-pool",
        doc: "`pool.aclose()`: close every connection the pool holds",
        params: &[],
    },
    OpInfo {
        name: "await",
        doc: "one await that does nothing (shifts an actor's timing)",
        params: &[],
    },
    OpInfo {
        name: "settings",
        doc: "peer: send SETTINGS with MAX_CONCURRENT_STREAMS (applied when the client reads it)",
        params: &[
            param(
                "max_streams",
                ParamKind::Int,
                "the new MAX_CONCURRENT_STREAMS (required)",
            )
            .range(0, 2_147_483_647),
            CONN,
        ],
    },
    OpInfo {
        name: "respond",
        doc: "peer: answer a request stream with HEADERS (and DATA) now, or when it arrives",
        params: &[
            STREAM,
            param(
                "end_stream",
                ParamKind::Bool,
                "end the stream (default true); false leaves it open until `end-stream`",
            ),
            param(
                "body",
                ParamKind::Bool,
                "send a DATA frame (default: the `response_body` configuration)",
            ),
            CONN,
        ],
    },
    OpInfo {
        name: "reset",
        doc: "peer: refuse a request stream with RST_STREAM, now or when it arrives",
        params: &[STREAM, CONN],
    },
    OpInfo {
        name: "end-stream",
        doc: "peer: send END_STREAM on a stream answered without it (stream 0: the oldest); if \
              none is open yet, the next one answered without it ends right after its HEADERS",
        params: &[STREAM, CONN],
    },
    OpInfo {
        name: "goaway",
        doc: "peer: send GOAWAY",
        params: &[
            param(
                "last_stream",
                ParamKind::Int,
                "the last stream id it will process (default: the highest it has seen)",
            )
            .range(0, 2_147_483_647),
            CONN,
        ],
    },
    OpInfo {
        name: "disconnect",
        doc: "peer: close the transport (the client's next read returns b\"\")",
        params: &[CONN],
    },
];

const CONFIG: &[ParamInfo] = &[
    param(
        "max_connections",
        ParamKind::Int,
        "pool max_connections (default 1)",
    )
    .range(1, 1000),
    param(
        "max_keepalive_connections",
        ParamKind::Int,
        "pool max_keepalive_connections (default: max_connections)",
    )
    .range(0, 1000),
    param(
        "keepalive_expiry",
        ParamKind::Int,
        "logical time an IDLE connection lives (default 5; -1: never expires)",
    )
    .range(-1, 1_000_000),
    param(
        "local_max_streams",
        ParamKind::Int,
        "the client's max_concurrent_streams, the semaphore's size (default 2; 100 upstream)",
    )
    .range(1, 2_147_483_647),
    param(
        "server_max_streams",
        ParamKind::Int,
        "MAX_CONCURRENT_STREAMS in the server's first SETTINGS (default 100; 0: not sent)",
    )
    .range(0, 2_147_483_647),
    param(
        "stream_ids",
        ParamKind::Int,
        "stream ids a connection may use before NoAvailableStreamIDError (default 100)",
    )
    .range(1, 2_147_483_647),
    param(
        "respond",
        ParamKind::Str,
        "how the server answers requests no `respond`/`reset` names: `full` (default: at \
         once, with END_STREAM), `headers` (HEADERS only; the stream stays open), `manual` \
         (only `respond` operations)",
    ),
    param(
        "response_body",
        ParamKind::Bool,
        "full responses carry a DATA frame (default false: END_STREAM on HEADERS)",
    ),
    param(
        "close_pool_at_end",
        ParamKind::Bool,
        "close the pool after the actors end (default false: idle pooled connections count as \
         returned, anything else still open is a leak)",
    ),
];

/// One parsed operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `request`.
    Request {
        /// Where it is cancelled.
        cancel: Cancel,
        /// Awaits before reading the body.
        hold: u32,
        /// Keep the response open.
        keep: bool,
    },
    /// `close-response`.
    CloseResponse {
        /// Read the body first.
        read_body: bool,
    },
    /// `tick`.
    Tick(u64),
    /// `pool-maintain`.
    PoolMaintain,
    /// `close-pool`.
    ClosePool,
    /// `await`.
    Await,
    /// `settings`.
    Settings {
        /// Connection.
        conn: u32,
        /// MAX_CONCURRENT_STREAMS.
        max_streams: u32,
    },
    /// `respond`.
    Respond {
        /// Connection.
        conn: u32,
        /// Stream (0: next).
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// DATA frame (`None`: the configuration's).
        body: Option<bool>,
    },
    /// `reset`.
    Reset {
        /// Connection.
        conn: u32,
        /// Stream (0: next).
        stream: u32,
    },
    /// `end-stream`.
    EndStream {
        /// Connection.
        conn: u32,
        /// Stream (0: oldest open).
        stream: u32,
    },
    /// `goaway`.
    Goaway {
        /// Connection.
        conn: u32,
        /// Last stream id (negative: the highest seen).
        last_stream: i64,
    },
    /// `disconnect`.
    Disconnect {
        /// Connection.
        conn: u32,
    },
}

/// `request`'s `cancel_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// Not cancelled.
    None,
    /// While waiting for its permit.
    Permit,
    /// After sending HEADERS, before the response.
    Sent,
    /// After the response HEADERS, before the body.
    Headers,
}

impl Cancel {
    /// Where the connection sees the cancellation.
    pub fn at(self) -> CancelAt {
        match self {
            Cancel::Permit => CancelAt::PermitWait,
            Cancel::Sent => CancelAt::ResponseWait,
            Cancel::None | Cancel::Headers => CancelAt::Never,
        }
    }
}

impl Op {
    /// Parse a validated operation (names and types were checked by the loader).
    pub fn parse(op: &OpSpec) -> Result<Op, String> {
        let a = &op.args;
        let conn = a.u32("conn", 1);
        let stream = a.u32("stream", 0);
        Ok(match op.name.as_str() {
            "request" => Op::Request {
                cancel: parse_cancel(a.str("cancel_after", "none"))?,
                hold: a.u32("hold", 0),
                keep: a.bool("keep", false),
            },
            "close-response" => Op::CloseResponse {
                read_body: a.bool("read_body", true),
            },
            "tick" => Op::Tick(u64::try_from(a.int("by", 1)).map_err(|_| "`by` must be >= 0")?),
            "pool-maintain" => Op::PoolMaintain,
            "close-pool" => Op::ClosePool,
            "await" => Op::Await,
            "settings" => Op::Settings {
                conn,
                max_streams: u32::try_from(a.int("max_streams", -1))
                    .map_err(|_| "`settings` needs `max_streams` (a non-negative integer)")?,
            },
            "respond" => Op::Respond {
                conn,
                stream,
                end_stream: a.bool("end_stream", true),
                body: a.0.get("body").map(|_| a.bool("body", false)),
            },
            "reset" => Op::Reset { conn, stream },
            "end-stream" => Op::EndStream { conn, stream },
            "goaway" => Op::Goaway {
                conn,
                last_stream: a.int("last_stream", -1),
            },
            "disconnect" => Op::Disconnect { conn },
            other => return Err(format!("unknown operation `{other}`")),
        })
    }
}

fn parse_cancel(s: &str) -> Result<Cancel, String> {
    match s {
        "none" => Ok(Cancel::None),
        "permit" => Ok(Cancel::Permit),
        "sent" => Ok(Cancel::Sent),
        "headers" => Ok(Cancel::Headers),
        other => Err(format!(
            "`cancel_after = \"{other}\"` is not one of `none`, `permit`, `sent`, `headers`"
        )),
    }
}

/// Checks beyond names and types: argument values, `close-response` after a kept response,
/// configuration values.
pub fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
    check_config(spec)?;
    for (a, actor) in spec.actors.iter().enumerate() {
        let mut kept = 0u32;
        for (o, op) in actor.ops.iter().enumerate() {
            let err = |message: String| SpecError::op(a, o, message);
            match Op::parse(op).map_err(err)? {
                Op::Request { cancel, keep, .. } if keep && cancel != Cancel::None => {
                    return Err(err("a cancelled request has no response to keep".into()))
                }
                Op::Request { keep: true, .. } => kept += 1,
                Op::CloseResponse { .. } if kept == 0 => {
                    return Err(err(
                        "`close-response` needs a response kept open: add a `request` with \
                         `keep = true` before it"
                            .into(),
                    ))
                }
                Op::CloseResponse { .. } => kept -= 1,
                _ => {}
            }
        }
    }
    Ok(())
}

/// The configuration's string values; the harness checks every integer's declared range.
fn check_config(spec: &ScenarioSpec) -> Result<(), SpecError> {
    match spec.config.str("respond", "full") {
        "full" | "headers" | "manual" => Ok(()),
        other => Err(SpecError::config(
            "respond",
            format!("`respond = \"{other}\"` is not one of `full`, `headers`, `manual`"),
        )),
    }
}
