//! Who is calling, and where: the account and region a request acts in.
//!
//! The region is the one in the SigV4 credential scope (`Credential=AKID/DATE/REGION/...`,
//! from the `Authorization` header or a presigned URL's `X-Amz-Credential`). The account is
//! the access key id itself when that is 12 digits, and the default account otherwise.
//! Requests with no SigV4 information at all (`curl`) act in the default account and region.
//! Signatures are not verified yet. A malformed `Authorization` header is refused with API
//! Gateway's 403 `IncompleteSignatureException`.

use axum::http::HeaderMap;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::model::Scope;

/// Where requests without credentials act.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Default account id (12 digits).
    pub account: String,
    /// Default region.
    pub region: String,
}

fn incomplete(message: String) -> ApiError {
    ApiError::new(ErrorKind::IncompleteSignature, message)
}

/// The parts of a credential scope gatehouse uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Access key id.
    pub access_key: String,
    /// Region from the scope.
    pub region: String,
}

/// Parses `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`.
pub fn parse_credential(cred: &str) -> ApiResult<Credential> {
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
    Ok(Credential {
        access_key: parts[0].to_string(),
        region: parts[2].to_string(),
    })
}

/// Parses a SigV4 `Authorization` header far enough to find the credential.
pub fn parse_authorization(header: &str, headers: &HeaderMap) -> ApiResult<Credential> {
    let rest = header.split_once(' ').map(|(_, rest)| rest).unwrap_or("");
    let mut credential = None;
    let (mut signature, mut signed_headers) = (false, false);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match k {
            "Credential" => credential = Some(v),
            "Signature" => signature = true,
            "SignedHeaders" => signed_headers = true,
            _ => {}
        }
    }
    let has_date = headers.contains_key("x-amz-date") || headers.contains_key("date");
    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if !signature {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if !signed_headers {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if !has_date {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !header.starts_with("AWS4-HMAC-SHA256 ") && missing.is_empty() {
        missing.push_str("Unsupported signing algorithm; use AWS4-HMAC-SHA256. ");
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    }
    parse_credential(credential.unwrap_or_default())
}

/// The account an access key acts as: a 12-digit key is that account.
pub fn account_for(access_key: &str, defaults: &Defaults) -> String {
    if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
        access_key.to_string()
    } else {
        defaults.account.clone()
    }
}

/// Resolves the scope of a request from its headers and query.
pub fn resolve(
    headers: &HeaderMap,
    query: &[(String, String)],
    defaults: &Defaults,
) -> ApiResult<Scope> {
    let credential = if let Some(value) = headers.get("authorization") {
        let header = value.to_str().map_err(|_| {
            incomplete("Authorization header contains characters that are not visible ASCII".into())
        })?;
        Some(parse_authorization(header, headers)?)
    } else if let Some((_, cred)) = query.iter().find(|(k, _)| k == "X-Amz-Credential") {
        Some(parse_credential(cred)?)
    } else {
        None
    };
    Ok(match credential {
        Some(c) => Scope::new(account_for(&c.access_key, defaults), c.region),
        None => Scope::new(defaults.account.clone(), defaults.region.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", auth.parse().unwrap());
        h.insert("x-amz-date", "20260101T000000Z".parse().unwrap());
        h
    }

    #[test]
    fn scope_from_signed_request() {
        let h = headers("AWS4-HMAC-SHA256 Credential=210987654321/20260101/eu-west-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        assert_eq!(
            resolve(&h, &[], &defaults()).unwrap(),
            Scope::new("210987654321", "eu-west-1")
        );
        let h = headers("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/apigateway/aws4_request, SignedHeaders=host, Signature=abc");
        assert_eq!(
            resolve(&h, &[], &defaults()).unwrap(),
            Scope::new("123456789012", "us-west-2")
        );
        assert_eq!(
            resolve(&HeaderMap::new(), &[], &defaults()).unwrap(),
            Scope::new("123456789012", "us-east-1")
        );
    }

    #[test]
    fn malformed_headers_are_incomplete_signatures() {
        for bad in [
            "Bearer token",
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=x",
        ] {
            let e = resolve(&headers(bad), &[], &defaults()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::IncompleteSignature, "{bad}");
        }
    }
}
