//! Reading a request head on the plain path: HTTP/1.1, no body or one of a declared length
//! up to [`INLINE_BODY`], no `Transfer-Encoding` or `Expect`, a `Connection` of `keep-alive`
//! (or, with an `Upgrade` header, one that names `upgrade`), not `HEAD` or `CONNECT`.
//! Anything else is [`Parsed::Other`]: hyper's.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};

use crate::body::{self, Body};
use crate::framing;

/// The largest request body read here whole; a longer one is streamed by hyper.
pub const INLINE_BODY: usize = 64 * 1024;

/// The longest request head parsed here; a longer one goes to hyper (and its limits).
pub const MAX_HEAD: usize = 16 * 1024;

/// The most header lines parsed here (hyper's own limit is 100).
const MAX_HEADERS: usize = 64;

/// The header names of an upgrade request as the client wrote them, in order (an
/// extension of the request: a gateway passes them on in their own case).
#[derive(Debug, Clone)]
pub struct OriginalNames(pub Vec<Bytes>);

/// What the start of a buffer holds.
pub enum Parsed {
    /// A whole request head this path serves.
    Plain(Head),
    /// Not yet a whole head.
    Partial,
    /// Anything else: hyper's.
    Other,
}

/// Where a parsed head's parts lie in the buffer.
pub struct Head {
    /// The head's length (through the blank line).
    pub len: usize,
    /// The declared body length.
    pub body: usize,
    /// Whether the request asks to switch protocols (`Upgrade`, `Connection: upgrade`).
    pub upgrade: bool,
    method: std::ops::Range<usize>,
    target: std::ops::Range<usize>,
    headers: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

/// What the headers seen so far say about how the request is framed and carried.
#[derive(Default)]
struct Carried {
    body: Option<usize>,
    upgrade: bool,
    connection_upgrade: bool,
}

impl Carried {
    /// Notes one header; `false` when it makes the request hyper's.
    fn note(&mut self, name: &[u8], value: &[u8]) -> bool {
        if name.eq_ignore_ascii_case(b"content-length") {
            match (self.body, framing::decimal(value)) {
                (None, Some(n)) if n <= INLINE_BODY as u64 => self.body = Some(n as usize),
                _ => return false,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"expect")
        {
            return false;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.upgrade = true;
        } else if name.eq_ignore_ascii_case(b"connection")
            && !value.eq_ignore_ascii_case(b"keep-alive")
        {
            if !framing::has_token(value, b"upgrade") || framing::has_token(value, b"close") {
                return false;
            }
            self.connection_upgrade = true;
        }
        true
    }
}

/// Parses the request head at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed {
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
    let mut carried = Carried::default();
    let mut headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if !carried.note(name, h.value) {
            return Parsed::Other;
        }
        headers.push((framing::span(buf, name), framing::span(buf, h.value)));
    }
    // An `Upgrade` without `Connection: upgrade`, or the other way round, is hyper's to judge.
    if carried.upgrade != carried.connection_upgrade {
        return Parsed::Other;
    }
    Parsed::Plain(Head {
        len,
        body: carried.body.unwrap_or(0),
        upgrade: carried.upgrade,
        method: framing::span(buf, method.as_bytes()),
        target: framing::span(buf, target.as_bytes()),
        headers,
    })
}

impl Head {
    /// The request, its parts shared with `read` (which starts with this head); `None` when
    /// a part is not valid as `http` types have it (hyper answers those).
    pub fn request(&self, read: &Bytes) -> Option<Request<Body>> {
        let method = Method::from_bytes(&read[self.method.clone()]).ok()?;
        let uri = Uri::from_maybe_shared(read.slice(self.target.clone())).ok()?;
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(&read[name.clone()]).ok()?;
            let value = HeaderValue::from_maybe_shared(read.slice(value.clone())).ok()?;
            headers.append(name, value);
        }
        let body = if self.body == 0 {
            body::empty()
        } else {
            body::full(read.slice(self.len..self.len + self.body))
        };
        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = headers;
        if self.upgrade {
            let names = self.headers.iter().map(|(n, _)| read.slice(n.clone()));
            req.extensions_mut().insert(OriginalNames(names.collect()));
        }
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
    fn upgrade_requests_are_read_here_with_their_names_as_written() {
        for (text, last) in [
            (
                "GET /chat HTTP/1.1\r\nHost: x\r\nconnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                "Upgrade",
            ),
            (
                "GET /chat HTTP/1.1\r\nconnection: keep-alive, Upgrade\r\nupgrade: websocket\r\n\r\n",
                "upgrade",
            ),
        ] {
            let read = Bytes::copy_from_slice(text.as_bytes());
            let Parsed::Plain(head) = parse(&read) else {
                panic!("{text:?} is not read here");
            };
            assert!(head.upgrade, "{text:?}");
            let req = head.request(&read).unwrap();
            let names = &req.extensions().get::<OriginalNames>().unwrap().0;
            assert_eq!(names.last().map(|n| n.as_ref()), Some(last.as_bytes()));
        }
        let plain = plain("GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert!(plain.extensions().get::<OriginalNames>().is_none());
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
            "GET / HTTP/1.1\r\nconnection: close, upgrade\r\nupgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nconnection: upgrade\r\n\r\n",
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
