//! The canonical request and the string to sign, streamed into a hash (or a buffer, to
//! show them) as the AWS SDKs build them for a non-S3 service.

use hmac::Mac;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use super::{
    header_str, query_pairs, HmacSha256, Presented, Request, ALGORITHM, X_AMZ_CONTENT_SHA256,
};

/// Where canonical text goes: a buffer (to show it) or straight into a hash (to verify it
/// without building it).
pub trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for HmacSha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

fn unreserved(b: u8, keep_slash: bool) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/')
}

/// Writes `s` percent-encoded as SigV4 wants it (see [`uri_encode`]), a run of unreserved
/// bytes at a time.
fn put_encoded(s: &str, keep_slash: bool, out: &mut impl Sink) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !unreserved(b, keep_slash) {
            out.put(&bytes[run..i]);
            out.put(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            run = i + 1;
        }
    }
    out.put(&bytes[run..]);
}

/// RFC 3986 percent-encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` (and `/` when
/// `keep_slash`), upper-case hex.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = Vec::with_capacity(s.len() + 8);
    put_encoded(s, keep_slash, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Removes `.` and `..` segments and empty segments (keeping a trailing `/`), as the SDKs
/// normalize before signing.
pub fn normalize_path(path: &str) -> String {
    let mut segs: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let mut out = format!("/{}", segs.join("/"));
    if path.ends_with('/') && out != "/" {
        out.push('/');
    }
    out
}

/// The canonical URI: the normalized path, encoded. Without `..` segments (all real
/// requests) it is written segment by segment, with nothing allocated.
pub(super) fn put_canonical_path(path: &str, out: &mut impl Sink) {
    if path.split('/').any(|s| s == "..") {
        put_encoded(&normalize_path(path), true, out);
        return;
    }
    let mut wrote = false;
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        out.put(b"/");
        put_encoded(seg, true, out);
        wrote = true;
    }
    if !wrote || path.ends_with('/') {
        out.put(b"/");
    }
}

fn canonical_query(query: Option<&str>, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header's canonical value: each value trimmed with inner runs of whitespace made one
/// space, several values joined with `,`.
fn put_canonical_header_value(headers: &HeaderMap, name: &str, out: &mut impl Sink) {
    for (i, v) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        let bytes = v.as_bytes();
        if bytes.iter().all(u8::is_ascii_graphic) {
            out.put(bytes);
            continue;
        }
        for (j, word) in String::from_utf8_lossy(bytes)
            .split_whitespace()
            .enumerate()
        {
            if j > 0 {
                out.put(b" ");
            }
            out.put(word.as_bytes());
        }
    }
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

fn hex_into(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX_LOWER[(b >> 4) as usize];
        out[2 * i + 1] = HEX_LOWER[(b & 15) as usize];
    }
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX_LOWER[(b >> 4) as usize] as char);
        out.push(HEX_LOWER[(b & 15) as usize] as char);
    }
    out
}

/// SHA-256 of an empty body, hex: what every GET and DELETE signs.
pub(super) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Writes the hex SHA-256 of `body`.
fn put_body_hash(body: &[u8], out: &mut impl Sink) {
    if body.is_empty() {
        out.put(EMPTY_SHA256.as_bytes());
    } else {
        out.put(&hex_into(&Sha256::digest(body).into()));
    }
}

/// Whether `claimed` (an `x-amz-content-sha256` value) is the hex SHA-256 of `body`.
pub fn body_hash_is(body: &[u8], claimed: &str) -> bool {
    if body.is_empty() {
        claimed == EMPTY_SHA256
    } else {
        claimed.as_bytes() == hex_into(&Sha256::digest(body).into())
    }
}

/// Writes the payload hash the signature covers.
fn put_payload_hash(req: &Request<'_>, out: &mut impl Sink) {
    match header_str(req.headers, &X_AMZ_CONTENT_SHA256) {
        Some(h) => out.put(h.as_bytes()),
        None => put_body_hash(req.body, out),
    }
}

/// Writes the canonical request.
pub(super) fn put_canonical_request(req: &Request<'_>, p: &Presented<'_>, out: &mut impl Sink) {
    out.put(req.method.as_bytes());
    out.put(b"\n");
    put_canonical_path(req.path, out);
    out.put(b"\n");
    if req.query.is_some_and(|q| !q.is_empty()) {
        out.put(canonical_query(req.query, p.presigned).as_bytes());
    }
    out.put(b"\n");
    for name in p.signed_header_names() {
        out.put(name.as_bytes());
        out.put(b":");
        put_canonical_header_value(req.headers, name, out);
        out.put(b"\n");
    }
    out.put(b"\n");
    out.put(p.signed_headers.as_bytes());
    out.put(b"\n");
    put_payload_hash(req, out);
}

/// The canonical request.
pub fn canonical_request(req: &Request<'_>, p: &Presented<'_>) -> String {
    let mut out = Vec::with_capacity(256);
    put_canonical_request(req, p, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the string to sign for a canonical request with SHA-256 `creq_hash`.
pub(super) fn put_string_to_sign(p: &Presented<'_>, creq_hash: &[u8; 32], out: &mut impl Sink) {
    out.put(ALGORITHM.as_bytes());
    out.put(b"\n");
    out.put(p.amz_date.as_bytes());
    out.put(b"\n");
    p.write_scope(out);
    out.put(b"\n");
    out.put(&hex_into(creq_hash));
}

/// The string to sign.
pub fn string_to_sign(p: &Presented<'_>, canonical_request: &str) -> String {
    let mut out = Vec::with_capacity(128);
    put_string_to_sign(p, &Sha256::digest(canonical_request).into(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
