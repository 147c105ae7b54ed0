//! The connection's read loop (`clientConnReadLoop`), one actor per connection as upstream runs
//! one goroutine: it reads the peer's frames in order and processes each.
//!
//! Upstream: golang/net `http2/transport.go` at 4e4d966f: `readLoop` 1858-1868, `cleanup`
//! 1890-1931, `run` 1958-2038, `processHeaders` 2040-2107, `processData` 2353-2454,
//! `processGoAway` 2489-2502 with `setGoAway` 761-785, `processSettings` 2504-2585,
//! `processWindowUpdate` 2587-2606, `processResetStream` 2608-2641; before 978cfadd
//! (95888ee7) for go-32388 (`processSettings` takes `mu`, then `wmu` for the ACK; the padding
//! refund in `processData` is written with `mu` held); at 978cfadd for go-48491 (the stream
//! refund `cs.inflow.add` after `mu` is released, lines 2371-2386 of that commit); before
//! 8dab9293 for go-goaway; before 0e478a2a for go-56054.
//!
//! Abstractions: response HEADERS carry no header block (the client's response decoding is not
//! under test); a response is HEADERS then DATA; PING, PUSH_PROMISE and response trailers are
//! not modelled; a connection error ends the loop without writing GOAWAY.

use super::client_conn::{ClientConn, ConnState, PipeEnd, ReqErr, ResAndError};
use super::net::{ClientFrame, ErrCode, PeerFrame};
use super::pool::Pool;
use crate::sync::{probe, yield_now, Event};
use std::sync::Arc;

/// Run the read loop of `cc` until its connection ends.
pub fn read_loop(cc: Arc<ClientConn>, pool: Arc<Pool>) {
    let err = loop {
        let Some(frame) = cc.net.read(cc.id) else {
            break None;
        };
        if let Err(e) = process(&cc, &pool, frame) {
            break Some(e);
        }
    };
    cleanup(&cc, &pool, err);
}

fn process(cc: &ClientConn, pool: &Pool, f: PeerFrame) -> Result<(), ReqErr> {
    match f {
        PeerFrame::Settings {
            max_streams,
            header_table_size,
        } => process_settings(cc, max_streams, header_table_size),
        PeerFrame::SettingsAck => {
            cc.mu.lock().want_settings_ack = false;
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
            peer_window,
        } => process_data(cc, stream, len, pad, end_stream, peer_window),
        PeerFrame::GoAway { last } => {
            pool.mark_dead(cc);
            set_go_away(cc, last);
            Ok(())
        }
        PeerFrame::RstStream { stream, code } => {
            process_reset_stream(cc, stream, code);
            Ok(())
        }
        PeerFrame::WindowUpdate { stream, inc } => {
            process_window_update(cc, stream, inc);
            Ok(())
        }
    }
}

/// `processSettings`: apply under `wmu` + `mu` (978cfadd) or `mu` alone then `wmu` for the
/// ACK (before), and write SETTINGS ACK.
fn process_settings(
    cc: &ClientConn,
    max_streams: Option<u32>,
    header_table_size: Option<u32>,
) -> Result<(), ReqErr> {
    if cc.variant.writes_under_mu() {
        let mut st = cc.mu.lock();
        apply_settings(cc, &mut st, max_streams, header_table_size);
        let mut w = cc.wmu.lock();
        let r = cc.write_frames(&mut w, vec![ClientFrame::SettingsAck]);
        drop(w);
        drop(st);
        return r;
    }
    let mut w = cc.wmu.lock();
    {
        let mut st = cc.mu.lock();
        apply_settings(cc, &mut st, max_streams, header_table_size);
    }
    cc.write_frames(&mut w, vec![ClientFrame::SettingsAck])
}

/// `processSettingsNoWrite`'s body (requires `mu`, and `wmu` after 978cfadd).
fn apply_settings(
    cc: &ClientConn,
    st: &mut ConnState,
    max_streams: Option<u32>,
    header_table_size: Option<u32>,
) {
    if let Some(max) = max_streams {
        st.max_concurrent_streams = max;
    }
    if let Some(size) = header_table_size {
        if cc.variant.applies_header_table_size() {
            // 0e478a2a: capped at MaxEncoderHeaderTableSize (default 4096).
            cc.hpack
                .with(|h| h.enc.set_max_dynamic_table_size(size.min(4096)));
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

/// `processHeaders`: the response HEADERS go to `roundTrip` on `cs.resc`.
fn process_headers(cc: &ClientConn, stream: u32, end_stream: bool) {
    let Some(cs) = cc.stream_by_id(stream, false) else {
        return; // a cancelled request's response
    };
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

/// `processData`: flow control, padding refund, hand the data to the body pipe.
fn process_data(
    cc: &ClientConn,
    stream: u32,
    len: u32,
    pad: u32,
    end_stream: bool,
    peer_window: i64,
) -> Result<(), ReqErr> {
    let length = i64::from(len + pad);
    let Some(cs) = cc.stream_by_id(stream, end_stream) else {
        if length > 0 {
            // A cancelled stream's data: return the connection flow control.
            let mut st = cc.mu.lock();
            st.inflow += length;
            cc.write_after_mu(
                st,
                vec![ClientFrame::WindowUpdate {
                    stream: 0,
                    inc: length,
                }],
            );
        }
        return Ok(());
    };
    let mut st = cc.mu.lock();
    let available = cs.inflow.get();
    probe(Event::StreamFlowWindow {
        conn: cc.id,
        stream,
        client: available,
        peer: peer_window,
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
                cs.inflow.with(|f| *f += refund); // cf34111c: under `mu`
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

/// golang/go#48491: `cs.inflow.add(refund)` with only `wmu` held: a read, a scheduling point,
/// a write, racing with `transportResponseBody.Read`'s update under `mu`.
fn racy_inflow_add(inflow: &crate::sync::Plain<i64>, refund: i64) {
    let n = inflow.get();
    yield_now("cs.inflow.add without cc.mu");
    inflow.set(n + refund);
}

/// `setGoAway`: record the GOAWAY; fail the streams above its last-stream-id (8dab9293).
fn set_go_away(cc: &ClientConn, last: u32) {
    let st = &mut *cc.mu.lock();
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
}

/// `processResetStream`.
fn process_reset_stream(cc: &ClientConn, stream: u32, code: ErrCode) {
    let Some(cs) = cc.stream_by_id(stream, true) else {
        return;
    };
    if code == ErrCode::Protocol {
        cc.mu.lock().do_not_reuse = true; // SetDoNotReuse; errFromPeer makes it retryable
    }
    let err = ReqErr::StreamReset(code);
    cs.peer_reset(err.clone());
    cs.pipe_close(PipeEnd::Err(err));
    cc.cond.notify_all();
}

/// `processWindowUpdate`.
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

/// `clientConnReadLoop.cleanup`: mark the connection dead, fail its streams, close it.
fn cleanup(cc: &ClientConn, pool: &Pool, err: Option<ReqErr>) {
    pool.mark_dead(cc);
    let (streams, err) = {
        let mut st = cc.mu.lock();
        let err = match (err, st.go_away) {
            (Some(e), _) => e,
            (None, Some(last)) => ReqErr::GoAwayClosed(last),
            (None, None) => ReqErr::ConnClosed("unexpected EOF".into()),
        };
        st.closed = true;
        (std::mem::take(&mut st.streams), err)
    };
    cc.fail_streams(streams, &err);
    drop(cc.mu.lock());
    cc.cond.notify_all();
    cc.net.close(cc.id);
    probe(Event::ConnClosed {
        conn: cc.id,
        reason: crate::sync::CloseReason::Error,
    });
}
