//! Writes a response on an HTTP/1.1 connection the way hyper's server writes it (for the
//! requests [`super::h1`] serves itself, so that a client sees the same bytes whichever of the
//! two served it): the status line with its canonical reason, the headers in their order
//! (repeated `content-length`, `transfer-encoding` and `connection` values joined), the body's
//! framing (`content-length` when its length is known, else `transfer-encoding: chunked`;
//! none for 204 and 304), a `date` header unless there is one, then the body.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderName, Response, StatusCode};
use gatehouse_dataplane::h1::{self, decimal, has_token, is_chunked, Framing};
use tokio::io::AsyncWrite;

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
    let complete = h1::write_body(io, &mut body, framing, out).await?;
    Ok(keep_alive && complete)
}

/// Writes the status line and headers into `out`; the body's framing and whether the
/// connection stays open, or `None` when the headers contradict the body (hyper answers
/// those by closing the connection).
fn head(
    status: StatusCode,
    headers: &axum::http::HeaderMap,
    body: &Body,
    out: &mut Vec<u8>,
) -> Option<(Framing, bool)> {
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let bodyless = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
        || status.is_informational();
    let length = if body.is_end_stream() {
        Some(0)
    } else {
        body.size_hint().exact()
    };
    let mut framing = None;
    let mut keep_alive = true;
    let mut wrote_date = false;
    // A header whose values are joined on one line, while its line is open; and whether
    // `, chunked` must end it.
    let mut open: Option<(&HeaderName, bool)> = None;
    for (name, value) in headers {
        if let Some((open_name, chunked)) = open {
            if open_name == name {
                match *name {
                    header::CONTENT_LENGTH => {}
                    _ => {
                        out.extend_from_slice(b", ");
                        out.extend_from_slice(value.as_bytes());
                        if *name == header::TRANSFER_ENCODING {
                            open = Some((name, !is_chunked(value.as_bytes())));
                        } else if has_token(value.as_bytes(), b"close") {
                            keep_alive = false;
                        }
                    }
                }
                continue;
            }
            out.extend_from_slice(if chunked { b", chunked\r\n" } else { b"\r\n" });
            open = None;
        }
        match *name {
            header::CONTENT_LENGTH => {
                if framing.is_some() {
                    return None;
                }
                match length {
                    Some(0) if body.is_end_stream() => continue,
                    Some(n) => framing = Some(Framing::Length(n)),
                    None => framing = Some(Framing::Length(decimal(value.as_bytes())?)),
                }
                out.extend_from_slice(b"content-length: ");
                out.extend_from_slice(value.as_bytes());
                open = Some((name, false));
            }
            header::TRANSFER_ENCODING => {
                if framing.is_some() {
                    return None;
                }
                if bodyless {
                    continue;
                }
                framing = Some(Framing::Chunked);
                out.extend_from_slice(b"transfer-encoding: ");
                out.extend_from_slice(value.as_bytes());
                open = Some((name, !is_chunked(value.as_bytes())));
            }
            header::CONNECTION => {
                if has_token(value.as_bytes(), b"close") {
                    keep_alive = false;
                }
                out.extend_from_slice(b"connection: ");
                out.extend_from_slice(value.as_bytes());
                open = Some((name, false));
            }
            _ => {
                if *name == header::DATE {
                    wrote_date = true;
                }
                h1::put_header(out, name, value.as_bytes());
            }
        }
    }
    if let Some((_, chunked)) = open {
        out.extend_from_slice(if chunked { b", chunked\r\n" } else { b"\r\n" });
    }
    let framing = match framing {
        Some(framing) => framing,
        None if bodyless => Framing::Length(0),
        None => match length {
            Some(n) => {
                h1::put_length(out, n);
                Framing::Length(n)
            }
            None => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                Framing::Chunked
            }
        },
    };
    if !wrote_date {
        out.extend_from_slice(b"date: ");
        date(out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    let framing = if bodyless {
        Framing::Length(0)
    } else {
        framing
    };
    Some((framing, keep_alive))
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
    use axum::body::Bytes;
    use axum::http::HeaderValue;

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
        let mut resp = Response::new(Body::from("hello"));
        resp.headers_mut()
            .insert("x-a", HeaderValue::from_static("1"));
        assert_eq!(
            written(resp).await,
            (
                "HTTP/1.1 200 OK|x-a: 1|content-length: 5||hello".into(),
                true
            )
        );
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_FOUND;
        assert_eq!(
            written(resp).await,
            ("HTTP/1.1 404 Not Found|content-length: 0||".into(), true)
        );
        let mut resp = Response::new(Body::from("gone"));
        *resp.status_mut() = StatusCode::NO_CONTENT;
        assert_eq!(
            written(resp).await,
            ("HTTP/1.1 204 No Content||".into(), true)
        );
        let stream = futures_util::stream::iter([
            Ok::<_, std::io::Error>(Bytes::from_static(b"ab")),
            Ok(Bytes::from_static(b"c")),
        ]);
        let mut resp = Response::new(Body::from_stream(stream));
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
