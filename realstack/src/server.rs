//! The scripted server: a real `h2::server` connection per in-memory connection, whose
//! behaviour the scenario's server script chooses: stop reading until named requests end,
//! send its SETTINGS (with MAX_CONCURRENT_STREAMS) after an explored delay, accept streams,
//! refuse named requests with RST_STREAM(REFUSED_STREAM), respond from each request's own task
//! after an explored delay, and shut the connection down gracefully or abruptly at an explored
//! moment (a separate task that yields an explored number of times, then asks for it).
//!
//! "Processed" is the ground truth of the outcome classes: a request is processed when the
//! handler accepted it (it is about to run application logic), whatever happens after.

use crate::exec::Cx;
use crate::glue::{delay, Gate};
use crate::scenario::{ServerScript, Shutdown, Steps};
use bytes::Bytes;
use std::sync::Arc;
use std::task::Poll;
use tokio::io::DuplexStream;

enum Event {
    Shutdown(Shutdown),
    Accepted(
        Box<(
            http::Request<h2::RecvStream>,
            h2::server::SendResponse<Bytes>,
        )>,
    ),
    Closed,
}

/// Serve one connection; `nth` is how many connections this host had before it.
pub async fn serve(io: DuplexStream, script: ServerScript, nth: usize, cx: Arc<Cx>) {
    if !script.stall_until.is_empty() {
        // "Stop reading": nothing is read or written until the named requests have ended.
        std::future::poll_fn(|c| {
            if cx.world.poll_all_ended(&script.stall_until, c) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
    delay(script.handshake_after).await;
    let mut builder = h2::server::Builder::new();
    if let Some(max) = script.max_concurrent_streams {
        builder.max_concurrent_streams(max);
    }
    let Ok(mut conn) = builder.handshake::<_, Bytes>(io).await else {
        return;
    };
    let shutdown = script
        .shutdown
        .filter(|_| nth < script.shutdown_connections as usize);
    let gate = Gate::default();
    if shutdown.is_some() {
        let (gate, after) = (gate.clone(), script.shutdown_after);
        drop(shuttle::future::spawn(async move {
            delay(after).await;
            gate.open();
        }));
    }
    let mut shut = false;
    loop {
        let event = std::future::poll_fn(|c| {
            if let Some(mode) = shutdown.filter(|_| !shut) {
                if gate.poll_open(c) {
                    return Poll::Ready(Event::Shutdown(mode));
                }
            }
            conn.poll_accept(c).map(|a| match a {
                Some(Ok(pair)) => Event::Accepted(Box::new(pair)),
                Some(Err(_)) | None => Event::Closed,
            })
        })
        .await;
        match event {
            Event::Shutdown(mode) => {
                shut = true;
                match mode {
                    Shutdown::Graceful => conn.graceful_shutdown(),
                    Shutdown::Abrupt => conn.abrupt_shutdown(h2::Reason::NO_ERROR),
                }
            }
            Event::Accepted(pair) => accepted(pair.0, pair.1, &script, &cx),
            Event::Closed => return,
        }
    }
}

fn accepted(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    script: &ServerScript,
    cx: &Cx,
) {
    let name = req
        .headers()
        .get("x-req")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if script.refuse.contains(&name) && cx.world.refused(&name) == 0 {
        respond.send_reset(h2::Reason::REFUSED_STREAM);
        return;
    }
    cx.world.processed(&name);
    drop(shuttle::future::spawn(respond_from_own_task(
        req,
        respond,
        script.respond_after,
    )));
}

async fn respond_from_own_task(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    after: Steps,
) {
    let mut body = req.into_body();
    while let Some(chunk) = body.data().await {
        match chunk {
            Ok(b) => {
                let _ = body.flow_control().release_capacity(b.len());
            }
            Err(_) => return,
        }
    }
    delay(after).await;
    let _ = respond.send_response(http::Response::new(()), true);
}
