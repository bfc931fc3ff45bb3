//! AWS's size limits for HTTP APIs.

/// The payload limit: 10 MB, each way.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Why a body over [`MAX_BODY`] is refused, for the server's log line.
pub const OVER_PAYLOAD_LIMIT: &str = "the body is over AWS's 10 MB payload limit";

/// Why a head over [`MAX_HEAD`] is refused, for the server's log line.
pub const OVER_HEAD_LIMIT: &str = "the request line and headers are over AWS's 10,240 bytes";

/// The limit on the request line and the header values of a request, together.
pub const MAX_HEAD: usize = 10_240;

/// The size [`MAX_HEAD`] counts: the request line (`GET /path?query HTTP/1.1`) and every
/// header value.
pub fn head_size(method: &http::Method, uri: &http::Uri, headers: &http::HeaderMap) -> usize {
    let line = method.as_str().len()
        + uri.path_and_query().map_or(1, |p| p.as_str().len())
        + " HTTP/1.1".len()
        + 1;
    line + headers.values().map(|v| v.len()).sum::<usize>()
}
