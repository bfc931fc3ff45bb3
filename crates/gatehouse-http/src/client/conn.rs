//! One HTTP/1.1 connection to a backend, driven by the request that holds it (no task of its
//! own): the request written with hyper's framing rules, the answer's head read, and its body
//! read as the caller reads it — by `content-length`, chunked, or to the connection's end.
//! Once an answer has been read to its end on a connection that may carry another, the
//! connection is handed to [`GiveBack`].

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::{Arc, Weak};
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio::time::{Instant, Sleep};

use super::stream::Stream;
use crate::body::{self, Body, BoxError};
use crate::framing::{self, decimal, has_token, is_chunked, Headers};

/// The longest answer head read.
const MAX_HEAD: usize = 64 * 1024;

/// The most header lines in an answer (hyper's limit).
const MAX_HEADERS: usize = 100;

/// The longest chunk-size or trailer line of a chunked answer.
const MAX_LINE: usize = 4096;

/// Where connections go back once their answers were read to the end (the client's pool).
pub trait TakesBack: Send + Sync {
    /// Takes back `conn`, a connection to `origin` idle since `since`.
    fn take_back(self: Arc<Self>, origin: &Arc<str>, conn: Conn, since: std::time::Instant);
}

/// What takes a connection back once its answer was read to the end (nothing when the
/// pool is gone).
pub struct GiveBack {
    /// The pool.
    pub to: Weak<dyn TakesBack>,
    /// The connection's origin.
    pub origin: Arc<str>,
    /// When the exchange began (the connection's idle time counts from it).
    pub since: std::time::Instant,
}

impl GiveBack {
    fn give(self, conn: Conn) {
        if let Some(to) = self.to.upgrade() {
            to.take_back(&self.origin, conn, self.since);
        }
    }
}

/// A connection and what it has read but not yet used.
pub struct Conn {
    stream: Stream,
    buf: BytesMut,
    out: Vec<u8>,
    /// Keeps an exchange's deadline; moved only when it fires before the deadline it keeps.
    timer: Option<Pin<Box<Sleep>>>,
    /// Header names this backend has sent, as sent (a backend repeats the same names, and
    /// looking one up here costs a fraction of parsing it again), and whether each belongs
    /// to the connection.
    names: Vec<(Box<[u8]>, HeaderName, bool)>,
    /// The last parsed answer head's header lines (kept: no list is made per answer).
    spans: Vec<Span>,
}

/// Most header names remembered per connection.
const MAX_NAMES: usize = 32;

/// Why an exchange failed.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, as one line.
    pub reason: String,
    /// Whether the backend answered nothing at all (the connection may have been closed
    /// while idle: the request can be sent again on another).
    pub unanswered: bool,
    /// Whether the request went out whole (else the backend cannot have acted on it).
    pub sent: bool,
    /// Whether the request body went over the body limit.
    pub too_large: bool,
    /// Whether the deadline passed before the answer's head arrived.
    pub timed_out: bool,
}

impl Failure {
    fn new(reason: impl Into<String>, unanswered: bool) -> Failure {
        Failure {
            reason: reason.into(),
            unanswered,
            sent: true,
            too_large: false,
            timed_out: false,
        }
    }
}

/// Where a parsed answer head's parts lie.
struct Head {
    len: usize,
    status: u16,
    version: u8,
}

/// Where one header line's name and value lie in the buffer.
type Span = (std::ops::Range<usize>, std::ops::Range<usize>);

impl Conn {
    /// A new connection over `stream`.
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: BytesMut::new(),
            out: Vec::new(),
            timer: None,
            names: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Whether the backend has closed this idle connection.
    pub fn is_closed(&self) -> bool {
        !self.buf.is_empty() || self.stream.is_closed()
    }

    /// Sends a request (its target in origin form; `host` is `authority` unless `headers`
    /// has one) and reads the answer's head, by `until`; the body is read as the answer's
    /// body is. The answer's headers that belong to the connection (framing, `connection`,
    /// `keep-alive`, …) are read here and not passed on.
    #[allow(clippy::too_many_arguments)]
    pub async fn exchange(
        mut self,
        method: &Method,
        target: &str,
        authority: &str,
        headers: Headers<'_>,
        body: Body,
        give_back: GiveBack,
        until: Instant,
    ) -> Result<Response<Body>, Failure> {
        let mut timer = self
            .timer
            .take()
            .unwrap_or_else(|| Box::pin(tokio::time::sleep_until(until)));
        if timer.deadline() > until {
            timer.as_mut().reset(until);
        }
        let head = {
            let mut work = pin!(self.send(method, target, authority, headers, body));
            poll_fn(|cx| {
                if let Poll::Ready(head) = work.as_mut().poll(cx) {
                    return Poll::Ready(Some(head));
                }
                while timer.as_mut().poll(cx).is_ready() {
                    if Instant::now() >= until {
                        return Poll::Ready(None);
                    }
                    timer.as_mut().reset(until);
                }
                Poll::Pending
            })
            .await
        };
        self.timer = Some(timer);
        match head {
            Some(Ok(head)) => self
                .answer(head, method, give_back)
                .map_err(|why| Failure::new(why, false)),
            Some(Err(failure)) => Err(failure),
            None => {
                let mut failure = Failure::new("timed out", false);
                failure.timed_out = true;
                Err(failure)
            }
        }
    }

    /// Writes the request and reads the answer's head.
    async fn send(
        &mut self,
        method: &Method,
        target: &str,
        authority: &str,
        headers: Headers<'_>,
        mut body: Body,
    ) -> Result<Head, Failure> {
        self.out.clear();
        let framing =
            framing::request_head(method, target, authority, headers, &body, &mut self.out);
        match framing::write_body(&mut self.stream, &mut body, framing, &mut self.out).await {
            Ok(true) => {}
            Ok(false) => return Err(Failure::new("the request body broke off", false)),
            Err(e) => {
                let too_large = e.get_ref().is_some_and(|inner| body::is_over_limit(inner));
                let mut failure = Failure::new(format!("error sending the request: {e}"), true);
                failure.too_large = too_large;
                failure.sent = false;
                return Err(failure);
            }
        }
        drop(body);
        let head = loop {
            let parsed = if self.buf.is_empty() {
                Ok(None)
            } else {
                self.parse_head()
            };
            match parsed {
                Ok(Some(head)) if (100..200).contains(&head.status) && head.status != 101 => {
                    self.buf.advance(head.len);
                }
                Ok(Some(head)) => break head,
                Ok(None) if self.buf.len() < MAX_HEAD => {
                    let unanswered = self.buf.is_empty();
                    // Room for a whole head and a small body in one read (a buffer with
                    // no room left would be given 64 bytes, and the head read piecemeal).
                    self.buf.reserve(8192);
                    match self.stream.read_buf(&mut self.buf).await {
                        Ok(0) => {
                            return Err(Failure::new(
                                "the connection closed before an answer",
                                unanswered,
                            ))
                        }
                        Ok(_) => {}
                        Err(e) => {
                            return Err(Failure::new(
                                format!("error reading the answer: {e}"),
                                unanswered,
                            ))
                        }
                    }
                }
                Ok(None) => return Err(Failure::new("the answer's head is too large", false)),
                Err(why) => return Err(Failure::new(why, false)),
            }
        };
        Ok(head)
    }

    fn parse_head(&mut self) -> Result<Option<Head>, String> {
        let mut slots =
            [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut resp, &self.buf, &mut slots);
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(format!("invalid HTTP answer: {e}")),
        };
        self.spans.clear();
        self.spans.extend(resp.headers.iter().map(|h| {
            (
                framing::span(&self.buf, h.name.as_bytes()),
                framing::span(&self.buf, h.value),
            )
        }));
        Ok(Some(Head {
            len,
            status: resp.code.unwrap_or(0),
            version: resp.version.unwrap_or(1),
        }))
    }

    /// The `at`th header name of an answer, as this connection's backend wrote it, and
    /// whether it belongs to the connection. A backend writes the same headers in the same
    /// order answer after answer, so the name seen at the same place is tried first.
    fn name(&mut self, at: usize, raw: &[u8]) -> Result<(HeaderName, bool), String> {
        let seen = |(seen, _, _): &&(Box<[u8]>, HeaderName, bool)| **seen == *raw;
        let hit = self.names.get(at).filter(seen);
        if let Some((_, name, own)) = hit.or_else(|| self.names.iter().find(seen)) {
            return Ok((name.clone(), *own));
        }
        let name = HeaderName::from_bytes(raw)
            .map_err(|_| "invalid header name in the answer".to_string())?;
        let own = framing::is_connection_header(&name);
        if self.names.len() < MAX_NAMES {
            self.names.push((raw.into(), name.clone(), own));
        }
        Ok((name, own))
    }

    /// The answer whose head was parsed, its body as it is framed.
    fn answer(
        mut self,
        head: Head,
        method: &Method,
        give_back: GiveBack,
    ) -> Result<Response<Body>, String> {
        let bytes = self.buf.split_to(head.len).freeze();
        let status = StatusCode::from_u16(head.status)
            .map_err(|_| format!("invalid HTTP status {}", head.status))?;
        let spans = std::mem::take(&mut self.spans);
        let mut headers = HeaderMap::with_capacity(spans.len());
        let mut keep_alive = head.version == 1;
        let (mut length, mut chunked, mut to_close) = (None::<u64>, false, false);
        // Headers the answer's `connection` header names (they stay with the connection).
        let mut named = Vec::new();
        for (at, (name, value)) in spans.iter().enumerate() {
            let (name, own) = self.name(at, &bytes[name.clone()])?;
            if own {
                let value = &bytes[value.clone()];
                match name {
                    header::CONNECTION => {
                        if has_token(value, b"close") {
                            keep_alive = false;
                        } else if has_token(value, b"keep-alive") && head.version == 0 {
                            keep_alive = true;
                        }
                        framing::named_by_connection(value, &mut named);
                    }
                    header::TRANSFER_ENCODING => {
                        chunked = is_chunked(value);
                        to_close = !chunked;
                    }
                    header::CONTENT_LENGTH => {
                        let n = decimal(value)
                            .ok_or_else(|| "invalid content-length in the answer".to_string())?;
                        if length.is_some_and(|m| m != n) {
                            return Err("conflicting content-length in the answer".into());
                        }
                        length = Some(n);
                    }
                    _ => {}
                }
                continue;
            }
            let value = HeaderValue::from_maybe_shared(bytes.slice(value.clone()))
                .map_err(|_| "invalid header value in the answer".to_string())?;
            headers.append(name, value);
        }
        self.spans = spans;
        for name in &named {
            headers.remove(name);
        }
        let mut resp = Response::new(());
        *resp.status_mut() = status;
        *resp.version_mut() = if head.version == 1 {
            Version::HTTP_11
        } else {
            Version::HTTP_10
        };
        *resp.headers_mut() = headers;
        let bodyless = *method == Method::HEAD
            || matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
        let state = if bodyless {
            Reading::Fixed(0)
        } else if chunked || to_close {
            // A length beside a transfer coding is ignored; such a connection is not reused.
            keep_alive &= length.is_none();
            if chunked {
                Reading::Chunked(Chunk::Size)
            } else {
                keep_alive = false;
                Reading::ToClose
            }
        } else if let Some(n) = length {
            Reading::Fixed(n)
        } else {
            keep_alive = false;
            Reading::ToClose
        };
        if let Reading::Fixed(n) = state {
            if self.buf.len() as u64 >= n {
                // The whole body is here (the usual case): the connection goes back now.
                let data = self.buf.split_to(n as usize).freeze();
                if keep_alive && self.buf.is_empty() {
                    give_back.give(self);
                }
                return Ok(resp.map(|()| body::full(data)));
            }
        }
        let answer = Answer {
            conn: Some(self),
            state,
            keep_alive,
            give_back: Some(give_back),
        };
        Ok(resp.map(|()| http_body_util::BodyExt::boxed_unsync(answer)))
    }
}

/// Where the reading of a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// This many bytes still to come.
    Fixed(u64),
    /// A chunked body.
    Chunked(Chunk),
    /// Everything until the backend closes the connection.
    ToClose,
    /// Read to its end.
    Done,
}

/// Where in a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// An answer's body still on its connection.
struct Answer {
    conn: Option<Conn>,
    state: Reading,
    keep_alive: bool,
    give_back: Option<GiveBack>,
}

fn broken(why: &str) -> BoxError {
    std::io::Error::other(why.to_string()).into()
}

impl Answer {
    /// The body read to its end: the connection goes back when it may be used again.
    fn finish(&mut self) {
        self.state = Reading::Done;
        if let (Some(conn), Some(give_back)) = (self.conn.take(), self.give_back.take()) {
            if self.keep_alive && conn.buf.is_empty() {
                give_back.give(conn);
            }
        }
    }

    /// What the buffer holds of a chunked body: data, the end, or `None` for "read more".
    fn chunked(conn: &mut Conn, state: &mut Chunk) -> Result<Option<Option<Bytes>>, BoxError> {
        loop {
            match *state {
                Chunk::Size | Chunk::Trailers => {
                    let Some(end) = conn.buf.windows(2).position(|w| w == b"\r\n") else {
                        if conn.buf.len() > MAX_LINE {
                            return Err(broken("invalid chunked answer"));
                        }
                        return Ok(None);
                    };
                    let line = conn.buf.split_to(end + 2);
                    let line = &line[..end];
                    if *state == Chunk::Trailers {
                        if line.is_empty() {
                            return Ok(Some(None));
                        }
                        continue;
                    }
                    let digits = line
                        .split(|b| *b == b';')
                        .next()
                        .unwrap_or_default()
                        .trim_ascii();
                    if digits.is_empty() || digits.len() > 15 {
                        return Err(broken("invalid chunk size in the answer"));
                    }
                    let size = digits.iter().try_fold(0u64, |n, d| {
                        (*d as char).to_digit(16).map(|v| n * 16 + u64::from(v))
                    });
                    *state = match size {
                        Some(0) => Chunk::Trailers,
                        Some(n) => Chunk::Data(n),
                        None => return Err(broken("invalid chunk size in the answer")),
                    };
                }
                Chunk::Data(left) => {
                    if conn.buf.is_empty() {
                        return Ok(None);
                    }
                    let n = left.min(conn.buf.len() as u64);
                    let data = conn.buf.split_to(n as usize).freeze();
                    *state = if n == left {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - n)
                    };
                    return Ok(Some(Some(data)));
                }
                Chunk::DataEnd => {
                    if conn.buf.len() < 2 {
                        return Ok(None);
                    }
                    if &conn.buf[..2] != b"\r\n" {
                        return Err(broken("invalid chunked answer"));
                    }
                    conn.buf.advance(2);
                    *state = Chunk::Size;
                }
            }
        }
    }
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match &mut this.state {
                Reading::Done => return Poll::Ready(None),
                Reading::Fixed(0) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Reading::Fixed(left) if !conn.buf.is_empty() => {
                    let n = (*left).min(conn.buf.len() as u64);
                    let data = conn.buf.split_to(n as usize).freeze();
                    *left -= n;
                    if *left == 0 {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Reading::ToClose if !conn.buf.is_empty() => {
                    let data = conn.buf.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Reading::Chunked(state) if !conn.buf.is_empty() => {
                    match Answer::chunked(conn, state) {
                        Err(e) => {
                            this.conn = None;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Ok(Some(Some(data))) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                        Ok(Some(None)) => {
                            this.finish();
                            return Poll::Ready(None);
                        }
                        Ok(None) => {}
                    }
                }
                _ => {}
            }
            // More is needed from the connection.
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            conn.buf.reserve(8192);
            let read = pin!(conn.stream.read_buf(&mut conn.buf)).poll(cx);
            match ready!(read) {
                Ok(0) if this.state == Reading::ToClose => {
                    this.state = Reading::Done;
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(broken(
                        "the connection closed before the end of the answer",
                    ))));
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, Reading::Done | Reading::Fixed(0))
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            Reading::Fixed(n) => SizeHint::with_exact(n),
            Reading::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        // Dropped with nothing left to read: as good as read to the end.
        if self.state == Reading::Fixed(0) {
            self.finish();
        }
    }
}
