//! The outbound HTTP client both integrations use (HTTP_PROXY backends and the Lambda Invoke
//! API): HTTP/1.1 keep-alive connections kept per origin and reused, a deadline per call;
//! answers read whole ([`HttpClient::call`]) or streamed ([`HttpClient::send`]). Each
//! exchange is driven by the request that makes it ([`conn`]).
//!
//! A connection goes back to its origin's idle list when the answer it carried has been read
//! to its end (an answer dropped half-read closes it); the next call to that origin takes the
//! most recently used one, checking first that the backend has not closed it when it has sat
//! idle for a while; idle connections are closed after a while ([`pool`]). A
//! small request (up to [`REPLAYABLE`]) that finds its reused connection closed before any
//! answer is sent again on a new one (a non-idempotent one only when it could not be
//! written).

use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{Method, Request, Response, Uri};
use http_body::Body as HttpBody;
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

pub mod conn;
pub mod pool;
pub mod stream;

use self::conn::{Conn, Failure, GiveBack};
use self::pool::Pool;
use self::stream::Stream;
use crate::body::{self, Body};
use crate::framing::Headers;

/// Why an answer read whole was refused (it broke off, or it is over the client's limit).
pub const UNREADABLE_ANSWER: &str =
    "the integration's response body could not be read or is larger than 10 MB";

/// Request bodies up to this size are held so that they can be sent again.
pub const REPLAYABLE: u64 = 64 * 1024;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No answer before the deadline.
    Timeout,
    /// No connection, or the connection broke, or the URL cannot be used; the reason.
    Failed(String),
    /// The request body went over the client's limit on its way to the backend.
    TooLarge,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Timeout => f.write_str("no answer within the timeout"),
            CallError::Failed(why) => f.write_str(why),
            CallError::TooLarge => f.write_str("the request body is over the limit"),
        }
    }
}

/// An HTTP/1.1 client, over TLS (the system's root certificates) for `https://`.
#[derive(Clone)]
pub struct HttpClient {
    pool: Arc<Pool>,
    /// The longest body read whole (an answer for [`HttpClient::call`], a request held to
    /// be sent again).
    max_body: usize,
}

/// A TLS configuration that trusts no certificate (when the system has none to offer).
fn without_roots() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(rustls::DEFAULT_VERSIONS)
    .map(|b| {
        b.with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    })
    .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
}

impl HttpClient {
    /// A client that reads bodies of at most `max_body` bytes whole.
    pub fn new(max_body: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let builder = match HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "no system root certificates: https:// integrations will fail");
                HttpsConnectorBuilder::new().with_tls_config(without_roots())
            }
        };
        HttpClient {
            pool: Arc::new(Pool::new(
                builder
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(connector),
            )),
            max_body,
        }
    }
}

/// An absolute URI's origin, and the path and query that HTTP/1.1 asks for (the host goes
/// in its own header).
fn split(uri: &Uri) -> Result<((&Scheme, &Authority), &str), CallError> {
    match (uri.scheme(), uri.authority()) {
        (Some(scheme), Some(authority)) => {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            Ok(((scheme, authority), path))
        }
        _ => Err(CallError::Failed(format!("{uri} is not an absolute URL"))),
    }
}

impl HttpClient {
    /// Sends `req` (an absolute `http://` or `https://` URI) and returns the answer once its
    /// head arrived (within `deadline`); the body streams after that.
    pub async fn send(
        &self,
        req: Request<Body>,
        deadline: Duration,
    ) -> Result<Response<Body>, CallError> {
        let (parts, body) = req.into_parts();
        let ((scheme, authority), path) = split(&parts.uri)?;
        let headers = Headers::all(&parts.headers);
        self.forward(
            &parts.method,
            scheme,
            authority,
            path,
            headers,
            body,
            deadline,
        )
        .await
    }

    /// Like [`HttpClient::send`], the request given by its parts: the origin, the request
    /// target (path and query, already valid as a URI's), and headers that are a view over
    /// someone else's (an HTTP_PROXY integration passes the client's on without copying them).
    #[allow(clippy::too_many_arguments)]
    pub async fn forward(
        &self,
        method: &Method,
        scheme: &Scheme,
        authority: &Authority,
        path: &str,
        headers: Headers<'_>,
        body: Body,
        deadline: Duration,
    ) -> Result<Response<Body>, CallError> {
        // The connection keeps the deadline with a timer of its own that is only moved
        // when it fires early: no timer is registered and removed for every request.
        let now = Instant::now();
        let until = tokio::time::Instant::from_std(now) + deadline;
        let origin = (scheme, authority);
        self.exchange(method, origin, path, headers, body, now, until)
            .await
    }

    /// Sends `req` and reads the whole answer, within `deadline`.
    pub async fn call(
        &self,
        req: Request<Body>,
        deadline: Duration,
    ) -> Result<Response<Bytes>, CallError> {
        let now = Instant::now();
        let until = tokio::time::Instant::from_std(now) + deadline;
        let (parts, body) = req.into_parts();
        let (origin, path) = split(&parts.uri)?;
        let work = async {
            let headers = Headers::all(&parts.headers);
            let (parts, body) = self
                .exchange(&parts.method, origin, path, headers, body, now, until)
                .await?
                .into_parts();
            let bytes = body::read(body, self.max_body)
                .await
                .map_err(|_| CallError::Failed(UNREADABLE_ANSWER.into()))?;
            Ok(Response::from_parts(parts, bytes))
        };
        match tokio::time::timeout_at(until, work).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout),
        }
    }

    /// One request on an idle connection to its origin, or on a new one; `now` is when the
    /// call began (the clock is read once per call: a connection's idle time is counted
    /// from it, which is precise enough for the idle limits).
    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &self,
        method: &Method,
        (scheme, authority): (&Scheme, &Authority),
        path: &str,
        headers: Headers<'_>,
        body: Body,
        now: Instant,
        until: tokio::time::Instant,
    ) -> Result<Response<Body>, CallError> {
        // A small body is held whole so that the request can be sent again.
        let (mut body, replay) = if body.is_end_stream() {
            (None, Some(Bytes::new()))
        } else if body.size_hint().exact().is_some_and(|n| n <= REPLAYABLE) {
            match tokio::time::timeout_at(until, body::read(body, self.max_body)).await {
                Ok(Ok(bytes)) => (None, Some(bytes)),
                Ok(Err(true)) => return Err(CallError::TooLarge),
                Ok(Err(false)) => {
                    return Err(CallError::Failed("the request body broke off".into()))
                }
                Err(_) => return Err(CallError::Timeout),
            }
        } else {
            (Some(body), None)
        };
        let mut fresh = false;
        loop {
            let (idle, origin) = self.pool.checkout(scheme, authority, now);
            let (conn, reused) = match idle.filter(|_| !fresh) {
                Some(conn) => (conn, true),
                // Boxed: a connection's set-up (TLS included) is large, and held inline it
                // would be copied with every request's future.
                None => {
                    match tokio::time::timeout_at(until, Box::pin(self.connect(scheme, authority)))
                        .await
                    {
                        Ok(conn) => (conn?, false),
                        Err(_) => return Err(CallError::Timeout),
                    }
                }
            };
            let request_body = match (&replay, body.take()) {
                (Some(bytes), _) => body::full(bytes.clone()),
                (None, Some(body)) => body,
                (None, None) => return Err(CallError::Failed("the request body broke off".into())),
            };
            let to: Weak<Pool> = Arc::downgrade(&self.pool);
            let give_back = GiveBack {
                to,
                origin,
                since: now,
            };
            match conn
                .exchange(
                    method,
                    path,
                    authority.as_str(),
                    headers,
                    request_body,
                    give_back,
                    until,
                )
                .await
            {
                Ok(resp) => return Ok(resp),
                Err(Failure {
                    timed_out: true, ..
                }) => return Err(CallError::Timeout),
                Err(Failure {
                    too_large: true, ..
                }) => return Err(CallError::TooLarge),
                // The backend had closed the connection while it was idle: again, on a new
                // one — unless the request went out whole and sending it twice could do
                // twice what it asks.
                Err(Failure {
                    unanswered: true,
                    sent,
                    ..
                }) if reused && replay.is_some() && (!sent || method.is_idempotent()) => {
                    fresh = true;
                }
                Err(failure) => return Err(CallError::Failed(failure.reason)),
            }
        }
    }

    /// A new connection to `scheme://authority`.
    async fn connect(&self, scheme: &Scheme, authority: &Authority) -> Result<Conn, CallError> {
        let target = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| CallError::Failed(e.to_string()))?;
        let mut connector = self.pool.connector.clone();
        poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(|e| CallError::Failed(describe(e.as_ref())))?;
        let io = connector
            .call(target)
            .await
            .map_err(|e| CallError::Failed(describe(e.as_ref())))?;
        Ok(Conn::new(Stream::new(io)))
    }
}

/// An error and its causes, as one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A backend that answers every request on a connection with `answer` after waiting
    /// as long as `delay` says for the request's head, closing the connection after each
    /// answer when `close` says so; its origin and a count of the connections it took.
    async fn listen(
        answer: &'static str,
        close: bool,
        delay: fn(&str) -> Duration,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            let wait = delay(&String::from_utf8_lossy(&seen[..end]));
                            seen.drain(..end + 4);
                            tokio::time::sleep(wait).await;
                            if socket.write_all(answer.as_bytes()).await.is_err() || close {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (origin, accepted)
    }

    /// A backend answering at once; the URL of its `/x` and the connection count.
    async fn backend(answer: &'static str, close: bool) -> (String, Arc<AtomicUsize>) {
        let (origin, accepted) = listen(answer, close, |_| Duration::ZERO).await;
        (format!("{origin}/x"), accepted)
    }

    /// Calls `url` `times` times with `client`; each answer's body is `body`.
    async fn read_each(client: &HttpClient, url: &str, times: usize, body: &[u8]) {
        for _ in 0..times {
            let resp = client.call(get(url), DEADLINE).await.unwrap();
            assert_eq!(resp.body().as_ref(), body);
        }
    }

    fn get(url: &str) -> Request<Body> {
        let mut req = Request::new(body::full(Bytes::new()));
        *req.uri_mut() = url.parse().unwrap();
        req
    }

    const LIMIT: usize = 10 * 1024 * 1024;
    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    const DEADLINE: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_connection_is_reused_once_its_answer_was_read() {
        let (url, accepted) = backend(OK, false).await;
        let client = HttpClient::new(LIMIT);
        read_each(&client, &url, 3, b"ok").await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_backend_that_closes_its_connections_is_called_again_on_new_ones() {
        // Once with `connection: close`, once closing silently after each answer: a
        // connection found closed (or closing as the request goes out) is not an error.
        let closing = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok";
        for answer in [closing, OK] {
            let (url, accepted) = backend(answer, true).await;
            let client = HttpClient::new(LIMIT);
            read_each(&client, &url, 5, b"ok").await;
            assert_eq!(accepted.load(Ordering::SeqCst), 5);
        }
    }

    #[tokio::test]
    async fn an_answer_dropped_half_read_takes_its_connection_with_it() {
        let long = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello";
        let (url, accepted) = backend(long, false).await;
        let client = HttpClient::new(LIMIT);
        drop(client.send(get(&url), DEADLINE).await.unwrap());
        drop(client.send(get(&url), DEADLINE).await.unwrap());
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_empty_answer_dropped_outside_a_runtime_gives_its_connection_back_quietly() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (url, _) = runtime.block_on(backend("HTTP/1.1 204 No Content\r\n\r\n", false));
        let client = HttpClient::new(LIMIT);
        let resp = runtime.block_on(client.send(get(&url), DEADLINE)).unwrap();
        assert_eq!(resp.status(), 204);
        // Nothing to read: dropping it gives the connection back, with no runtime to start
        // the reaper on (and no panic).
        drop(resp);
        assert_eq!(client.pool.idle_at(&url.replace("/x", "")), Some(1));
    }

    /// A backend that answers each request with `OK` after waiting as long as its path
    /// says (in ms); its origin.
    async fn slow_backend() -> String {
        let delay = |head: &str| {
            let ms = head
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.trim_start_matches('/').parse().ok())
                .unwrap_or(0);
            Duration::from_millis(ms)
        };
        listen(OK, false, delay).await.0
    }

    #[tokio::test]
    async fn each_call_keeps_its_own_deadline_on_a_reused_connection() {
        let url = slow_backend().await;
        let client = HttpClient::new(LIMIT);
        let call = |ms: u64, deadline: u64| {
            let client = client.clone();
            let url = format!("{url}/{ms}");
            async move {
                client
                    .send(get(&url), Duration::from_millis(deadline))
                    .await
                    .map(|r| r.status())
            }
        };
        // A short deadline arms the connection's timer early; a later call with a longer
        // one is not cut short by it ...
        assert_eq!(call(0, 300).await, Ok(http::StatusCode::OK));
        assert_eq!(call(600, 5_000).await, Ok(http::StatusCode::OK));
        // ... and a call with a shorter deadline than the one armed still times out on time.
        assert_eq!(call(0, 60_000).await, Ok(http::StatusCode::OK));
        let started = Instant::now();
        assert_eq!(call(2_000, 100).await, Err(CallError::Timeout));
        assert!(started.elapsed() < Duration::from_millis(1_500));
    }

    #[tokio::test]
    async fn answers_are_read_by_their_framing() {
        // Chunked (with an extension and a trailer): read whole, the connection reused.
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\nx-t: 1\r\n\r\n";
        let (url, accepted) = backend(chunked, false).await;
        let client = HttpClient::new(LIMIT);
        read_each(&client, &url, 3, b"abcde").await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        // No length: read until the backend closes; never reused.
        let (url, accepted) = backend("HTTP/1.0 200 OK\r\n\r\nuntil close", true).await;
        read_each(&client, &url, 2, b"until close").await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // Garbage and broken framing are failures, not answers.
        for bad in [
            "NOT HTTP\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab",
        ] {
            let (url, _) = backend(bad, true).await;
            assert!(matches!(
                client.call(get(&url), DEADLINE).await,
                Err(CallError::Failed(_))
            ));
        }
        let (url, _) = backend(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            true,
        )
        .await;
        assert_eq!(
            client.call(get(&url), DEADLINE).await.unwrap_err(),
            CallError::Failed(UNREADABLE_ANSWER.into())
        );
    }

    #[tokio::test]
    async fn a_url_without_an_origin_is_refused() {
        let client = HttpClient::new(LIMIT);
        let err = client.call(get("/x"), DEADLINE).await.unwrap_err();
        assert_eq!(err, CallError::Failed("/x is not an absolute URL".into()));
    }
}
