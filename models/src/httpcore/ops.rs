//! The httpcore model's self-description (variants, operations, configuration) and the
//! scenario operation vocabulary, parsed into [`Op`] and checked before anything runs.
//!
//! Every actor may use every operation: a client actor sends requests and closes responses, a
//! maintenance actor moves the clock and runs pool passes, a peer actor plays the server of a
//! connection. Operations never block the peer, so a peer script cannot deadlock by itself.

use super::h2state::ServerFrame;
use super::peer::{Network, Plan};
use super::pool::{outcome_of, Pool, Response};
use super::task::{Task, POINTS};
use crate::cancel::{cancel_point, check_target};
use crate::model::{param, Args, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError};
use crate::sync::{advance_clock, yield_now, Outcome};
use crate::typed::{unknown_op, OpAt, Ops};
use std::collections::VecDeque;

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

const OPS: &[OpInfo] = &[
    OpInfo {
        name: "request",
        doc: "send a request through the pool (queue, assign, connect, stream, HEADERS, response \
              HEADERS), then `hold` awaits, read the body to END_STREAM and close the response; a \
              ConnectionNotAvailable is retried as upstream",
        params: &[
            param(
                "cancel_at",
                ParamKind::Str,
                "cancel the task at this await: `wait` (suspended waiting for a connection; \
                 raised when it resumes), `request-lock`, `connect`, `state-lock`, `init-lock` \
                 (HTTP/2), `permit` (HTTP/2: its stream permit), `write` (its HEADERS), \
                 `response` (the response HEADERS), `body` (reading the body)",
            )
            .one_of(POINTS),
            param(
                "cancel_after",
                ParamKind::Str,
                "the older spelling of three `cancel_at` points: `permit`, `sent` (= `response`), \
                 `headers` (= `body`); `none` (default)",
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
        name: "cancel",
        doc: "cancel the request `target` runs now, if any: it raises at its next await (or \
              wakes from waiting for a connection to raise)",
        params: &[param(
            "target",
            ParamKind::Str,
            "the actor whose request is cancelled (required)",
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
                "send a body (default: the `response_body` configuration)",
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

/// The model's configuration keys.
pub(super) const CONFIG: &[ParamInfo] = &[
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
        "full responses carry a body (default false: END_STREAM on HEADERS)",
    ),
    param(
        "response_frames",
        ParamKind::Int,
        "DATA frames in a response body (default 1)",
    )
    .range(1, 1000),
    param(
        "stream_window",
        ParamKind::Int,
        "HTTP/2: DATA frames the server sends on a stream before it waits for the client's \
         WINDOW_UPDATE, one more per update (default 0: bodies never fill the window)",
    )
    .range(0, 1000),
    param(
        "http2",
        ParamKind::Bool,
        "the pool offers `h2` in ALPN (default true); false: every connection is HTTP/1.1, and \
         one still connecting is not available to a second request",
    ),
    param(
        "alpn",
        ParamKind::Str,
        "what the server selects, per connection in creation order, comma-separated: `h2` \
         (default) or `http/1.1`; the last holds for later connections (`\"http/1.1,h2\"`)",
    ),
    param(
        "close_pool_at_end",
        ParamKind::Bool,
        "close the pool after the actors end (default false: idle pooled connections count as \
         returned, anything else still open is a leak)",
    ),
];

/// One parsed operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `request`.
    Request {
        /// The await at which the scenario cancels it.
        cancel_at: Option<&'static str>,
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
    /// `cancel`: the target actor.
    Cancel(String),
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

impl Ops for Op {
    const INFO: &'static [OpInfo] = OPS;

    /// Parse an operation (names and types were checked by the loader; values are checked here).
    fn parse(op: &OpSpec, _config: &Args) -> Result<Op, String> {
        let a = &op.args;
        let conn = a.u32("conn", 1);
        let stream = a.u32("stream", 0);
        Ok(match op.name.as_str() {
            "request" => Op::Request {
                cancel_at: request_cancel_point(op)?,
                hold: a.u32("hold", 0),
                keep: a.bool("keep", false),
            },
            "cancel" => Op::Cancel(a.str("target", "").to_owned()),
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
            other => return Err(unknown_op::<Op>(other)),
        })
    }
}

/// `request`'s `cancel_at`, or the point its older `cancel_after` names.
fn request_cancel_point(op: &OpSpec) -> Result<Option<&'static str>, String> {
    let at = cancel_point(op, OPS)?;
    let after = match op.args.str("cancel_after", "none") {
        "none" => None,
        "permit" => Some("permit"),
        "sent" => Some("response"),
        "headers" => Some("body"),
        other => {
            return Err(format!(
                "`cancel_after = \"{other}\"` is not one of `none`, `permit`, `sent`, `headers`"
            ))
        }
    };
    match (at, after) {
        (Some(_), Some(_)) => Err("give `cancel_at` or `cancel_after`, not both".into()),
        (at, after) => Ok(at.or(after)),
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
            match Op::parse(op, &spec.config).map_err(err)? {
                Op::Request {
                    cancel_at: Some(point),
                    ..
                } if !spec.config.bool("http2", true) && H2_ONLY.contains(&point) => {
                    return Err(err(format!(
                        "with `http2 = false` every connection is HTTP/1.1, which has no await \
                         `{point}` (HTTP/2 only: {})",
                        H2_ONLY.join(", ")
                    )))
                }
                Op::Request {
                    cancel_at: Some(_),
                    keep: true,
                    ..
                } => return Err(err("a cancelled request has no response to keep".into())),
                Op::Cancel(target) => check_target(spec, &target).map_err(err)?,
                Op::Settings { conn, .. } | Op::Reset { conn, .. } | Op::Goaway { conn, .. }
                    if http11_conn(&spec.config, conn) =>
                {
                    return Err(err(format!(
                        "connection {conn} speaks HTTP/1.1 (`http2`/`alpn`): `{}` is an HTTP/2 \
                         frame",
                        op.name
                    )))
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

/// The awaits only an HTTP/2 connection has.
const H2_ONLY: &[&str] = &["init-lock", "permit"];

/// The configuration's string values; the harness checks every integer's declared range.
fn check_config(spec: &ScenarioSpec) -> Result<(), SpecError> {
    alpn(&spec.config).map_err(|m| SpecError::config("alpn", m))?;
    match spec.config.str("respond", "full") {
        "full" | "headers" | "manual" => Ok(()),
        other => Err(SpecError::config(
            "respond",
            format!("`respond = \"{other}\"` is not one of `full`, `headers`, `manual`"),
        )),
    }
}

/// `alpn`: per connection, whether the server selects HTTP/1.1.
pub(super) fn alpn(c: &Args) -> Result<Vec<bool>, String> {
    let text = c.str("alpn", "h2");
    text.split(',')
        .map(|p| match p.trim() {
            "h2" => Ok(false),
            "http/1.1" => Ok(true),
            other => Err(format!(
                "`alpn` lists `{other}`: each entry is `h2` or `http/1.1` (\"{text}\")"
            )),
        })
        .collect()
}

/// Does connection `conn` speak HTTP/1.1 under this configuration?
fn http11_conn(c: &Args, conn: u32) -> bool {
    let per_conn = alpn(c).unwrap_or_default();
    let n = usize::try_from(conn)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    !c.bool("http2", true)
        || per_conn
            .get(n)
            .or(per_conn.last())
            .copied()
            .unwrap_or(false)
}

pub(super) fn run_op(
    pool: &Pool,
    net: &Network,
    op: Op,
    at: OpAt<'_>,
    kept: &mut VecDeque<Response>,
) {
    match op {
        Op::Request {
            cancel_at,
            hold,
            keep,
        } => {
            let task = pool.cancels.task(at.actor, at.req, cancel_at);
            if let Some(resp) = pool.handle_async_request(&task) {
                for _ in 0..hold {
                    yield_now("hold the response");
                }
                if keep {
                    return kept.push_back(resp);
                }
                read_and_close(pool, &resp, &task);
            }
            pool.cancels.finished(at.actor, at.req);
        }
        Op::CloseResponse { read_body } => {
            if let Some(resp) = kept.pop_front() {
                finish_response(pool, &resp, read_body);
                pool.cancels.finished(at.actor, resp.req);
            }
        }
        Op::Cancel(target) => pool.cancel(&target),
        Op::Tick(by) => advance_clock(by),
        Op::PoolMaintain => {
            yield_now("pool maintenance");
            pool.maintain();
        }
        Op::ClosePool => pool.aclose(),
        Op::Await => yield_now("await"),
        _ => run_peer_op(net, op),
    }
}

/// Read the body and close the response, unless the task is cancelled at `body`: its first read
/// raises, and `PoolByteStream.__aiter__`'s `except` closes the response unread (that read is
/// the await the cancellation takes, so the model adds no scheduling point of its own).
fn read_and_close(pool: &Pool, resp: &Response, task: &Task<'_>) {
    match task.resumed("body") {
        Ok(()) => finish_response(pool, resp, true),
        Err(_) => pool.close_cancelled_response(resp, task),
    }
}

fn run_peer_op(net: &Network, op: Op) {
    match op {
        Op::Settings { conn, max_streams } => net.send(
            conn,
            ServerFrame::Settings {
                max_streams: Some(max_streams),
            },
        ),
        Op::Respond {
            conn,
            stream,
            end_stream,
            body,
        } => net.plan(
            conn,
            stream,
            Plan::Respond {
                end_stream,
                body: body.unwrap_or(net.body_default()),
            },
        ),
        Op::Reset { conn, stream } => net.plan(conn, stream, Plan::Reset),
        Op::EndStream { conn, stream } => net.end_stream(conn, stream),
        Op::Goaway { conn, last_stream } => net.goaway(conn, last_stream),
        Op::Disconnect { conn } => net.disconnect(conn),
        _ => unreachable!("client operations are handled by run_op"),
    }
}

/// `async for chunk in response.aiter_stream()` (unless `read_body` is false), then
/// `PoolByteStream.aclose()`; a failure while reading closes the response and ends the request
/// with that error (`PoolByteStream.__aiter__`'s `except`).
pub(super) fn finish_response(pool: &Pool, resp: &Response, read_body: bool) {
    if !read_body {
        pool.close_response(resp, Outcome::Cancelled);
        return;
    }
    let outcome = match resp.conn.receive_response_body(resp.stream) {
        Ok(()) => Outcome::Response,
        Err(e) => outcome_of(e),
    };
    pool.close_response(resp, outcome);
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
