//! The client side of an execution: the case's subject sends every request from its own task,
//! after an explored delay, and records how it ended.
//!
//! - `h2`: `h2::client::handshake` on one connection per host; `SendRequest::ready`, then
//!   `send_request`, the body with `send_data`, the response body read to the end.
//! - `hyper`: `hyper::client::conn::http2` on one connection per host, with our executor and
//!   logical timer.
//! - `hyper-util`: `hyper_util::client::legacy::Client`, `http2_only`, whose pool dials through
//!   [`Connector`] (one new in-memory connection per connect).

use crate::exec::Cx;
use crate::glue::{delay, pump};
use crate::io::{Connector, WireIo};
use crate::outcome::{error_facts, Ending};
use crate::scenario::{RequestSpec, Subject};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Run the case's client; returns once every request has ended.
pub async fn main(cx: Arc<Cx>) {
    drop(shuttle::future::spawn(pump(cx.spawner.clone())));
    match cx.case.client {
        Subject::H2 => h2_main(cx).await,
        Subject::Hyper => hyper_main(cx).await,
        Subject::HyperUtil => hyper_util_main(cx).await,
    }
}

fn hosts(cx: &Cx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &cx.case.requests {
        if !out.contains(&r.host) {
            out.push(r.host.clone());
        }
    }
    out
}

fn request<B>(r: &RequestSpec, body: B) -> http::Request<B> {
    let method = if r.body > 0 {
        http::Method::POST
    } else {
        http::Method::GET
    };
    http::Request::builder()
        .method(method)
        .uri(format!("http://{}/{}", r.host, r.name))
        .header("x-req", r.name.as_str())
        .body(body)
        .expect("a valid request")
}

fn body_of(r: &RequestSpec) -> Bytes {
    Bytes::from(vec![b'x'; r.body])
}

fn handshake_failed(e: &(dyn std::error::Error + 'static)) -> Ending {
    match error_facts(e) {
        Ending::Error {
            chain,
            retry_signal,
        } => Ending::Error {
            chain: format!("handshake: {chain}"),
            retry_signal,
        },
        other => other,
    }
}

/// Spawn one task per request running `exchange`, and wait for all of them.
async fn run_requests<S, F, Fut>(cx: &Arc<Cx>, senders: &BTreeMap<String, Result<S, Ending>>, f: F)
where
    S: Clone + Send + 'static,
    F: Fn(S, RequestSpec) -> Fut,
    Fut: std::future::Future<Output = Ending> + Send + 'static,
{
    let mut handles = Vec::new();
    for r in cx.case.requests.clone() {
        let cx = cx.clone();
        let sender = senders.get(&r.host).cloned().expect("one sender per host");
        let exchange = sender.map(|s| f(s, r.clone()));
        handles.push(shuttle::future::spawn(async move {
            delay(r.start_after).await;
            let ending = match exchange {
                Ok(fut) => fut.await,
                Err(e) => e,
            };
            cx.world.ended(&r.name, ending);
        }));
    }
    for h in handles {
        let _ = h.await;
    }
}

async fn h2_main(cx: Arc<Cx>) {
    let mut senders = BTreeMap::new();
    for host in hosts(&cx) {
        let io: WireIo = cx.connect(&host);
        let sender = match h2::client::handshake(io).await {
            Ok((sender, conn)) => {
                drop(shuttle::future::spawn(async move {
                    let _ = conn.await;
                }));
                Ok(sender)
            }
            Err(e) => Err(handshake_failed(&e)),
        };
        senders.insert(host, sender);
    }
    run_requests(&cx, &senders, |s, r| async move {
        match h2_exchange(s, &r).await {
            Ok(status) => Ending::Response(status),
            Err(e) => error_facts(&e),
        }
    })
    .await;
}

async fn h2_exchange(
    sender: h2::client::SendRequest<Bytes>,
    r: &RequestSpec,
) -> Result<u16, h2::Error> {
    let mut sender = sender.ready().await?;
    let (response, mut stream) = sender.send_request(request(r, ()), r.body == 0)?;
    if r.body > 0 {
        stream.send_data(body_of(r), true)?;
    }
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    Ok(status)
}

async fn hyper_main(cx: Arc<Cx>) {
    let mut senders = BTreeMap::new();
    for host in hosts(&cx) {
        let io = cx.connect(&host);
        let handshake = hyper::client::conn::http2::Builder::new(cx.spawner.clone())
            .timer(cx.timer.clone())
            .handshake::<_, Full<Bytes>>(io)
            .await;
        let sender = match handshake {
            Ok((sender, conn)) => {
                cx.spawner.spawn(async move {
                    let _ = conn.await;
                });
                Ok(sender)
            }
            Err(e) => Err(handshake_failed(&e)),
        };
        senders.insert(host, sender);
    }
    run_requests(&cx, &senders, |mut s, r| async move {
        let result = async {
            s.ready().await?;
            let response = s.send_request(request(&r, Full::new(body_of(&r)))).await?;
            let status = response.status().as_u16();
            response.into_body().collect().await?;
            Ok::<_, hyper::Error>(status)
        };
        match result.await {
            Ok(status) => Ending::Response(status),
            Err(e) => error_facts(&e),
        }
    })
    .await;
}

type LegacyClient = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

async fn hyper_util_main(cx: Arc<Cx>) {
    let client: LegacyClient = hyper_util::client::legacy::Client::builder(cx.spawner.clone())
        .http2_only(true)
        .timer(cx.timer.clone())
        .pool_timer(cx.timer.clone())
        .build(Connector(cx.clone()));
    let senders: BTreeMap<String, Result<LegacyClient, Ending>> = hosts(&cx)
        .into_iter()
        .map(|h| (h, Ok(client.clone())))
        .collect();
    drop(client);
    run_requests(&cx, &senders, |c, r| async move {
        let result = async {
            let response = c.request(request(&r, Full::new(body_of(&r)))).await?;
            let status = response.status().as_u16();
            response
                .into_body()
                .collect()
                .await
                .map_err(BoxError::from)?;
            Ok::<_, BoxError>(status)
        };
        match result.await {
            Ok(status) => Ending::Response(status),
            Err(e) => error_facts(e.as_ref()),
        }
    })
    .await;
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
