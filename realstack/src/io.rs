//! In-memory connections: `tokio::io::duplex` pairs whose client end records every read and
//! write ([`WireIo`]), served by a scripted h2 server task, and the connector hyper-util's pool
//! dials through ([`Connector`]).
//!
//! `WireIo` speaks both I/O trait families: tokio's `AsyncRead`/`AsyncWrite` (h2) and hyper's
//! `rt::Read`/`rt::Write` (hyper, hyper-util). The hyper side copies through a stack buffer
//! rather than writing into hyper's uninitialised cursor, so no `unsafe` is needed.

use crate::exec::Cx;
use crate::world::{Dir, Shared};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// The client end of an in-memory connection, recording what crosses it.
pub struct WireIo {
    inner: DuplexStream,
    conn: usize,
    world: Shared,
}

impl WireIo {
    /// Wrap the client end of connection `conn`.
    pub fn new(inner: DuplexStream, conn: usize, world: Shared) -> Self {
        WireIo { inner, conn, world }
    }
}

impl AsyncRead for WireIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            self.world
                .record(self.conn, Dir::ClientRead, &buf.filled()[before..]);
        }
        r
    }
}

impl AsyncWrite for WireIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = r {
            self.world.record(self.conn, Dir::ClientWrite, &data[..n]);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl hyper::rt::Read for WireIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut tmp = [0u8; 8192];
        let len = buf.remaining().min(tmp.len());
        let mut rb = ReadBuf::new(&mut tmp[..len]);
        match AsyncRead::poll_read(self, cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                buf.put_slice(rb.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl hyper::rt::Write for WireIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self, cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(self, cx)
    }
}

impl hyper_util::client::legacy::connect::Connection for WireIo {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}

/// hyper-util's connector: every `call` opens a new in-memory connection to the URI's host,
/// with that host's scripted server on the other end.
#[derive(Clone)]
pub struct Connector(pub Arc<Cx>);

impl tower_service::Service<http::Uri> for Connector {
    type Response = WireIo;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<WireIo>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let cx = self.0.clone();
        Box::pin(async move {
            let host = uri.host().unwrap_or_default().to_owned();
            Ok(cx.connect(&host))
        })
    }
}
