//! One HTTP/1.1 connection. Plain requests ([`super::request`]) are read, answered and
//! written here, in the connection's own task (about a fifth of hyper's work per request;
//! see docs/benchmarks.md), and so are upgrade requests: a `101` answer hands the
//! connection on ([`super::upgrade`]). The first request that is anything else, or that
//! does not parse, hands the connection, with every byte already read, to hyper, which
//! serves it from then on: what this path does not handle it never has to get right.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::Request;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::io::{IdleTimeout, Peer, Prefixed};
use super::request::{self, Parsed, MAX_HEAD};
use super::upgrade::{self, Upgraded};
use super::{response, Handler, Timeouts};
use crate::body;

/// What a connection needs besides its socket.
pub struct Shared<H> {
    /// What answers the requests.
    pub handler: Arc<H>,
    /// How hyper serves the connections handed to it.
    pub http: http1::Builder,
    /// The connection's time limits.
    pub timeouts: Timeouts,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

impl<H> Clone for Shared<H> {
    fn clone(&self) -> Self {
        Shared {
            handler: self.handler.clone(),
            http: self.http.clone(),
            timeouts: self.timeouts,
            shutdown: self.shutdown.clone(),
        }
    }
}

/// What became of a request served on the plain path.
enum Next {
    /// The connection carries another request.
    KeepGoing,
    /// The connection ends.
    Close,
    /// A `101` answer handed the connection to someone else.
    Upgrade(upgrade::Serve),
}

/// Serves `stream` until the client closes it, it idles out, the server shuts down, a
/// request breaks the protocol, or an upgrade takes it.
pub async fn serve<H: Handler>(stream: TcpStream, peer: SocketAddr, shared: Shared<H>) {
    let timeouts = shared.timeouts;
    let peer = Peer::new(peer);
    let mut io = IdleTimeout::new(stream, timeouts.idle);
    let mut buf = BytesMut::new();
    let mut out = Vec::with_capacity(4096);
    // Waits for shutdown for the connection's whole life (made once, not per request).
    let mut shutdown = shared.shutdown.clone();
    let mut stop = std::pin::pin!(shutdown.changed());
    loop {
        if buf.is_empty() {
            buf.reserve(8192);
            // The read first: a request already there is taken without looking at the
            // shutdown signal (which is checked after each answer anyway).
            tokio::select! {
                biased;
                read = io.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                _ = &mut stop => return,
            }
        }
        let Some(head) = read_head(&mut io, &mut buf, timeouts).await else {
            return;
        };
        let head = match head {
            Ok(head) => head,
            Err(()) => return hand_over(io, buf.split().freeze(), peer, shared).await,
        };
        let end = head.len + head.body;
        while buf.len() < end {
            buf.reserve(end - buf.len());
            // The connection's idle timeout bounds each wait for the body.
            if !matches!(io.read_buf(&mut buf).await, Ok(n) if n > 0) {
                return;
            }
        }
        let read = buf.split().freeze();
        let Some(req) = head.request(&read) else {
            return hand_over(io, read, peer, shared).await;
        };
        if read.len() > end {
            buf.extend_from_slice(&read[end..]);
        }
        drop(read);
        let resp = shared.handler.handle(req, &peer).await;
        let upgrade = upgrade::taker(&resp);
        match next(response::write(&mut io, resp, &mut out).await, upgrade) {
            Next::KeepGoing => {}
            Next::Close => return,
            Next::Upgrade(take) => {
                // Only what the client sent after the request goes on (a copy the size of
                // it: the connection's buffers are freed with this task, which ends here;
                // the upgraded connection is served by a task of its own).
                let upgraded = Upgraded {
                    io: io.into_inner(),
                    read: Bytes::copy_from_slice(&buf),
                    shutdown: shared.shutdown.clone(),
                };
                tokio::spawn(take(upgraded));
                return;
            }
        }
        if *shared.shutdown.borrow() {
            return;
        }
    }
}

/// The next request's head from the buffer, reading more as needed (the head's deadline
/// counts from when it was first found incomplete; the clock is not read for a head that
/// arrived whole). `None` when the connection ended or timed out; `Err` when the request is
/// hyper's.
async fn read_head<T: AsyncRead + Unpin>(
    io: &mut T,
    buf: &mut BytesMut,
    timeouts: Timeouts,
) -> Option<Result<request::Head, ()>> {
    let mut deadline = None;
    loop {
        match request::parse(buf) {
            Parsed::Plain(head) => return Some(Ok(head)),
            Parsed::Partial if buf.len() < MAX_HEAD => {
                let until = *deadline.get_or_insert_with(|| Instant::now() + timeouts.header);
                if !read_more(io, buf, until).await {
                    return None;
                }
            }
            Parsed::Partial | Parsed::Other => return Some(Err(())),
        }
    }
}

/// What follows an answer that was written (`Ok(true)`: the connection may carry another
/// request), given who takes the connection after a `101`.
fn next(written: std::io::Result<bool>, upgrade: Option<upgrade::OnUpgrade>) -> Next {
    match (written, upgrade) {
        (Ok(true), None) => Next::KeepGoing,
        (Ok(true), Some(taker)) => match taker.take() {
            Some(take) => Next::Upgrade(take),
            None => Next::Close,
        },
        (Ok(false) | Err(_), _) => Next::Close,
    }
}

/// Reads more of a request, by `deadline`; `false` when the connection ended or timed out.
async fn read_more<T: AsyncRead + Unpin>(
    io: &mut T,
    buf: &mut BytesMut,
    deadline: Instant,
) -> bool {
    buf.reserve(4096);
    matches!(
        tokio::time::timeout_at(deadline, io.read_buf(buf)).await,
        Ok(Ok(n)) if n > 0
    )
}

/// Gives the connection to hyper: it reads `read` first, then the socket.
async fn hand_over<H, T>(io: T, read: Bytes, peer: Peer, mut shared: Shared<H>)
where
    H: Handler,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handler = shared.handler.clone();
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let (handler, peer) = (handler.clone(), peer.clone());
        let req = req.map(body::boxed);
        async move { Ok::<_, std::convert::Infallible>(handler.handle(req, &peer).await) }
    });
    let conn = shared
        .http
        .serve_connection(TokioIo::new(Prefixed::new(read, io)), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shared.shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
