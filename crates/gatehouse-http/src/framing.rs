//! HTTP/1.1 message framing that both directions share — the server writing its answers and
//! the outbound client writing its requests: a body written with `content-length` or chunked,
//! the header-value rules that decide which, which headers belong to one connection, a
//! request's headers as a view over the client's own, and a request's head as the client
//! writes it.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use http_body::Body as HttpBody;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Headers that belong to one connection and never cross a proxy (with `keep-alive` and
/// `proxy-connection`, which have no constant; see [`is_connection_header`]). `host` and
/// `content-length` are among them: each hop states its own.
const CONNECTION_HEADERS: [HeaderName; 9] = [
    header::CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::HOST,
    header::CONTENT_LENGTH,
];

/// Whether header `name` belongs to one connection (and so never crosses the gateway).
pub fn is_connection_header(name: &HeaderName) -> bool {
    CONNECTION_HEADERS.contains(name) || matches!(name.as_str(), "keep-alive" | "proxy-connection")
}

/// The headers a request goes out with, without copying them into a map of their own:
/// `map`'s, less the names `skip` picks and those `extra` gives, then `extra`'s.
#[derive(Clone, Copy)]
pub struct Headers<'a> {
    /// The headers passed on.
    pub map: &'a HeaderMap,
    /// Which of `map`'s names are left out.
    pub skip: fn(&HeaderName) -> bool,
    /// Headers added (in place of any of `map`'s of the same name).
    pub extra: &'a [(HeaderName, HeaderValue)],
}

impl<'a> Headers<'a> {
    /// `map` as it is.
    pub fn all(map: &'a HeaderMap) -> Headers<'a> {
        Headers {
            map,
            skip: |_| false,
            extra: &[],
        }
    }

    fn added(&self, name: &HeaderName) -> bool {
        self.extra.iter().any(|(n, _)| n == name)
    }

    /// Every header, in the order it goes out.
    pub fn iter(&self) -> impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)> + 'a {
        let this = *self;
        self.map
            .iter()
            .filter(move |(n, _)| !(this.skip)(n) && !this.added(n))
            .chain(self.extra.iter().map(|(n, v)| (n, v)))
    }

    /// The values of header `name`.
    pub fn values(&self, name: &HeaderName) -> impl Iterator<Item = &'a HeaderValue> + 'a {
        let name = name.clone();
        let (mine, extra) = if self.added(&name) || (self.skip)(&name) {
            (None, self.extra)
        } else {
            (Some(self.map.get_all(&name).iter()), &[][..])
        };
        mine.into_iter().flatten().chain(
            extra
                .iter()
                .filter(move |(n, _)| *n == name)
                .map(|(_, v)| v),
        )
    }
}

/// The request line and headers, in `out`; how the body goes out (hyper's rules: a body
/// with nothing in it sends no length of its own; a length the request states is kept; a
/// known length is stated; an unknown one is chunked, except for `GET`, `HEAD`).
pub fn request_head<B: HttpBody>(
    method: &Method,
    target: &str,
    authority: &str,
    headers: Headers<'_>,
    body: &B,
    out: &mut Vec<u8>,
) -> Framing {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let empty = body.is_end_stream();
    let coded = !empty && headers.values(&header::TRANSFER_ENCODING).next().is_some();
    let stated = headers
        .values(&header::CONTENT_LENGTH)
        .next()
        .and_then(|v| decimal(v.as_bytes()));
    if headers.values(&header::HOST).next().is_none() {
        put_header(out, &header::HOST, authority.as_bytes());
    }
    for (name, value) in headers.iter() {
        if *name == header::TRANSFER_ENCODING && (empty || !is_chunked(value.as_bytes())) {
            continue;
        }
        if *name == header::CONTENT_LENGTH && coded {
            continue;
        }
        put_header(out, name, value.as_bytes());
    }
    let framing = if empty {
        Framing::Length(0)
    } else if coded {
        if !headers
            .values(&header::TRANSFER_ENCODING)
            .any(|v| is_chunked(v.as_bytes()))
        {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        Framing::Chunked
    } else if let Some(n) = stated {
        Framing::Length(n)
    } else if let Some(n) = body.size_hint().exact() {
        put_length(out, n);
        Framing::Length(n)
    } else if matches!(*method, Method::GET | Method::HEAD | Method::CONNECT) {
        Framing::Length(0)
    } else {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        Framing::Chunked
    };
    out.extend_from_slice(b"\r\n");
    framing
}

/// Frames larger than this are written directly rather than copied behind the head.
const COPY_LIMIT: usize = 16 * 1024;

/// How a body goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
}

/// Writes what is in `out` (a message head) and then `body` with `framing`, flushing as
/// little as it can: a body whose data is at hand goes out in the same write as the head.
/// `Ok(false)` when the body broke the framing (more or less than its declared length) and
/// the connection must not be used again.
pub async fn write_body<T, B>(
    io: &mut T,
    body: &mut B,
    framing: Framing,
    out: &mut Vec<u8>,
) -> std::io::Result<bool>
where
    T: AsyncWrite + Unpin,
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut written: u64 = 0;
    let complete = match framing {
        Framing::Length(0) => true,
        Framing::Length(declared) => loop {
            match next_data(io, body, out).await? {
                Some(data) => {
                    written += data.len() as u64;
                    if written > declared {
                        break false;
                    }
                    put(io, out, &data).await?;
                    // All of it: the body's end is not waited for (its last poll is often
                    // a trip through every layer for nothing).
                    if written == declared {
                        break true;
                    }
                }
                None => break written == declared,
            }
        },
        Framing::Chunked => loop {
            match next_data(io, body, out).await? {
                Some(data) if data.is_empty() => {}
                Some(data) => {
                    out.extend_from_slice(format!("{:X}\r\n", data.len()).as_bytes());
                    put(io, out, &data).await?;
                    out.extend_from_slice(b"\r\n");
                }
                None => {
                    out.extend_from_slice(b"0\r\n\r\n");
                    break true;
                }
            }
        },
    };
    if !out.is_empty() {
        io.write_all(out).await?;
        out.clear();
    }
    Ok(complete)
}

/// Appends `data` to what is to be written, or writes both when `data` is large.
async fn put<T: AsyncWrite + Unpin>(
    io: &mut T,
    out: &mut Vec<u8>,
    data: &[u8],
) -> std::io::Result<()> {
    if data.len() > COPY_LIMIT {
        io.write_all(out).await?;
        out.clear();
        io.write_all(data).await
    } else {
        out.extend_from_slice(data);
        Ok(())
    }
}

/// The body's next piece of data (`None` at its end; trailers are not sent). What waits in
/// `out` is written first when the piece is not there yet.
async fn next_data<T, B>(
    io: &mut T,
    body: &mut B,
    out: &mut Vec<u8>,
) -> std::io::Result<Option<Bytes>>
where
    T: AsyncWrite + Unpin,
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let ready = Pin::new(&mut *body).poll_frame(&mut Context::from_waker(Waker::noop()));
        let polled = match ready {
            Poll::Ready(frame) => frame,
            Poll::Pending => {
                if !out.is_empty() {
                    io.write_all(out).await?;
                    out.clear();
                }
                poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
            }
        };
        match polled {
            None => return Ok(None),
            Some(Err(e)) => return Err(std::io::Error::other(e.into())),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Appends a header line, `name: value`.
pub fn put_header(out: &mut Vec<u8>, name: &http::HeaderName, value: &[u8]) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `content-length: n`.
pub fn put_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"content-length: ");
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Where `part` (a slice of `base`, as a parser hands back) lies in `base`.
pub fn span(base: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = part.as_ptr() as usize - base.as_ptr() as usize;
    start..start + part.len()
}

/// A `content-length` value: ASCII digits only.
pub fn decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 18 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Whether a comma-separated header value holds `token` (any case).
pub fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// The headers a `connection` value names (`connection: keep-alive, x-trace`): they belong
/// to that one connection too, and do not cross a proxy (RFC 9110 §7.6.1). `close` and
/// `keep-alive` are options, not names; a token that is no header name is ignored.
pub fn named_by_connection(value: &[u8], into: &mut Vec<HeaderName>) {
    for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
        if token.eq_ignore_ascii_case(b"close") || token.eq_ignore_ascii_case(b"keep-alive") {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(token) {
            into.push(name);
        }
    }
}

/// `map` without the headers its `connection` headers name, when they name any.
pub fn without_named(map: &HeaderMap) -> Option<HeaderMap> {
    let mut named = Vec::new();
    for value in map.get_all(header::CONNECTION) {
        named_by_connection(value.as_bytes(), &mut named);
    }
    if named.is_empty() {
        return None;
    }
    let mut map = map.clone();
    for name in &named {
        map.remove(name);
    }
    Some(map)
}

/// Whether a `transfer-encoding` value ends in `chunked`.
pub fn is_chunked(value: &[u8]) -> bool {
    value
        .rsplit(|b| *b == b',')
        .next()
        .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_value_rules() {
        assert_eq!(decimal(b"1024"), Some(1024));
        assert_eq!(decimal(b"+1"), None);
        assert_eq!(decimal(b""), None);
        assert!(has_token(b"keep-alive, Close", b"close"));
        assert!(!has_token(b"closed", b"close"));
        assert!(is_chunked(b"gzip, chunked"));
        assert!(!is_chunked(b"chunked, gzip"));
    }

    #[tokio::test]
    async fn bodies_are_written_with_their_framing() {
        let mut io = Vec::new();
        let mut out = b"HEAD\r\n\r\n".to_vec();
        let mut body = http_body_util::Full::new(Bytes::from_static(b"abc"));
        assert!(write_body(&mut io, &mut body, Framing::Chunked, &mut out)
            .await
            .unwrap());
        assert_eq!(io, b"HEAD\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        let mut io = Vec::new();
        let mut body = http_body_util::Full::new(Bytes::from_static(b"abc"));
        assert!(
            !write_body(&mut io, &mut body, Framing::Length(2), &mut out)
                .await
                .unwrap()
        );
    }
}
