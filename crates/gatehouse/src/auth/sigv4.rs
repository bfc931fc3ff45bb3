//! AWS Signature Version 4 as pure functions: what a request presents, its canonical form,
//! the string to sign, the signing key, and a constant-time check.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>
//!
//! As AWS SDKs sign a non-S3 service: the canonical URI is the (normalized) raw path
//! percent-encoded a second time; the payload hash is `x-amz-content-sha256` when sent and
//! the SHA-256 of the body otherwise; signed headers are exactly those the client listed.

use std::borrow::Cow;

use axum::http::header::{AUTHORIZATION, DATE};
use axum::http::{HeaderMap, HeaderName};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};

type HmacSha256 = Hmac<Sha256>;

// Header names looked up on every signed request, made once (a `&str` name is parsed and
// validated on each look-up).
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
/// `x-amz-content-sha256`.
pub const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

/// The only algorithm SigV4 uses.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request as the verifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The raw (still percent-encoded) path.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// All headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

/// The signature information a request carries. Borrowed from the request's headers when
/// it is signed in the `Authorization` header (no copies on the hot path); owned when it
/// comes percent-decoded from a presigned URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented<'a> {
    /// The whole `Credential` value, `AKID/DATE/REGION/SERVICE/aws4_request`.
    pub credential: Cow<'a, str>,
    /// Access key id.
    pub access_key: Cow<'a, str>,
    /// Scope date, `YYYYMMDD`.
    pub date: Cow<'a, str>,
    /// Scope region.
    pub region: Cow<'a, str>,
    /// Scope service.
    pub service: Cow<'a, str>,
    /// Signed header names, `;`-separated, as listed.
    pub signed_headers: Cow<'a, str>,
    /// Hex signature.
    pub signature: Cow<'a, str>,
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: Cow<'a, str>,
    /// Presigned URL (query auth) rather than an `Authorization` header.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned URL, seconds.
    pub expires: Option<i64>,
    /// `x-amz-security-token`, if sent.
    pub security_token: Option<Cow<'a, str>>,
}

impl Presented<'_> {
    /// Writes the scope, `DATE/REGION/SERVICE/aws4_request`.
    fn write_scope(&self, out: &mut impl Sink) {
        for part in [
            &*self.date,
            "/",
            &self.region,
            "/",
            &self.service,
            "/aws4_request",
        ] {
            out.put(part.as_bytes());
        }
    }

    /// The signed header names, in the order listed.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }
}

fn incomplete(message: String) -> ApiError {
    ApiError::new(ErrorKind::IncompleteSignature, message)
}

/// The parts of a `Credential` value.
struct CredentialParts<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

fn wrong_count(cred: &str) -> ApiError {
    incomplete(format!(
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{cred}'"
    ))
}

/// Splits `AKID/YYYYMMDD/REGION/SERVICE/aws4_request` into its parts.
fn split_credential(cred: &str) -> ApiResult<CredentialParts<'_>> {
    let mut it = cred.split('/');
    let parts = [it.next(), it.next(), it.next(), it.next(), it.next()];
    let [Some(access_key), Some(date), Some(region), Some(service), Some(term)] = parts else {
        return Err(wrong_count(cred));
    };
    if it.next().is_some() || [access_key, date, region, service, term].contains(&"") {
        return Err(wrong_count(cred));
    }
    if term != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{term}'."
        )));
    }
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        )));
    }
    Ok(CredentialParts {
        access_key,
        date,
        region,
        service,
    })
}

fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Raw query pairs, percent-decoded (`+` is kept literally, as the signers encode it).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// What the request presents: `None` when it carries no SigV4 information at all.
pub fn presented<'a>(
    headers: &'a HeaderMap,
    query: Option<&str>,
) -> ApiResult<Option<Presented<'a>>> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let header = value.to_str().map_err(|_| {
            incomplete("Authorization header contains characters that are not visible ASCII".into())
        })?;
        return parse_authorization(header, headers).map(Some);
    }
    let pairs = query_pairs(query);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(credential) = get("X-Amz-Credential") else {
        return Ok(None);
    };
    let mut missing = String::new();
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ] {
        if get(name).is_none() {
            missing.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    }
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'; use {ALGORITHM}."
        )));
    }
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(e) => match e.parse::<i64>() {
            Ok(n) if (1..=604_800).contains(&n) => Some(n),
            _ => {
                return Err(incomplete(format!(
                    "X-Amz-Expires must be a number of seconds between 1 and 604800 (a week), got '{e}'"
                )))
            }
        },
    };
    let parts = split_credential(&credential)?;
    let owned = |s: &str| Cow::Owned(s.to_string());
    Ok(Some(Presented {
        access_key: owned(parts.access_key),
        date: owned(parts.date),
        region: owned(parts.region),
        service: owned(parts.service),
        signed_headers: get("X-Amz-SignedHeaders").unwrap_or_default().into(),
        signature: get("X-Amz-Signature").unwrap_or_default().into(),
        amz_date: get("X-Amz-Date").unwrap_or_default().into(),
        presigned: true,
        expires,
        security_token: get("X-Amz-Security-Token").map(Cow::Owned),
        credential: Cow::Owned(credential),
    }))
}

/// Parses a SigV4 `Authorization` header, with API Gateway's messages for what is missing.
fn parse_authorization<'a>(header: &'a str, headers: &'a HeaderMap) -> ApiResult<Presented<'a>> {
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut credential = None;
    let mut signature = None;
    let mut signed_headers = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match k {
            "Credential" => credential = Some(v),
            "Signature" => signature = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            _ => {}
        }
    }
    let amz_date = header_str(headers, &X_AMZ_DATE);
    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if amz_date.is_none() && !headers.contains_key(DATE) {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    }
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported Authorization Type: '{algorithm}'; use {ALGORITHM}."
        )));
    }
    let credential = credential.unwrap_or_default();
    let parts = split_credential(credential)?;
    Ok(Presented {
        credential: credential.into(),
        access_key: parts.access_key.into(),
        date: parts.date.into(),
        region: parts.region.into(),
        service: parts.service.into(),
        signed_headers: signed_headers.unwrap_or_default().into(),
        signature: signature.unwrap_or_default().into(),
        amz_date: amz_date
            .or_else(|| header_str(headers, &DATE))
            .unwrap_or_default()
            .into(),
        presigned: false,
        expires: None,
        security_token: header_str(headers, &X_AMZ_SECURITY_TOKEN).map(Cow::Borrowed),
    })
}

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
fn put_canonical_path(path: &str, out: &mut impl Sink) {
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

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX_LOWER[(b >> 4) as usize] as char);
        out.push(HEX_LOWER[(b & 15) as usize] as char);
    }
    out
}

/// SHA-256 of an empty body, hex: what every GET and DELETE signs.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
fn put_canonical_request(req: &Request<'_>, p: &Presented<'_>, out: &mut impl Sink) {
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
fn put_string_to_sign(p: &Presented<'_>, creq_hash: &[u8; 32], out: &mut impl Sink) {
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

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key for a secret and scope.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// The hex signature of `string_to_sign` under `key`.
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex(&hmac(key, string_to_sign.as_bytes()))
}

/// A derived signing key, ready to sign: HMAC-SHA256 keyed once (its padded key blocks
/// already hashed) and cloned for each request.
#[derive(Clone)]
pub struct SigningKey(HmacSha256);

impl SigningKey {
    /// Wraps a key from [`signing_key`].
    pub fn new(key: &[u8; 32]) -> SigningKey {
        // HMAC pads a key shorter than the hash's 64-byte block with zeros.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        SigningKey(<HmacSha256 as Mac>::new(&block.into()))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Whether `p.signature` is the request's signature under `secret`, compared in constant
/// time.
pub fn signature_matches(req: &Request<'_>, p: &Presented<'_>, secret: &str) -> bool {
    let key = signing_key(secret, &p.date, &p.region, &p.service);
    signature_matches_key(req, p, &SigningKey::new(&key))
}

/// Like [`signature_matches`] with the signing key already derived. The canonical request
/// and the string to sign are streamed into their hashes, never built.
pub fn signature_matches_key(req: &Request<'_>, p: &Presented<'_>, key: &SigningKey) -> bool {
    let Some(presented) = decode_hex32(&p.signature) else {
        return false;
    };
    let mut creq = Sha256::new();
    put_canonical_request(req, p, &mut creq);
    let mut mac = key.0.clone();
    put_string_to_sign(p, &creq.finalize().into(), &mut mac);
    mac.verify_slice(&presented).is_ok()
}

/// A 64-digit hex signature as its 32 bytes.
fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_normalizes_like_the_sdks() {
        assert_eq!(
            uri_encode("/v2/apis/x/stages/%24default", true),
            "/v2/apis/x/stages/%2524default"
        );
        assert_eq!(uri_encode("a b+c~", false), "a%20b%2Bc~");
        assert_eq!(normalize_path("/./example"), "/example");
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn streamed_canonical_path_is_the_encoded_normalized_path() {
        for path in [
            "",
            "/",
            "//",
            "/.",
            "/a/.",
            "/a/",
            "a/b",
            "/a//b/",
            "/./x",
            "/a/../b",
            "/a/b/../..",
            "/v2/apis/x/stages/%24default",
            "/with space/é",
            "/a/.../b",
        ] {
            let mut out = Vec::new();
            put_canonical_path(path, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                uri_encode(&normalize_path(path), true),
                "{path:?}"
            );
        }
    }

    #[test]
    fn signatures_decode_only_as_64_hex_digits() {
        assert_eq!(decode_hex32(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_hex32(&"AB".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_hex32(&"ab".repeat(31)), None);
        assert_eq!(decode_hex32(&"zz".repeat(32)), None);
        assert!(body_hash_is(b"", EMPTY_SHA256));
        assert_eq!(sha256_hex(b""), EMPTY_SHA256);
        assert!(body_hash_is(b"{}", &sha256_hex(b"{}")));
        assert!(!body_hash_is(b"{}", EMPTY_SHA256));
    }
}
