//! Writes a response on an HTTP/1.1 connection the way hyper's server writes it (for the
//! requests [`super::conn`] serves itself, so that a client sees the same bytes whichever of the
//! two served it): the status line with its canonical reason, the headers in their order
//! (repeated `content-length`, `transfer-encoding` and `connection` values joined), the body's
//! framing (`content-length` when its length is known, else `transfer-encoding: chunked`;
//! none for 204 and 304), a `date` header unless there is one, then the body.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body::Body as _;
use tokio::io::AsyncWrite;

use crate::body::Body;
use crate::framing::{self, decimal, has_token, is_chunked, Framing};

/// Writes `resp` (`out` is scratch space kept across requests); `Ok(true)` when the
/// connection may carry another request.
pub async fn write<T: AsyncWrite + Unpin>(
    io: &mut T,
    resp: Response<Body>,
    out: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let (parts, mut body) = resp.into_parts();
    out.clear();
    let Some((framing, keep_alive)) = head(parts.status, &parts.headers, &body, out) else {
        return Ok(false);
    };
    let complete = framing::write_body(io, &mut body, framing, out).await?;
    Ok(keep_alive && complete)
}

/// Writes the status line and headers into `out`; the body's framing and whether the
/// connection stays open, or `None` when the headers contradict the body (hyper answers
/// those by closing the connection).
fn head(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Body,
    out: &mut Vec<u8>,
) -> Option<(Framing, bool)> {
    status_line(status, out);
    let bodyless = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
        || status.is_informational();
    let length = if body.is_end_stream() {
        Some(0)
    } else {
        body.size_hint().exact()
    };
    let mut lines = Lines {
        out,
        bodyless,
        length,
        empty: body.is_end_stream(),
        framing: None,
        keep_alive: true,
        wrote_date: false,
        open: None,
    };
    for (name, value) in headers {
        lines.header(name, value)?;
    }
    lines.close_open();
    let framing = lines.framing();
    if !lines.wrote_date {
        lines.out.extend_from_slice(b"date: ");
        date(lines.out);
        lines.out.extend_from_slice(b"\r\n");
    }
    lines.out.extend_from_slice(b"\r\n");
    let framing = if bodyless {
        Framing::Length(0)
    } else {
        framing
    };
    Some((framing, lines.keep_alive))
}

/// `HTTP/1.1 {code} {reason}`.
fn status_line(status: StatusCode, out: &mut Vec<u8>) {
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The header lines as they are written, and what they say about the body and connection.
struct Lines<'a, 'h> {
    out: &'a mut Vec<u8>,
    /// Whether the status allows no body.
    bodyless: bool,
    /// The body's length, when known.
    length: Option<u64>,
    /// Whether the body has nothing in it.
    empty: bool,
    framing: Option<Framing>,
    keep_alive: bool,
    wrote_date: bool,
    /// A header whose values are joined on one line, while its line is open; and whether
    /// `, chunked` must end it.
    open: Option<(&'h HeaderName, bool)>,
}

impl<'h> Lines<'_, 'h> {
    /// Writes one header (or joins its value to the open line); `None` when it contradicts
    /// the body.
    fn header(&mut self, name: &'h HeaderName, value: &HeaderValue) -> Option<()> {
        if let Some((open_name, _)) = self.open {
            if open_name == name {
                self.join(name, value);
                return Some(());
            }
            self.close_open();
        }
        match *name {
            header::CONTENT_LENGTH => self.content_length(name, value)?,
            header::TRANSFER_ENCODING => {
                if self.framing.is_some() {
                    return None;
                }
                if !self.bodyless {
                    self.framing = Some(Framing::Chunked);
                    self.out.extend_from_slice(b"transfer-encoding: ");
                    self.out.extend_from_slice(value.as_bytes());
                    self.open = Some((name, !is_chunked(value.as_bytes())));
                }
            }
            header::CONNECTION => {
                if has_token(value.as_bytes(), b"close") {
                    self.keep_alive = false;
                }
                self.out.extend_from_slice(b"connection: ");
                self.out.extend_from_slice(value.as_bytes());
                self.open = Some((name, false));
            }
            _ => {
                if *name == header::DATE {
                    self.wrote_date = true;
                }
                framing::put_header(self.out, name, value.as_bytes());
            }
        }
        Some(())
    }

    /// A `content-length` line: the body's own length when it knows it.
    fn content_length(&mut self, name: &'h HeaderName, value: &HeaderValue) -> Option<()> {
        if self.framing.is_some() {
            return None;
        }
        match self.length {
            Some(0) if self.empty => return Some(()),
            Some(n) => self.framing = Some(Framing::Length(n)),
            None => self.framing = Some(Framing::Length(decimal(value.as_bytes())?)),
        }
        self.out.extend_from_slice(b"content-length: ");
        self.out.extend_from_slice(value.as_bytes());
        self.open = Some((name, false));
        Some(())
    }

    /// Another value of the header whose line is open (a repeated `content-length` is
    /// written once).
    fn join(&mut self, name: &'h HeaderName, value: &HeaderValue) {
        if *name == header::CONTENT_LENGTH {
            return;
        }
        self.out.extend_from_slice(b", ");
        self.out.extend_from_slice(value.as_bytes());
        if *name == header::TRANSFER_ENCODING {
            self.open = Some((name, !is_chunked(value.as_bytes())));
        } else if has_token(value.as_bytes(), b"close") {
            self.keep_alive = false;
        }
    }

    /// Ends the open line, if any.
    fn close_open(&mut self) {
        if let Some((_, chunked)) = self.open.take() {
            self.out
                .extend_from_slice(if chunked { b", chunked\r\n" } else { b"\r\n" });
        }
    }

    /// The body's framing: what the headers said, else its length, else chunked.
    fn framing(&mut self) -> Framing {
        match self.framing {
            Some(framing) => framing,
            None if self.bodyless => Framing::Length(0),
            None => match self.length {
                Some(n) => {
                    framing::put_length(self.out, n);
                    Framing::Length(n)
                }
                None => {
                    self.out
                        .extend_from_slice(b"transfer-encoding: chunked\r\n");
                    Framing::Chunked
                }
            },
        }
    }
}

thread_local! {
    /// The current second's `date` value, written once a second per thread.
    static DATE: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

/// Appends the current time as an HTTP date (`Tue, 01 Dec 2026 23:59:59 GMT`).
fn date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != second || cached.1.is_empty() {
            *cached = (second, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(cached.1.as_bytes());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body;
    use bytes::Bytes;

    async fn written(resp: Response<Body>) -> (String, bool) {
        let mut io = Vec::new();
        let mut out = Vec::new();
        let keep = write(&mut io, resp, &mut out).await.unwrap();
        let text = String::from_utf8(io).unwrap();
        // The date changes; the rest is compared.
        let text = text
            .split("\r\n")
            .filter(|l| !l.starts_with("date: "))
            .collect::<Vec<_>>()
            .join("|");
        (text, keep)
    }

    #[tokio::test]
    async fn responses_are_framed_as_hyper_frames_them() {
        let mut resp = Response::new(body::full(Bytes::from_static(b"hello")));
        resp.headers_mut()
            .insert("x-a", HeaderValue::from_static("1"));
        assert_eq!(
            written(resp).await,
            (
                "HTTP/1.1 200 OK|x-a: 1|content-length: 5||hello".into(),
                true
            )
        );
        let mut resp = Response::new(body::empty());
        *resp.status_mut() = StatusCode::NOT_FOUND;
        assert_eq!(
            written(resp).await,
            ("HTTP/1.1 404 Not Found|content-length: 0||".into(), true)
        );
        let mut resp = Response::new(body::full(Bytes::from_static(b"gone")));
        *resp.status_mut() = StatusCode::NO_CONTENT;
        assert_eq!(
            written(resp).await,
            ("HTTP/1.1 204 No Content||".into(), true)
        );
        let (mut tx, rx) = http_body_util::channel::Channel::<Bytes, body::BoxError>::new(2);
        tx.send_data(Bytes::from_static(b"ab")).await.unwrap();
        tx.send_data(Bytes::from_static(b"c")).await.unwrap();
        drop(tx);
        let mut resp = Response::new(body::boxed(rx));
        resp.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
        assert_eq!(
            written(resp).await,
            (
                "HTTP/1.1 200 OK|connection: close|transfer-encoding: chunked||2|ab|1|c|0||".into(),
                false
            )
        );
    }

    #[test]
    fn dates_are_http_dates() {
        let mut out = Vec::new();
        date(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(httpdate::parse_http_date(&text).is_ok(), "{text}");
    }
}
