//! The connection's read loop (`clientConnReadLoop`), one actor per connection as upstream runs
//! one goroutine: it reads the peer's frames in order and processes each.
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f: `readLoop` 1858-1868, `cleanup`
//! 1890-1931, `run` 1958-2038, `processHeaders` 2040-2107, `processData` 2353-2454,
//! `processGoAway` 2489-2502 with `setGoAway` 761-785, `processSettings` 2504-2585,
//! `processWindowUpdate` 2587-2606, `processResetStream` 2608-2641; at 95888ee7
//! (`processSettings` 2401-2470 takes `mu`, then `wmu` for the ACK and returns its error; the
//! padding refund in `processData` 2258-2384 is written with `mu` held; `cleanup` 1805-1840
//! fails the streams under `mu`); at 978cfadd for go-48491 (the stream refund `cs.inflow.add`
//! after `mu` is released, 2371-2386 of that commit); 76eb614f's `closeWhenIdle` for a
//! do-not-reuse connection; 8dab9293's `setGoAway` loop; 0e478a2a's table size.
//!
//! Abstractions: response HEADERS carry no header block (the client's response decoding is not
//! under test); a response is HEADERS then DATA; PING, PUSH_PROMISE and response trailers are
//! not modelled; a connection error ends the loop without writing GOAWAY; the peer never sends
//! a frame before its SETTINGS, DATA on a stream never opened, or an unexpected SETTINGS ACK
//! (upstream's connection errors for those are not modelled).

use super::client_conn::{ClientConn, ConnState, PipeEnd, ReqErr, ResAndError};
use super::encoder::Held;
use super::net::{ClientFrame, ErrCode, PeerFrame, Read, Settings};
use super::pool::Pool;
use crate::sync::{probe, yield_now, CloseReason, Event};
use std::sync::Arc;

/// `clientConnReadLoop`'s own state (4e4d966f 1852-1855; `run` 1958-2038).
#[derive(Default)]
struct ReadLoop {
    /// `rl.closeWhenIdle` (76eb614f: set for a do-not-reuse connection gone idle).
    close_when_idle: bool,
    /// `gotReply`: a response HEADERS was seen.
    got_reply: bool,
}

/// `readLoop` + `run` (1858-1868, 1958-2038): read the peer's frames in order until the
/// connection ends, then `cleanup`. After each frame that may leave the connection idle,
/// `closeIfIdle` when `closeWhenIdle` (2034-2036). Ends without cleanup when the execution's
/// servers are torn down ([`Read::TornDown`]): what the client does after its last request is
/// not part of the execution.
pub fn read_loop(cc: Arc<ClientConn>, pool: Arc<Pool>) {
    let mut rl = ReadLoop::default();
    let err = loop {
        let frame = match cc.tconn.read() {
            Read::Frame(f) => f,
            Read::Eof => break None,
            Read::TornDown => return,
        };
        let maybe_idle = matches!(
            frame,
            PeerFrame::Headers { .. }
                | PeerFrame::Data { .. }
                | PeerFrame::GoAway { .. }
                | PeerFrame::RstStream { .. }
        );
        rl.got_reply |= matches!(frame, PeerFrame::Headers { .. });
        if let Err(e) = process(&cc, &pool, &mut rl, frame) {
            break Some(e);
        }
        if rl.close_when_idle && rl.got_reply && maybe_idle {
            cc.close_if_idle(CloseReason::Terminated);
        }
    };
    cleanup(&cc, &pool, err);
}

fn process(cc: &ClientConn, pool: &Pool, rl: &mut ReadLoop, f: PeerFrame) -> Result<(), ReqErr> {
    match f {
        PeerFrame::Settings(settings) => process_settings(cc, settings),
        PeerFrame::SettingsAck => {
            process_settings_ack(cc);
            Ok(())
        }
        PeerFrame::Headers { stream, end_stream } => {
            process_headers(cc, stream, end_stream);
            Ok(())
        }
        PeerFrame::Data {
            stream,
            len,
            pad,
            end_stream,
            peer_windows,
        } => process_data(cc, rl, stream, (len, pad), end_stream, peer_windows),
        PeerFrame::GoAway { last } => {
            // `processGoAway` (2489-2502).
            pool.mark_dead(cc);
            set_go_away(cc, last);
            Ok(())
        }
        PeerFrame::RstStream { stream, code } => {
            process_reset_stream(cc, rl, stream, code);
            Ok(())
        }
        PeerFrame::WindowUpdate { stream, inc } => {
            process_window_update(cc, stream, inc);
            Ok(())
        }
    }
}

/// `processSettings` for a SETTINGS frame. From 978cfadd (4e4d966f 2504-2519): `wmu`, then
/// `mu` inside `processSettingsNoWrite` (2521-2585), then the ACK with `wmu` still held; a
/// failed ACK write is ignored (the sticky `werr` fails later writes). At 95888ee7
/// (2401-2470): `mu`, then `wmu` inside it for the ACK, and `return cc.werr` ends the read
/// loop when that write failed.
fn process_settings(cc: &ClientConn, settings: Settings) -> Result<(), ReqErr> {
    if cc.variant.writes_under_mu() {
        let mut st = cc.mu.lock();
        apply_settings(cc, &mut st, Held::MU, settings);
        let mut w = cc.wmu.lock();
        let r = cc.write_frames(&mut w, vec![ClientFrame::SettingsAck]);
        drop(w);
        drop(st);
        return r;
    }
    let mut w = cc.wmu.lock();
    {
        let mut st = cc.mu.lock();
        apply_settings(cc, &mut st, Held::BOTH, settings);
    }
    let _ = cc.write_frames(&mut w, vec![ClientFrame::SettingsAck]);
    Ok(())
}

/// `processSettings` for the peer's SETTINGS ACK: `wantSettingsAck = false` under `mu`, with
/// `wmu` taken first from 978cfadd ("Acquiring wmu when f.IsAck() is unnecessary, but
/// convenient and mostly harmless", 2506-2509), so the read loop waits behind a stalled writer.
/// (An unexpected ACK, a connection error upstream, never comes from the model's peer.)
fn process_settings_ack(cc: &ClientConn) {
    let w = (!cc.variant.writes_under_mu()).then(|| cc.wmu.lock());
    cc.mu.lock().want_settings_ack = false;
    drop(w);
}

/// `processSettingsNoWrite`'s body (requires `mu`, and `wmu` after 978cfadd; `held` says
/// which): `SettingMaxFrameSize` (4e4d966f 2537-2538), `SettingMaxConcurrentStreams`,
/// `SettingHeaderTableSize` (0e478a2a).
fn apply_settings(cc: &ClientConn, st: &mut ConnState, held: Held, settings: Settings) {
    let Settings {
        max_streams,
        header_table_size,
        max_frame_size,
    } = settings;
    if let Some(size) = max_frame_size {
        cc.max_frame_size.store(held, size);
    }
    if let Some(max) = max_streams {
        st.max_concurrent_streams = max;
    }
    if let Some(size) = header_table_size {
        if cc.variant.applies_header_table_size() {
            // 0e478a2a: capped at MaxEncoderHeaderTableSize (default 4096).
            cc.hpack.set_max_dynamic_table_size(held, size.min(4096));
        }
    }
    if !st.seen_settings {
        if max_streams.is_none() {
            st.max_concurrent_streams = super::client_conn::DEFAULT_MAX_CONCURRENT_STREAMS;
        }
        st.seen_settings = true;
    }
    probe(Event::SettingsApplied {
        conn: cc.id,
        max_streams: Some(st.max_concurrent_streams),
        header_table_size,
    });
}

/// `processHeaders` (2040-2107): the response HEADERS go to `roundTrip` on `cs.resc`. Before
/// 1087133b (golang/go#20521, reverted by `fixed-without=forget-after-response`) the first line was
/// `cs := cc.streamByID(f.StreamID, f.StreamEnded())`: an ended stream was forgotten before its
/// response was handed over, so the body writer's `errStreamClosed` could reach `roundTrip`
/// first.
fn process_headers(cc: &ClientConn, stream: u32, end_stream: bool) {
    let forget_first = end_stream && !cc.variant.forgets_after_response();
    let Some(cs) = cc.stream_by_id(stream, forget_first) else {
        return; // a cancelled request's response
    };
    if forget_first {
        cs.pipe_close(PipeEnd::Eof);
        cs.send_res(ResAndError::Response(true));
        return;
    }
    if end_stream && !cs.has_body {
        cc.forget_stream_id(stream); // issue 22413: close before handing the response over
    }
    if end_stream {
        cs.pipe_close(PipeEnd::Eof);
    }
    cs.send_res(ResAndError::Response(end_stream));
    if end_stream && cs.has_body {
        cc.forget_stream_id(stream); // issue 20521: deferred until after the response
    }
}

/// `processData` (4e4d966f 2353-2454; 95888ee7 2258-2384; 978cfadd 2304-2395): flow control,
/// padding refund, hand the data to the body pipe. `data` is (payload, padding) octets;
/// `peer_windows` the peer's (ghost) send windows for the stream and the connection.
fn process_data(
    cc: &ClientConn,
    rl: &mut ReadLoop,
    stream: u32,
    (len, pad): (u32, u32),
    end_stream: bool,
    (peer_window, peer_conn_window): (i64, i64),
) -> Result<(), ReqErr> {
    let length = i64::from(len + pad);
    let cs = cc.stream_by_id(stream, end_stream);
    if end_stream && cc.variant.closes_do_not_reuse_when_idle() && cc.is_do_not_reuse_and_idle() {
        rl.close_when_idle = true; // 76eb614f
    }
    let Some(cs) = cs else {
        refund_unknown_stream(cc, length);
        return Ok(());
    };
    let mut st = cc.mu.lock();
    let available = cs.inflow.get();
    probe(Event::StreamFlowWindow {
        conn: cc.id,
        stream,
        client: available,
        peer: peer_window,
        conn_client: st.inflow,
        conn_peer: peer_conn_window,
    });
    if available < length {
        return Err(ReqErr::ConnClosed(format!(
            "FLOW_CONTROL_ERROR: {length} octets of DATA on stream {stream} with a window of \
             {available}"
        )));
    }
    cs.inflow.with(|f| *f -= length);
    st.inflow -= length;
    let did_reset = cs.did_reset.get();
    let refund = i64::from(pad) + if did_reset { i64::from(len) } else { 0 };
    let mut frames = Vec::new();
    if refund > 0 {
        st.inflow += refund;
        frames.push(ClientFrame::WindowUpdate {
            stream: 0,
            inc: refund,
        });
        if !did_reset {
            if !cc.variant.refund_outside_mu() {
                cs.inflow.with(|f| *f += refund); // cf34111c (and before 978cfadd): under `mu`
            }
            frames.push(ClientFrame::WindowUpdate {
                stream,
                inc: refund,
            });
        }
    }
    if cc.variant.refund_outside_mu() && refund > 0 && !did_reset {
        drop(st);
        let mut w = cc.wmu.lock();
        racy_inflow_add(&cs.inflow, refund);
        let _ = cc.write_frames(&mut w, frames);
    } else {
        cc.write_after_mu(st, frames);
    }
    if len > 0 && !did_reset {
        cs.pipe_write(len);
    }
    if end_stream {
        cs.pipe_close(PipeEnd::Eof);
    }
    Ok(())
}

/// DATA on a stream the client no longer has (a cancelled or finished request): return the
/// connection flow control, `cc.inflow.add` under `mu`, then the WINDOW_UPDATE under `wmu`
/// alone, in every modelled commit (95888ee7 2278-2285, 4e4d966f 2378-2387).
fn refund_unknown_stream(cc: &ClientConn, length: i64) {
    if length == 0 {
        return;
    }
    cc.mu.lock().inflow += length;
    let mut w = cc.wmu.lock();
    let _ = cc.write_frames(
        &mut w,
        vec![ClientFrame::WindowUpdate {
            stream: 0,
            inc: length,
        }],
    );
}

/// golang/go#48491: `cs.inflow.add(refund)` with only `wmu` held: a read, a scheduling point,
/// a write, racing with `transportResponseBody.Read`'s update under `mu`.
fn racy_inflow_add(inflow: &crate::sync::Plain<i64>, refund: i64) {
    let n = inflow.get();
    yield_now("cs.inflow.add without cc.mu");
    inflow.set(n + refund);
}

/// `setGoAway` (761-785): record the GOAWAY; fail the streams above its last-stream-id
/// (8dab9293). With our `goaway-idle-close` fix, an idle connection is closed at once.
fn set_go_away(cc: &ClientConn, last: u32) {
    let mut st = cc.mu.lock();
    st.go_away = Some(last);
    probe(Event::GoawayReceived {
        conn: cc.id,
        last_stream: last,
    });
    if cc.variant.goaway_fails_streams() {
        for (_, cs) in st.streams.range(last + 1..) {
            cs.send_res(ResAndError::Err(ReqErr::GotGoAway));
        }
    }
    let close = cc.variant.closes_idle_on_goaway() && ClientConn::goaway_idle(&mut st);
    drop(st);
    if close {
        cc.close_conn(CloseReason::Terminated);
    }
}

/// `processResetStream` (2608-2641), with 76eb614f's `closeWhenIdle` for a do-not-reuse
/// connection.
fn process_reset_stream(cc: &ClientConn, rl: &mut ReadLoop, stream: u32, code: ErrCode) {
    let Some(cs) = cc.stream_by_id(stream, true) else {
        return;
    };
    let close_idle = cc.variant.closes_do_not_reuse_when_idle();
    if close_idle && cc.is_do_not_reuse_and_idle() {
        rl.close_when_idle = true;
    }
    if code == ErrCode::Protocol {
        cc.mu.lock().do_not_reuse = true; // SetDoNotReuse; errFromPeer makes it retryable
        rl.close_when_idle |= close_idle;
    }
    let err = ReqErr::StreamReset(code);
    cs.peer_reset(err.clone());
    cs.pipe_close(PipeEnd::Err(err));
    cc.cond.notify_all();
}

/// `processWindowUpdate` (2587-2606).
fn process_window_update(cc: &ClientConn, stream: u32, inc: i64) {
    let cs = if stream == 0 {
        None
    } else {
        match cc.stream_by_id(stream, false) {
            Some(cs) => Some(cs),
            None => return,
        }
    };
    let mut st = cc.mu.lock();
    match cs {
        Some(cs) => cs.flow.with(|f| *f += inc),
        None => st.flow += inc,
    }
    drop(st);
    cc.cond.notify_all();
}

/// `clientConnReadLoop.cleanup` (4e4d966f 1890-1931): under `mu` pick the error and take the
/// streams, fail them outside `mu`, broadcast; then the deferred `MarkDead` and
/// `tconn.Close()`, in that order, after the streams were failed. At 95888ee7 (1805-1840) the
/// streams are failed with `mu` held. (95888ee7 leaves the failed streams in the closed
/// connection's map, where nothing reads them again; the model empties it in both.)
fn cleanup(cc: &ClientConn, pool: &Pool, err: Option<ReqErr>) {
    let mut st = cc.mu.lock();
    let err = match (err, st.go_away) {
        (Some(e), _) => e,
        (None, Some(last)) => ReqErr::GoAwayClosed(last),
        (None, None) => ReqErr::ConnClosed("unexpected EOF".into()),
    };
    let streams = cc.take_streams_locked(&mut st);
    st.life = st.life.close();
    if cc.variant.writes_under_mu() {
        cc.fail_streams(streams, &err);
        drop(st);
    } else {
        drop(st);
        cc.fail_streams(streams, &err);
        drop(cc.mu.lock());
    }
    cc.cond.notify_all();
    pool.mark_dead(cc);
    cc.tconn.close();
    probe(Event::ConnClosed {
        conn: cc.id,
        reason: CloseReason::Error,
    });
}

#[cfg(test)]
#[path = "read_loop_tests.rs"]
mod tests;
