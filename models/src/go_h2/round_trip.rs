//! A request's life: `Transport.RoundTripOpt` (pool, retries), `ClientConn.roundTrip` (stream
//! allocation, HEADERS), `writeRequestBody` (DATA, trailers), then the response body's `Read`
//! and `Close` (flow-control refunds, RST_STREAM).
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f: `RoundTripOpt` 494-540,
//! `shouldRetryRequest`/`canRetryError` 558-605, `roundTrip` 1075-1287, `writeRequestBody`
//! 1397-1540, `awaitFlowControl` 1542-1567, `transportResponseBody.Read` 2253-2316 and `Close`
//! 2318-2351; at 95888ee7 `roundTrip` 1024-1205 (golang/go#32388: `mu` held from
//! `awaitOpenSlotForRequest` through `encodeHeaders`, `newStream` and the HEADERS flush),
//! `writeRequestBody` 1315-1460 (golang/go#48340: `encodeTrailers` under `mu`, the write under
//! `wmu`), `Read` 2164-2227 and `Close` 2229-2256 (writes with `mu` held).
//!
//! The body writer (`bodyWriter.scheduleBodyWrite`, 4e4d966f 2861-2873: `go s.fn()`) is its
//! own goroutine with `[config] body_goroutine = true`, as upstream: `roundTrip` then selects
//! over the response, the peer's reset, the body writer's result and the request's context
//! while the body is written, stops the body writer when a response or an error comes
//! (`abortRequestBodyWrite`, `cs.stopReqBody`) and waits for it (ff519b6c), and an early
//! response races with the body write (golang/go#20521). By default the body is written inline
//! in the requesting actor right after the HEADERS, where nothing can stop it, and `roundTrip`
//! sees a response that arrives meanwhile after it: one actor less for scenarios about other
//! things. Cancellation (`ctx.Done()` in `roundTrip`'s selects) is [`super::ctx`]'s.
//!
//! Abstractions: the retry backoff sleeps are not modelled (retries happen at once, at most 6
//! as upstream); `Expect: 100-continue` (the delayed body write) is not modelled; every
//! response is a 200, so only an error aborts the body write (`res.StatusCode > 299` never
//! holds).

use super::client_conn::{
    ClientConn, ClientStream, ReqErr, ResAndError, Selected, WriteState, CONN_FLOW, MAX_FRAME,
    STREAM_FLOW, STREAM_MIN_REFRESH,
};
use super::ctx::ReqCtx;
use super::encoder::{BufSlice, Held};
use super::hpack::Field;
use super::net::{ClientFrame, ErrCode};
use super::pool::Pool;
use crate::sync::{probe, CloseReason, Event, Outcome};
use std::sync::Arc;

/// A request as a scenario describes it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Request number.
    pub num: u32,
    /// `host:port` (the pool's key).
    pub host: String,
    /// Octets of the `x-big` request header (0: none).
    pub headers: u32,
    /// Request-body octets (0: no body).
    pub body: u32,
    /// Octets of the `x-trailer` trailer (0: no trailers).
    pub trailers: u32,
    /// Its context has a deadline that does not pass in the execution (watched, never
    /// cancelled); see [`super::ctx`].
    pub deadline: bool,
}

impl Request {
    fn filler(tag: &str, num: u32, len: u32) -> String {
        let unit = format!("{tag}{num}-");
        unit.chars().cycle().take(len as usize).collect()
    }

    /// The header list `encodeHeaders` writes (fixed order; Go iterates a map).
    pub fn header_fields(&self) -> Vec<Field> {
        let method = if self.body > 0 || self.trailers > 0 {
            "POST"
        } else {
            "GET"
        };
        let mut f: Vec<Field> = vec![
            (":authority".into(), self.host.clone()),
            (":method".into(), method.into()),
            (":path".into(), "/".into()),
            (":scheme".into(), "https".into()),
        ];
        if self.headers > 0 {
            f.push(("x-big".into(), Self::filler("h", self.num, self.headers)));
        }
        if self.trailers > 0 {
            f.push(("trailer".into(), "X-Trailer".into()));
        }
        f.push(("user-agent".into(), "Go-http-client/2.0".into()));
        f.push(("accept-encoding".into(), "gzip".into()));
        if self.body > 0 {
            f.push(("content-length".into(), self.body.to_string()));
        }
        f
    }

    /// The trailer list `encodeTrailers` writes.
    pub fn trailer_fields(&self) -> Vec<Field> {
        vec![(
            "x-trailer".into(),
            Self::filler("t", self.num, self.trailers),
        )]
    }

    fn has_body(&self) -> bool {
        self.body > 0 || self.trailers > 0
    }
}

/// `Transport.RoundTripOpt`: get a connection, run `roundTrip`, retry retryable errors (at
/// most 6 retries), read and close the response body; reports how the request ended. `ctx` is
/// the request's context (`None`: `context.Background()`).
pub fn round_trip_opt(pool: &Arc<Pool>, req: &Request, ctx: Option<&Arc<ReqCtx>>) {
    probe(Event::RequestStarted { req: req.num });
    let mut retry = 0;
    let outcome = loop {
        let result = pool
            .get_client_conn(req.num, &req.host)
            .and_then(|cc| round_trip(&cc, req, ctx).map(|r| (cc, r)));
        match result {
            Ok((cc, (cs, ended))) => {
                read_and_close_body(&cc, &cs, ended);
                break Outcome::Response;
            }
            Err(ReqErr::Canceled) => break Outcome::Cancelled,
            Err(e) if e.retryable() && retry < 6 => retry += 1,
            Err(e) if e.retryable() => break Outcome::RetryableError(e.describe()),
            Err(e) => break Outcome::Error(e.describe()),
        }
    };
    probe(Event::RequestFinished {
        req: req.num,
        outcome,
    });
}

/// `ClientConn.roundTrip`: open a stream, write HEADERS, start the body write, wait for the
/// response HEADERS. Returns the stream and whether the response already ended.
pub fn round_trip(
    cc: &Arc<ClientConn>,
    req: &Request,
    ctx: Option<&Arc<ReqCtx>>,
) -> Result<(Arc<ClientStream>, bool), ReqErr> {
    let (cs, written) = if cc.variant.writes_under_mu() {
        open_stream_under_mu(cc, req, ctx)?
    } else {
        open_stream(cc, req, ctx)?
    };
    if let Err(e) = written {
        cc.forget_stream_id(cs.id);
        // The deferred `if werr != nil { cc.Close() }`.
        let closed =
            ReqErr::ConnClosed("http2: client connection force closed via ClientConn.Close".into());
        cc.close_for_error(closed, CloseReason::Error);
        // 4e4d966f 1192-1193, TODO(dneil): "An error occurred while writing the headers. Should we return
        // an error indicating that this request can be retried?" It does not: not retryable.
        return Err(e);
    }
    let goroutine = req.has_body() && cc.body_goroutine;
    if goroutine {
        schedule_body_write(cc, &cs, req);
    } else if req.has_body() {
        // Inline: the body is written before the wait; a response already there is preferred
        // to its error (issue 16102).
        if let Err(e) = write_request_body(cc, &cs, req) {
            if let Some(re) = cs.try_response() {
                return handle_read_loop_response(cc, &cs, re, false);
            }
            cc.forget_stream_id(cs.id);
            return Err(e);
        }
    }
    await_response(cc, &cs, goroutine, ctx)
}

/// The HEADERS write's result for a new stream.
type Opened = (Arc<ClientStream>, Result<(), ReqErr>);

/// From 978cfadd (4e4d966f `roundTrip` 1096-1186): `reqHeaderMu` (a select with `ctx.Done()`:
/// a cancelled request returns its reservation, 1097-1106), then under `mu` the reservation is
/// returned (4e4d966f), a slot awaited and the stream allocated; `mu` is released, and
/// `encodeHeaders` and the HEADERS write run under `wmu` alone.
fn open_stream(
    cc: &Arc<ClientConn>,
    req: &Request,
    ctx: Option<&Arc<ReqCtx>>,
) -> Result<Opened, ReqErr> {
    let slot = match ctx {
        None => cc.req_header_mu.acquire(),
        Some(ctx) => match ctx.select_req_header_mu(cc, req.num) {
            Some(slot) => slot,
            None => {
                cc.decr_stream_reservations();
                return Err(ReqErr::Canceled);
            }
        },
    };
    let mut st = cc.mu.lock();
    if cc.variant.reserves() {
        st.streams_reserved = st.streams_reserved.saturating_sub(1); // decrStreamReservationsLocked
    }
    let mut st = cc.await_open_slot(st, ctx)?;
    let cs = cc.new_stream(&mut st, req.num, req.has_body());
    drop(st);
    let mut w = cc.wmu.lock();
    let slice = cc.encode(Held::WMU, cs.id, &req.header_fields());
    let written = write_new_headers(cc, &mut w, Held::WMU, &cs, &slice, req);
    drop(w);
    drop(slot);
    Ok((cs, written))
}

/// At 95888ee7 (`roundTrip` 1024-1100): `mu` from `awaitOpenSlotForRequest` on (a plain
/// `cc.mu.Lock()`: a cancelled request waiting for it does not return, golang/go#23559);
/// `encodeHeaders` under `mu` (1072) before `newStream` (1078); then `wmu` inside `mu` for the
/// HEADERS write and flush; `mu` is released after it.
fn open_stream_under_mu(
    cc: &Arc<ClientConn>,
    req: &Request,
    ctx: Option<&Arc<ReqCtx>>,
) -> Result<Opened, ReqErr> {
    let st = cc.mu.lock();
    let mut st = cc.await_open_slot(st, ctx)?;
    let stream_id = st.next_stream_id; // what newStream will allocate
    let slice = cc.encode(Held::MU, stream_id, &req.header_fields());
    let cs = cc.new_stream(&mut st, req.num, req.has_body());
    let mut w = cc.wmu.lock();
    let written = write_new_headers(cc, &mut w, Held::BOTH, &cs, &slice, req);
    drop(w);
    drop(st);
    Ok((cs, written))
}

/// `writeHeaders` for a new stream, split at `int(cc.maxFrameSize)` read with `wmu` held
/// (4e4d966f 1178; 95888ee7 1096, `mu` held too); on success its HEADERS are on the wire.
fn write_new_headers(
    cc: &ClientConn,
    w: &mut WriteState,
    held: Held,
    cs: &ClientStream,
    slice: &BufSlice,
    req: &Request,
) -> Result<(), ReqErr> {
    let end_stream = !req.has_body();
    let max_frame_size = cc.max_frame_size.load(held);
    cc.write_headers(w, held, (cs, end_stream), max_frame_size, slice)?;
    cs.headers_sent();
    probe(Event::HeadersSent {
        conn: cc.id,
        stream: cs.id,
    });
    Ok(())
}

/// `bodyWriter.scheduleBodyWrite()` (2861-2873): `go s.fn()`, which sends
/// `writeRequestBody`'s result on `bodyWriter.resc`.
fn schedule_body_write(cc: &Arc<ClientConn>, cs: &Arc<ClientStream>, req: &Request) {
    let (cc2, cs2, req2) = (cc.clone(), cs.clone(), req.clone());
    let name = format!("cc{}.writeRequestBody{}", cc.id, cs.id);
    cc.goroutines.go(&name, move || {
        cs2.send_body_res(write_request_body(&cc2, &cs2, &req2));
    });
}

/// `roundTrip`'s wait (4e4d966f 1255-1286): the response, the peer's reset, the body writer's
/// result while `writing` (a failure ends the request unless a response is already there,
/// issue 16102) or the request's cancellation.
fn await_response(
    cc: &ClientConn,
    cs: &Arc<ClientStream>,
    writing: bool,
    ctx: Option<&Arc<ReqCtx>>,
) -> Result<(Arc<ClientStream>, bool), ReqErr> {
    let mut body_written = !writing;
    if let Some(ctx) = ctx {
        ctx.watch_response(cs);
    }
    let ended = loop {
        match cs.select(!body_written, ctx.map(|c| &**c)) {
            Selected::Response(re) => break handle_read_loop_response(cc, cs, re, !body_written),
            Selected::PeerReset(e) => break Err(e), // processResetStream forgot the stream
            Selected::Cancelled => break handle_error(cc, cs, !body_written, ReqErr::Canceled),
            Selected::BodyWritten(r) => {
                body_written = true;
                if let Some(re) = cs.try_response() {
                    break handle_read_loop_response(cc, cs, re, false);
                }
                if let Err(e) = r {
                    cc.forget_stream_id(cs.id);
                    break Err(e);
                }
            }
        }
    };
    if let Some(ctx) = ctx {
        ctx.unwatch();
    }
    ended
}

/// `handleReadLoopResponse` (1218-1241): on an error, stop the body writer and wait for it
/// while it still `writing` (ff519b6c); then forget the stream. (Every modelled response is a
/// 200, so a response never stops the body write.)
fn handle_read_loop_response(
    cc: &ClientConn,
    cs: &Arc<ClientStream>,
    re: ResAndError,
    writing: bool,
) -> Result<(Arc<ClientStream>, bool), ReqErr> {
    match re {
        ResAndError::Response(ended) => Ok((cs.clone(), ended)),
        ResAndError::Err(e) => {
            if cc.body_goroutine {
                abort_request_body_write(cc, cs, ReqErr::StopReqBody);
                if writing {
                    let _ = cs.await_body_written();
                }
            }
            cc.forget_stream_id(cs.id);
            Err(e)
        }
    }
}

/// `handleError` (1243-1253): RST_STREAM(CANCEL) if the body is not being written, otherwise
/// the body writer is stopped (it writes the RST_STREAM) and awaited; then forget the stream.
fn handle_error(
    cc: &ClientConn,
    cs: &Arc<ClientStream>,
    writing: bool,
    err: ReqErr,
) -> Result<(Arc<ClientStream>, bool), ReqErr> {
    if writing {
        abort_request_body_write(cc, cs, ReqErr::StopReqBodyAndCancel);
        let _ = cs.await_body_written();
    } else {
        cc.write_stream_reset(cs.id, ErrCode::Cancel);
    }
    cc.forget_stream_id(cs.id);
    Err(err)
}

/// `abortRequestBodyWrite` (407-420): set `cs.stopReqBody` once and wake the body writer.
fn abort_request_body_write(cc: &ClientConn, cs: &ClientStream, err: ReqErr) {
    let st = cc.mu.lock();
    if cs.stop_req_body.get().is_none() {
        cs.stop_req_body.set(Some(err));
        cc.cond.notify_all();
    }
    drop(st);
}

/// `writeRequestBody` (1397-1540): DATA in chunks of at most 16 KiB under flow control, then
/// trailers; as a goroutine, its deferred `cs.stopReqBody = errStopReqBodyWrite` under `mu`
/// (1401-1416) tells a later `abortRequestBodyWrite` that it is done.
fn write_request_body(cc: &ClientConn, cs: &ClientStream, req: &Request) -> Result<(), ReqErr> {
    let r = write_body_frames(cc, cs, req);
    if cc.body_goroutine {
        let _st = cc.mu.lock();
        if cs.stop_req_body.get().is_none() {
            cs.stop_req_body.set(Some(ReqErr::StopReqBody));
        }
    }
    r
}

/// `writeRequestBody`'s loop: each chunk waits for flow control (stopped there by
/// `cs.stopReqBody`: errStopReqBodyWriteAndCancel resets the stream first), then DATA under
/// `wmu`; then the trailers.
fn write_body_frames(cc: &ClientConn, cs: &ClientStream, req: &Request) -> Result<(), ReqErr> {
    let has_trailers = req.trailers > 0;
    let trailer_frame_size = trailer_frame_size_before_body(cc, has_trailers);
    let mut remain = req.body;
    while remain > 0 {
        let take = match await_flow_control(cc, cs, remain) {
            Err(ReqErr::StopReqBodyAndCancel) => {
                cc.write_stream_reset(cs.id, ErrCode::Cancel);
                return Err(ReqErr::StopReqBodyAndCancel);
            }
            r => r?,
        };
        remain -= take;
        let end = remain == 0 && !has_trailers;
        let mut w = cc.wmu.lock();
        let frame = ClientFrame::Data {
            stream: cs.id,
            len: take,
            end_stream: end,
        };
        cc.write_frames(&mut w, vec![frame])?;
    }
    if has_trailers {
        write_trailers(cc, cs, req, trailer_frame_size)?;
    }
    Ok(())
}

/// `maxFrameSize := int(cc.maxFrameSize)` under `mu` before the body (4e4d966f 1424-1426,
/// 95888ee7 1342-1344; there since 04defd46, 2021, and at golang/net master), the size the
/// trailers are split with however long the body write took (4e4d966f 1528). Upstream also
/// sizes its scratch buffer with it; the model has none, so it takes the snapshot only for a
/// request with trailers. With our `trailers-frame-size` fix, and before 80e70a3f
/// (`go-22721`): `None`, the trailers read `cc.maxFrameSize` when they are written.
fn trailer_frame_size_before_body(cc: &ClientConn, has_trailers: bool) -> Option<u32> {
    if !has_trailers || cc.variant.reads_trailer_frame_size_at_write() {
        return None;
    }
    let _st = cc.mu.lock();
    Some(cc.max_frame_size.load(Held::MU))
}

/// The trailers: from 978cfadd `encodeTrailers` and the write under one `wmu` section
/// (4e4d966f 1512-1535); at 95888ee7 (1430-1453, golang/go#48340) encoded into `hbuf` under
/// `mu`, and the slice of `hbuf` written later under `wmu` alone. Split at `snapshot`, the
/// frame size read before the body, or (`None`: our fix, or before 80e70a3f `writeHeaders`'
/// own `int(cc.maxFrameSize)`) at `cc.maxFrameSize` read now with `wmu` held, which from
/// 978cfadd excludes `processSettings`, its writer, and before it does not (golang/go#22721).
fn write_trailers(
    cc: &ClientConn,
    cs: &ClientStream,
    req: &Request,
    snapshot: Option<u32>,
) -> Result<(), ReqErr> {
    let fields = req.trailer_fields();
    let frame_size = || snapshot.unwrap_or_else(|| cc.max_frame_size.load(Held::WMU));
    if cc.variant.writes_under_mu() {
        let slice = {
            let _st = cc.mu.lock();
            cc.encode(Held::MU, cs.id, &fields)
        };
        let mut w = cc.wmu.lock();
        return cc.write_headers(&mut w, Held::WMU, (cs, true), frame_size(), &slice);
    }
    let mut w = cc.wmu.lock();
    let slice = cc.encode(Held::WMU, cs.id, &fields);
    cc.write_headers(&mut w, Held::WMU, (cs, true), frame_size(), &slice)
}

/// `awaitFlowControl` (1542-1567): wait for send window, take up to `max` (and at most a
/// frame); fails on a closed connection, a `stopReqBody`, and `checkResetOrDone` (389-400: the
/// peer's reset, or `errStreamClosed` once the stream was forgotten).
fn await_flow_control(cc: &ClientConn, cs: &ClientStream, max: u32) -> Result<u32, ReqErr> {
    let mut st = cc.mu.lock();
    loop {
        if st.life.is_closed() {
            return Err(ReqErr::ConnClosed("http2: client conn is closed".into()));
        }
        if let Some(e) = cs.stop_req_body.get() {
            return Err(e);
        }
        if let Some(e) = cs.reset.get() {
            return Err(e);
        }
        if !st.streams.contains_key(&cs.id) {
            return Err(ReqErr::StreamClosed);
        }
        let available = cs.flow.get().min(st.flow);
        if available > 0 {
            let take = available.min(i64::from(max)).min(i64::from(MAX_FRAME));
            cs.flow.with(|f| *f -= take);
            st.flow -= take;
            return Ok(u32::try_from(take).expect("at most a frame"));
        }
        st = cc.cond.wait(st);
    }
}

/// Read the response body to its end (`transportResponseBody.Read` until EOF), then `Close`.
fn read_and_close_body(cc: &ClientConn, cs: &ClientStream, ended: bool) {
    if !ended {
        loop {
            let (n, end) = cs.pipe_read();
            if n > 0 {
                refresh_flow(cc, cs, n);
            }
            if end.is_some() {
                break;
            }
        }
    }
    close_body(cc, cs);
}

/// The flow-control part of `transportResponseBody.Read` after `n` octets were read
/// (4e4d966f 2282-2313): under `mu` the connection window, then the stream window counting
/// what is still buffered (`cs.bufPipe.Len()`, read under `mu`); the WINDOW_UPDATEs after `mu`
/// is released (from 978cfadd) or with it held (95888ee7 2193-2225).
fn refresh_flow(cc: &ClientConn, cs: &ClientStream, _n: i64) {
    let mut st = cc.mu.lock();
    let mut frames = Vec::new();
    let available = st.inflow;
    if available < CONN_FLOW / 2 {
        let add = CONN_FLOW - available;
        st.inflow += add;
        frames.push(ClientFrame::WindowUpdate {
            stream: 0,
            inc: add,
        });
    }
    let (buffered, _) = cs.pipe_state();
    let v = cs.inflow.get() + buffered;
    if v < STREAM_FLOW - STREAM_MIN_REFRESH {
        let add = STREAM_FLOW - v;
        cs.inflow.with(|f| *f += add);
        frames.push(ClientFrame::WindowUpdate {
            stream: cs.id,
            inc: add,
        });
    }
    cc.write_after_mu(st, frames);
}

/// `transportResponseBody.Close` (4e4d966f 2318-2351; 95888ee7 2229-2256 writes with `mu`
/// held): RST_STREAM if the server did not end the stream, refund unread data, forget the
/// stream.
fn close_body(cc: &ClientConn, cs: &ClientStream) {
    let (unread, server_ended) = cs.pipe_state();
    if unread > 0 || !server_ended {
        let mut st = cc.mu.lock();
        if !server_ended {
            cs.did_reset.set(true);
        }
        if unread > 0 {
            st.inflow += unread;
        }
        let mut frames = Vec::new();
        if !server_ended {
            frames.push(ClientFrame::RstStream {
                stream: cs.id,
                code: ErrCode::Cancel,
            });
        }
        if unread > 0 {
            frames.push(ClientFrame::WindowUpdate {
                stream: 0,
                inc: unread,
            });
        }
        cc.write_after_mu(st, frames);
    }
    cs.pipe_break();
    cc.forget_stream_id(cs.id);
}

#[cfg(test)]
#[path = "round_trip_tests.rs"]
pub(super) mod tests;
