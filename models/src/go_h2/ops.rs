//! The go-h2 model's self-description (variants, operations, configuration) and the scenario
//! operation vocabulary, parsed into [`Op`] and checked before anything runs.
//!
//! Any actor may use any operation: a client actor sends requests, a peer actor plays the
//! servers (its frames' timing is then a scheduling choice), and the `await-*` operations order
//! actors the way the seed's tests do (`conn.wait()`). Connections are numbered 1, 2... in dial
//! order; a peer operation on a connection that does not exist yet waits for it.

use super::net::{Settings, MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE};
use super::round_trip::{round_trip_opt, Request};
use super::World;
use crate::cancel::check_target;
use crate::model::{
    param, ActorSpec, Args, OpInfo, OpSpec, ParamInfo, ParamKind, ScenarioSpec, SpecError,
};
use crate::sync::yield_now;
use crate::typed::{parse_all, unknown_op, Ops};

const CONN: ParamInfo = param(
    "conn",
    ParamKind::Int,
    "the connection (1, 2... in dial order; default 1); waits until it exists",
)
.range(0, 1000);
const STREAM: ParamInfo = param(
    "stream",
    ParamKind::Int,
    "stream id (1, 3, 5...); 0 (default): the oldest one that qualifies, waiting for one",
)
.range(0, 2_147_483_647);

const MAX_FRAME_SIZE: ParamInfo = param(
    "max_frame_size",
    ParamKind::Int,
    "SETTINGS_MAX_FRAME_SIZE, 16384 to 16777215: header blocks above it are split into \
     CONTINUATION frames (default -1: not sent; the protocol's 16384 holds)",
)
.range(-1, 16_777_215);

const OPS: &[OpInfo] = &[
    OpInfo {
        name: "request",
        doc: "Transport.RoundTrip: get a connection from the pool (dialing if none can take it), \
              open a stream, write HEADERS, the body and trailers, wait for the response, read \
              its body and close it; retryable errors are retried (at most 6 times)",
        params: &[
            param("host", ParamKind::Str, "the host (pool key; default \"a\")"),
            param(
                "headers",
                ParamKind::Int,
                "octets of an extra `x-big` request header (default 0: none)",
            )
            .range(0, 1_048_576),
            param(
                "body",
                ParamKind::Int,
                "request-body octets, written as DATA frames of at most 16 KiB (default 0)",
            )
            .range(0, 16_777_216),
            param(
                "trailers",
                ParamKind::Int,
                "octets of an `x-trailer` trailer (default 0: no trailers)",
            )
            .range(0, 1_048_576),
            param(
                "deadline",
                ParamKind::Bool,
                "its context has a deadline that does not pass in the execution: watched by the \
                 transport, never cancelled (default false: context.Background(), unless a \
                 `cancel` targets the actor)",
            ),
        ],
    },
    OpInfo {
        name: "cancel",
        doc: "cancel the context of `target`'s request: the one it runs now, or its next one; \
              the request sees it where upstream selects on ctx.Done() (waiting for \
              reqHeaderMu, for a stream slot, for the response), not while it waits for a Go \
              mutex",
        params: &[param(
            "target",
            ParamKind::Str,
            "the actor whose request is cancelled",
        )],
    },
    OpInfo {
        name: "settings",
        doc: "the peer sends SETTINGS on `conn` (the client applies it in its read loop and \
              answers with SETTINGS ACK); limits are enforced by the peer once acknowledged",
        params: &[
            CONN,
            param(
                "max_streams",
                ParamKind::Int,
                "SETTINGS_MAX_CONCURRENT_STREAMS (default -1: not sent)",
            )
            .range(-1, 2_147_483_647),
            param(
                "header_table_size",
                ParamKind::Int,
                "SETTINGS_HEADER_TABLE_SIZE (default -1: not sent)",
            )
            .range(-1, 2_147_483_647),
            MAX_FRAME_SIZE,
        ],
    },
    OpInfo {
        name: "goaway",
        doc: "the peer sends GOAWAY on `conn`; it ignores streams above the last-stream-id and \
              (with `close`) closes the connection once the streams it processes are done",
        params: &[
            CONN,
            param(
                "last_stream",
                ParamKind::Int,
                "last-stream-id (default -1: the highest stream the peer has received)",
            )
            .range(-1, 2_147_483_647),
            param(
                "close",
                ParamKind::Bool,
                "close the connection when the remaining streams are done (default true)",
            ),
        ],
    },
    OpInfo {
        name: "respond",
        doc: "the peer answers a complete request: response HEADERS, then `body` octets of DATA \
              (waits until such a request exists)",
        params: &[
            param(
                "conn",
                ParamKind::Int,
                "the connection (default 0: the first with a request to answer)",
            )
            .range(0, 1000),
            STREAM,
            param("body", ParamKind::Int, "response-body octets (default 0)").range(0, 16_777_216),
            param(
                "end",
                ParamKind::Bool,
                "END_STREAM on the last frame (default true); false leaves the response open \
                 for `data`",
            ),
            param(
                "early",
                ParamKind::Bool,
                "answer a request whose body is still arriving, once its HEADERS came (default \
                 false: only complete requests)",
            ),
        ],
    },
    OpInfo {
        name: "data",
        doc: "the peer sends one DATA frame on a response it started, waiting for one and for \
              the stream and connection windows to allow `len + pad` octets",
        params: &[
            CONN,
            STREAM,
            param("len", ParamKind::Int, "payload octets (default 1024)").range(0, 16_777_216),
            param(
                "pad",
                ParamKind::Int,
                "padding octets: flow-controlled, refunded by the client at once (default 0)",
            )
            .range(0, 16_777_216),
            param("end", ParamKind::Bool, "END_STREAM (default false)"),
        ],
    },
    OpInfo {
        name: "refuse",
        doc: "the peer resets an unanswered stream with RST_STREAM(REFUSED_STREAM) (waits for one)",
        params: &[CONN, STREAM],
    },
    OpInfo {
        name: "read-body",
        doc: "the handler of a stream starts reading its request body (config `read_bodies = \
              false`): the peer refunds what has arrived with WINDOW_UPDATE, and the rest as it \
              arrives (waits for a stream whose handler does not read yet)",
        params: &[CONN, STREAM],
    },
    OpInfo {
        name: "close",
        doc: "the peer closes the connection (the client's read loop sees EOF)",
        params: &[CONN],
    },
    OpInfo {
        name: "stop-reading",
        doc: "the peer stops reading `conn`: the client's writes fill `net_buffer` octets, then \
              stall (the seed test's blockingWriteConn)",
        params: &[CONN],
    },
    OpInfo {
        name: "resume-reading",
        doc: "the peer reads `conn` again: buffered frames are read, stalled writes continue",
        params: &[CONN],
    },
    OpInfo {
        name: "await-stall",
        doc: "wait until a write on `conn` is stalled (the seed test's `conn.wait()`)",
        params: &[CONN],
    },
    OpInfo {
        name: "await-settings",
        doc: "wait until the client has written `acks` SETTINGS ACKs on `conn` (the peer's \
              initial SETTINGS is the first)",
        params: &[
            CONN,
            param(
                "acks",
                ParamKind::Int,
                "ACKs to wait for (default 1: the initial SETTINGS)",
            )
            .range(0, 1000),
        ],
    },
    OpInfo {
        name: "await",
        doc: "one scheduling point that does nothing (shifts an actor's timing)",
        params: &[],
    },
];

/// The model's configuration keys.
pub(super) const CONFIG: &[ParamInfo] = &[
    param(
        "max_streams",
        ParamKind::Int,
        "MAX_CONCURRENT_STREAMS in every peer's initial SETTINGS (default -1: not sent)",
    )
    .range(-1, 2_147_483_647),
    param(
        "header_table_size",
        ParamKind::Int,
        "HEADER_TABLE_SIZE in every peer's initial SETTINGS (default -1: not sent)",
    )
    .range(-1, 2_147_483_647),
    MAX_FRAME_SIZE,
    param(
        "auto_respond",
        ParamKind::Bool,
        "peers answer every complete request at once (default true); false: only `respond`",
    ),
    param(
        "response_body",
        ParamKind::Int,
        "body octets of automatic responses (default 0: HEADERS with END_STREAM)",
    )
    .range(0, 16_777_216),
    param(
        "read_bodies",
        ParamKind::Bool,
        "the peers' handlers read each request body as it arrives, refunding its flow control \
         at once (default true); false: only from the stream's `read-body` on",
    ),
    param(
        "conn_window",
        ParamKind::Int,
        "the connection receive window every peer opens with a WINDOW_UPDATE after its initial \
         SETTINGS, as Go's server does (`MaxUploadBufferPerConnection`); stream windows stay \
         at 65535 (default 65535: no WINDOW_UPDATE)",
    )
    .range(65_535, 2_147_483_647),
    param(
        "net_buffer",
        ParamKind::Int,
        "octets a connection buffers while its peer is not reading (default 1024)",
    )
    .range(0, 16_777_216),
    param(
        "strict_max_streams",
        ParamKind::Bool,
        "Transport.StrictMaxConcurrentStreams: the pool hands a full connection to a request, \
         which waits in awaitOpenSlotForRequest for a stream slot instead of dialing (default \
         false: a full connection is skipped and another dialed)",
    ),
    param(
        "body_goroutine",
        ParamKind::Bool,
        "run writeRequestBody in its own goroutine, as upstream (default false: inline in the \
         request, right after its HEADERS, one actor less)",
    ),
];

/// One parsed operation.
#[derive(Clone, Debug)]
pub enum Op {
    /// A request.
    Request(Request),
    /// SETTINGS.
    Settings(u32, Settings),
    /// GOAWAY.
    Goaway(u32, Option<u32>, bool),
    /// A response (conn, stream, body, end, early).
    Respond(Option<u32>, Option<u32>, u32, bool, bool),
    /// Cancel an actor's request context.
    Cancel(String),
    /// A DATA frame.
    Data(u32, Option<u32>, u32, u32, bool),
    /// RST_STREAM(REFUSED_STREAM).
    Refuse(u32, Option<u32>),
    /// A handler starts reading its request body.
    ReadBody(u32, Option<u32>),
    /// Peer close.
    Close(u32),
    /// Stop reading.
    StopReading(u32),
    /// Resume reading.
    ResumeReading(u32),
    /// Wait for a stalled write.
    AwaitStall(u32),
    /// Wait for SETTINGS ACKs.
    AwaitSettings(u32, u32),
    /// One yield.
    Await,
}

fn opt(v: i64) -> Option<u32> {
    u32::try_from(v).ok().filter(|_| v >= 0)
}

fn nonzero(v: i64) -> Option<u32> {
    u32::try_from(v).ok().filter(|v| *v > 0)
}

impl Ops for Op {
    const INFO: &'static [OpInfo] = OPS;

    /// Parse an operation (names and types were checked by the harness); a request's `num` is
    /// set when it runs.
    fn parse(op: &OpSpec, _config: &Args) -> Result<Op, String> {
        let a = &op.args;
        let conn = a.u32("conn", 1);
        Ok(match op.name.as_str() {
            "request" => Op::Request(Request {
                num: 0,
                host: a.str("host", "a").to_owned(),
                headers: a.u32("headers", 0),
                body: a.u32("body", 0),
                trailers: a.u32("trailers", 0),
                deadline: a.bool("deadline", false),
            }),
            "cancel" => Op::Cancel(a.str("target", "").to_owned()),
            "settings" => Op::Settings(
                conn,
                Settings {
                    max_streams: opt(a.int("max_streams", -1)),
                    header_table_size: opt(a.int("header_table_size", -1)),
                    max_frame_size: opt(a.int("max_frame_size", -1)),
                },
            ),
            "goaway" => Op::Goaway(conn, opt(a.int("last_stream", -1)), a.bool("close", true)),
            "respond" => Op::Respond(
                nonzero(a.int("conn", 0)),
                nonzero(a.int("stream", 0)),
                a.u32("body", 0),
                a.bool("end", true),
                a.bool("early", false),
            ),
            "data" => Op::Data(
                conn,
                nonzero(a.int("stream", 0)),
                a.u32("len", 1024),
                a.u32("pad", 0),
                a.bool("end", false),
            ),
            "refuse" => Op::Refuse(conn, nonzero(a.int("stream", 0))),
            "read-body" => Op::ReadBody(conn, nonzero(a.int("stream", 0))),
            "close" => Op::Close(conn),
            "stop-reading" => Op::StopReading(conn),
            "resume-reading" => Op::ResumeReading(conn),
            "await-stall" => Op::AwaitStall(conn),
            "await-settings" => Op::AwaitSettings(conn, a.u32("acks", 1)),
            "await" => Op::Await,
            other => return Err(unknown_op::<Op>(other)),
        })
    }
}

/// Checks beyond names and types.
pub(super) fn check(spec: &ScenarioSpec) -> Result<(), SpecError> {
    parse_all::<Op>(spec)?;
    check_max_frame_size(spec.config.int("max_frame_size", -1))
        .map_err(|e| SpecError::config("max_frame_size", e))?;
    for (a, actor) in spec.actors.iter().enumerate() {
        check_actor(spec, a, actor)?;
    }
    Ok(())
}

fn check_actor(spec: &ScenarioSpec, a: usize, actor: &ActorSpec) -> Result<(), SpecError> {
    for (o, op) in actor.ops.iter().enumerate() {
        let err = |message: String| SpecError::op(a, o, message);
        if op.name == "cancel" {
            check_target(spec, op.args.str("target", "")).map_err(err)?;
        }
        check_max_frame_size(op.args.int("max_frame_size", -1)).map_err(err)?;
        for (name, value) in &op.args.0 {
            let crate::model::Value::Int(v) = value else {
                continue;
            };
            let ok = match name.as_str() {
                "conn" => *v >= 1 || (op.name == "respond" && *v == 0),
                "max_streams" | "header_table_size" | "last_stream" | "max_frame_size" => *v >= -1,
                _ => *v >= 0,
            };
            if !ok {
                return Err(err(format!(
                    "`{name} = {v}` is out of range for `{}` (connections count from 1; sizes \
                     and ids are not negative; -1 means \"not sent\" or \"default\" where \
                     documented)",
                    op.name
                )));
            }
        }
    }
    Ok(())
}

/// SETTINGS_MAX_FRAME_SIZE is -1 (not sent) or within the protocol's bounds (RFC 9113 section
/// 6.5.2: a value outside them is a PROTOCOL_ERROR).
fn check_max_frame_size(v: i64) -> Result<(), String> {
    let bounds = i64::from(MIN_MAX_FRAME_SIZE)..=i64::from(MAX_MAX_FRAME_SIZE);
    if v == -1 || bounds.contains(&v) {
        return Ok(());
    }
    Err(format!(
        "`max_frame_size = {v}` is outside SETTINGS_MAX_FRAME_SIZE's bounds {MIN_MAX_FRAME_SIZE} \
         to {MAX_MAX_FRAME_SIZE} (RFC 9113 section 6.5.2; -1: not sent)"
    ))
}

/// Run one operation of `actor`; `req` numbers a request.
pub(super) fn run_op(w: &World, op: Op, actor: &str, req: u32) {
    let (pool, net) = (&w.pool, &*w.net);
    match op {
        Op::Request(request) => {
            let ctx = w.contexts.for_request(actor, req, request.deadline);
            let request = Request {
                num: req,
                ..request
            };
            round_trip_opt(pool, &request, ctx.as_ref());
            if ctx.is_some() {
                w.contexts.finished(actor);
            }
        }
        Op::Cancel(target) => w.contexts.cancel(&target),
        Op::Settings(conn, settings) => net.peer_op(conn, |_| true, |p| p.settings(settings)),
        Op::Goaway(conn, last, close) => net.peer_op(conn, |_| true, |p| p.goaway(last, close)),
        Op::Respond(conn, stream, body, end, early) => {
            let ready = move |w: &super::net::Upstream| w.peer.pending(stream, early).is_some();
            let act = move |p: &mut super::peer::Peer| {
                let s = p.pending(stream, early).expect("ready");
                p.respond_to(s, body, end);
            };
            match conn {
                Some(c) => net.peer_op(c, ready, act),
                None => net.peer_op_any(ready, act),
            }
        }
        Op::Data(conn, stream, len, pad, end) => net.peer_op(
            conn,
            move |w| {
                w.peer
                    .open_response(stream)
                    .is_some_and(|s| w.peer.can_send(s, len + pad))
            },
            move |p| {
                let s = p.open_response(stream).expect("ready");
                p.data(s, len, pad, end);
            },
        ),
        Op::Refuse(conn, stream) => net.peer_op(
            conn,
            move |w| w.peer.unanswered(stream).is_some(),
            move |p| {
                let s = p.unanswered(stream).expect("ready");
                p.refuse(s);
            },
        ),
        Op::ReadBody(conn, stream) => net.peer_op(
            conn,
            move |w| w.peer.unread(stream).is_some(),
            move |p| {
                let s = p.unread(stream).expect("ready");
                p.read_body(s);
            },
        ),
        Op::Close(conn) => net.peer_op(conn, |_| true, |p| p.close()),
        Op::StopReading(conn) => net.stop_reading(conn),
        Op::ResumeReading(conn) => net.resume_reading(conn),
        Op::AwaitStall(conn) => net.await_stall(conn),
        Op::AwaitSettings(conn, acks) => net.await_settings(conn, acks),
        Op::Await => yield_now("await"),
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
