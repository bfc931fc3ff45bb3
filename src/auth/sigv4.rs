//! AWS Signature Version 4 as pure functions: what a request presents, its canonical form,
//! the string to sign, the signing key, and a constant-time check.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>
//!
//! As AWS SDKs sign a non-S3 service: the canonical URI is the (normalized) raw path
//! percent-encoded a second time; the payload hash is `x-amz-content-sha256` when sent and
//! the SHA-256 of the body otherwise; signed headers are exactly those the client listed.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult, ErrorKind};

type HmacSha256 = Hmac<Sha256>;

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

/// The signature information a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// Access key id.
    pub access_key: String,
    /// Scope date, `YYYYMMDD`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// Signed header names, as listed.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// Presigned URL (query auth) rather than an `Authorization` header.
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned URL, seconds.
    pub expires: Option<i64>,
    /// `x-amz-security-token`, if sent.
    pub security_token: Option<String>,
}

impl Presented {
    /// `DATE/REGION/SERVICE/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

fn incomplete(message: String) -> ApiError {
    ApiError::new(ErrorKind::IncompleteSignature, message)
}

/// Parses `AKID/YYYYMMDD/REGION/SERVICE/aws4_request` into (key, date, region, service).
pub fn parse_credential(cred: &str) -> ApiResult<(String, String, String, String)> {
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() != 5 || parts.iter().any(|p| p.is_empty()) {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{cred}'"
        )));
    }
    if parts[4] != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            parts[4]
        )));
    }
    if !parts[2]
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            parts[2]
        )));
    }
    Ok((
        parts[0].to_string(),
        parts[1].to_string(),
        parts[2].to_string(),
        parts[3].to_string(),
    ))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
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
pub fn presented(headers: &HeaderMap, query: Option<&str>) -> ApiResult<Option<Presented>> {
    if let Some(value) = headers.get("authorization") {
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
    let (access_key, date, region, service) = parse_credential(&credential)?;
    Ok(Some(Presented {
        access_key,
        date,
        region,
        service,
        signed_headers: get("X-Amz-SignedHeaders")
            .unwrap_or_default()
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: get("X-Amz-Signature").unwrap_or_default(),
        amz_date: get("X-Amz-Date").unwrap_or_default(),
        presigned: true,
        expires,
        security_token: get("X-Amz-Security-Token"),
    }))
}

/// Parses a SigV4 `Authorization` header, with API Gateway's messages for what is missing.
fn parse_authorization(header: &str, headers: &HeaderMap) -> ApiResult<Presented> {
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
    let amz_date = header_str(headers, "x-amz-date");
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
    if amz_date.is_none() && !headers.contains_key("date") {
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
    let (access_key, date, region, service) = parse_credential(credential.unwrap_or_default())?;
    Ok(Presented {
        access_key,
        date,
        region,
        service,
        signed_headers: signed_headers
            .unwrap_or_default()
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: signature.unwrap_or_default().to_string(),
        amz_date: amz_date
            .or_else(|| header_str(headers, "date"))
            .unwrap_or_default()
            .to_string(),
        presigned: false,
        expires: None,
        security_token: header_str(headers, "x-amz-security-token").map(str::to_string),
    })
}

/// RFC 3986 percent-encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` (and `/` when
/// `keep_slash`), upper-case hex.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
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

fn canonical_header_value(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// The payload hash the signature covers.
pub fn payload_hash(req: &Request<'_>) -> String {
    match header_str(req.headers, "x-amz-content-sha256") {
        Some(h) => h.to_string(),
        None => sha256_hex(req.body),
    }
}

/// The canonical request.
pub fn canonical_request(req: &Request<'_>, p: &Presented) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&uri_encode(&normalize_path(req.path), true));
    out.push('\n');
    out.push_str(&canonical_query(req.query, p.presigned));
    out.push('\n');
    for name in &p.signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(req.headers, name));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&p.signed_headers.join(";"));
    out.push('\n');
    out.push_str(&payload_hash(req));
    out
}

/// The string to sign.
pub fn string_to_sign(p: &Presented, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        p.amz_date,
        p.scope(),
        sha256_hex(canonical_request.as_bytes())
    )
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

/// Whether `p.signature` is the request's signature under `secret`, compared in constant
/// time.
pub fn signature_matches(req: &Request<'_>, p: &Presented, secret: &str) -> bool {
    let key = signing_key(secret, &p.date, &p.region, &p.service);
    signature_matches_key(req, p, &key)
}

/// Like [`signature_matches`] with the signing key already derived.
pub fn signature_matches_key(req: &Request<'_>, p: &Presented, key: &[u8; 32]) -> bool {
    let sts = string_to_sign(p, &canonical_request(req, p));
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(sts.as_bytes());
    match decode_hex(&p.signature) {
        Some(sig) => mac.verify_slice(&sig).is_ok(),
        None => false,
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
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
}
