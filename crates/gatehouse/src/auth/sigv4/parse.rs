//! What a request presents: the `Authorization` header or a presigned URL's query, parsed
//! into its parts; a malformed one is API Gateway's `IncompleteSignatureException`.

use std::borrow::Cow;

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use http::header::{AUTHORIZATION, DATE};
use http::HeaderMap;

use super::{header_str, query_pairs, Presented, ALGORITHM, X_AMZ_DATE, X_AMZ_SECURITY_TOKEN};

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
