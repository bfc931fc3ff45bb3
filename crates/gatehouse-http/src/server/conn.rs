//! One HTTP/1.1 connection. Plain requests — HTTP/1.1, no body or one of a declared length up
//! to [`INLINE_BODY`], no `Transfer-Encoding`, `Expect`, `Upgrade` or `Connection` other than
//! `keep-alive`, not `HEAD` or `CONNECT` — are read, answered and written here, in the
//! connection's own task (about a fifth of hyper's work per request; see
//! docs/benchmarks.md). The first request that is anything else, or that does not parse,
//! hands the connection, with every byte already read, to hyper, which serves it from then
//! on: what this file does not handle it never has to get right.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};
use bytes::{Bytes, BytesMut};
use gatehouse_dataplane::h1;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::app::App;
use super::h1_response;
use super::handle;
use super::net::{IdleTimeout, Peer, Prefixed};

/// The largest request body read here whole; a longer one is streamed by hyper.
pub const INLINE_BODY: usize = 64 * 1024;

/// The longest request head parsed here; a longer one goes to hyper (and its limits).
const MAX_HEAD: usize = 16 * 1024;

/// The most header lines parsed here (hyper's own limit is 100).
const MAX_HEADERS: usize = 64;

/// What a connection needs besides its socket.
#[derive(Clone)]
pub struct Shared {
    /// The application.
    pub app: Arc<App>,
    /// How hyper serves the connections handed to it.
    pub http: http1::Builder,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// Serves `stream` until the client closes it, it idles out, the server shuts down, or a
/// request breaks the protocol.
pub async fn serve(stream: TcpStream, peer: SocketAddr, shared: Shared) {
    let timeouts = shared.app.timeouts;
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
        // The head's deadline counts from when it was first found incomplete (the clock is
        // not read for a head that arrived whole).
        let mut deadline = None;
        let head = loop {
            match parse(&buf) {
                Parsed::Plain(head) => break head,
                Parsed::Partial if buf.len() < MAX_HEAD => {
                    let until = *deadline.get_or_insert_with(|| Instant::now() + timeouts.header);
                    if !read_more(&mut io, &mut buf, until).await {
                        return;
                    }
                }
                Parsed::Partial | Parsed::Other => {
                    return hand_over(io, buf.freeze(), peer, shared).await;
                }
            }
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
        let resp = handle(&shared.app, req, &peer).await;
        match h1_response::write(&mut io, resp, &mut out).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
        if *shared.shutdown.borrow() {
            return;
        }
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
async fn hand_over<T>(io: T, read: Bytes, peer: Peer, mut shared: Shared)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = shared.app.clone();
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let (app, peer) = (app.clone(), peer.clone());
        let req = req.map(Body::new);
        async move { Ok::<_, std::convert::Infallible>(handle(&app, req, &peer).await) }
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

/// What the start of the buffer holds.
enum Parsed {
    /// A whole request head this file serves.
    Plain(Head),
    /// Not yet a whole head.
    Partial,
    /// Anything else: hyper's.
    Other,
}

/// Where a parsed head's parts lie in the buffer.
struct Head {
    /// The head's length (through the blank line).
    len: usize,
    /// The declared body length.
    body: usize,
    method: std::ops::Range<usize>,
    target: std::ops::Range<usize>,
    headers: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

fn parse(buf: &[u8]) -> Parsed {
    let mut slots =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
        return Parsed::Other;
    };
    if method == "HEAD" || method == "CONNECT" {
        return Parsed::Other;
    }
    let mut body = None;
    let mut headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            match (body, h1::decimal(h.value)) {
                (None, Some(n)) if n <= INLINE_BODY as u64 => body = Some(n as usize),
                _ => return Parsed::Other,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"expect")
            || name.eq_ignore_ascii_case(b"upgrade")
            || (name.eq_ignore_ascii_case(b"connection")
                && !h.value.eq_ignore_ascii_case(b"keep-alive"))
        {
            return Parsed::Other;
        }
        headers.push((h1::span(buf, name), h1::span(buf, h.value)));
    }
    Parsed::Plain(Head {
        len,
        body: body.unwrap_or(0),
        method: h1::span(buf, method.as_bytes()),
        target: h1::span(buf, target.as_bytes()),
        headers,
    })
}

impl Head {
    /// The request, its parts shared with `read` (which starts with this head); `None` when
    /// a part is not valid as `http` types have it (hyper answers those).
    fn request(&self, read: &Bytes) -> Option<Request<Body>> {
        let method = Method::from_bytes(&read[self.method.clone()]).ok()?;
        let uri = Uri::from_maybe_shared(read.slice(self.target.clone())).ok()?;
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(&read[name.clone()]).ok()?;
            let value = HeaderValue::from_maybe_shared(read.slice(value.clone())).ok()?;
            headers.append(name, value);
        }
        let body = if self.body == 0 {
            Body::empty()
        } else {
            Body::from(read.slice(self.len..self.len + self.body))
        };
        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = headers;
        Some(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Option<Request<Body>> {
        let read = Bytes::copy_from_slice(text.as_bytes());
        match parse(&read) {
            Parsed::Plain(head) => head.request(&read),
            _ => None,
        }
    }

    #[test]
    fn plain_requests_are_read_here() {
        let req = plain(
            "POST /a/b?c=d HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\ncontent-length: 3\r\n\r\nabc",
        )
        .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "/a/b?c=d");
        assert_eq!(req.headers().get_all("x-a").iter().count(), 2);
        assert_eq!(req.headers()["host"], "x");
    }

    #[test]
    fn anything_else_is_left_to_hyper() {
        for text in [
            "GET / HTTP/1.0\r\n\r\n",
            "HEAD / HTTP/1.1\r\n\r\n",
            "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\nx",
            "POST / HTTP/1.1\r\ncontent-length: +1\r\n\r\nx",
            "POST / HTTP/1.1\r\ncontent-length: 99999999\r\n\r\n",
            "GET / HTTP/1.1\r\nexpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nconnection: close\r\n\r\n",
            "GET / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
            "GET /\x01 HTTP/1.1\r\n\r\n",
            "BAD REQUEST\r\n\r\n",
        ] {
            assert!(matches!(parse(text.as_bytes()), Parsed::Other), "{text:?}");
        }
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nhost: x\r\n"),
            Parsed::Partial
        ));
    }
}
