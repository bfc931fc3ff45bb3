//! AWS Signature Version 4 as pure functions: what a request presents, its canonical form,
//! the string to sign, the signing key, and a constant-time check.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>
//!
//! As AWS SDKs sign a non-S3 service: the canonical URI is the (normalized) raw path
//! percent-encoded a second time; the payload hash is `x-amz-content-sha256` when sent and
//! the SHA-256 of the body otherwise; signed headers are exactly those the client listed.

use std::borrow::Cow;

use hmac::Hmac;
use http::{HeaderMap, HeaderName};
use sha2::Sha256;

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

impl<'a> Request<'a> {
    /// A request with no body, as its head `parts` say (gatehouse's own `GET` and `POST`
    /// endpoints).
    pub fn bodyless(parts: &'a http::request::Parts) -> Request<'a> {
        Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: b"",
        }
    }
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

mod canonical;
mod parse;
pub mod sign;
mod verify;

pub use canonical::{
    body_hash_is, canonical_request, normalize_path, sha256_hex, string_to_sign, uri_encode, Sink,
};
pub use parse::presented;
pub use verify::{signature, signature_matches, signature_matches_key, signing_key, SigningKey};

#[cfg(test)]
mod tests;
