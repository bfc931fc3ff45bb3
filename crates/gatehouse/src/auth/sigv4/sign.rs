//! Signing a request (for gatehouse's own client, `gatehouse deploy`), with the same
//! canonical request and signature the verifier computes.

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use super::canonical::{canonical_request, string_to_sign};
use super::verify::{signature, signing_key};
use super::{Presented, Request};

/// A key pair and where it signs.
pub struct Signer<'a> {
    /// Access key id.
    pub access_key: &'a str,
    /// Secret access key.
    pub secret: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service (`apigateway`).
    pub service: &'a str,
}

impl Signer<'_> {
    /// Adds `x-amz-date`, `x-amz-content-sha256` and `authorization` to `headers` (which
    /// must hold `host`) for a request at `amz_date` (`YYYYMMDDTHHMMSSZ`).
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &mut HeaderMap,
        body: &[u8],
        amz_date: &str,
    ) {
        let payload = hex(&Sha256::digest(body));
        for (name, value) in [
            ("x-amz-date", amz_date),
            ("x-amz-content-sha256", payload.as_str()),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        let date = &amz_date[..amz_date.len().min(8)];
        let credential = format!(
            "{}/{date}/{}/{}/aws4_request",
            self.access_key, self.region, self.service
        );
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let mut presented = Presented {
            credential: Cow::Owned(credential.clone()),
            access_key: Cow::Borrowed(self.access_key),
            date: Cow::Borrowed(date),
            region: Cow::Borrowed(self.region),
            service: Cow::Borrowed(self.service),
            signed_headers: Cow::Borrowed(signed_headers),
            signature: Cow::Borrowed(""),
            amz_date: Cow::Borrowed(amz_date),
            presigned: false,
            expires: None,
            security_token: None,
        };
        let req = Request {
            method,
            path,
            query,
            headers,
            body,
        };
        let canonical = canonical_request(&req, &presented);
        let key = signing_key(self.secret, date, self.region, self.service);
        let sig = signature(&key, &string_to_sign(&presented, &canonical));
        presented.signature = Cow::Owned(sig);
        let value = format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={}",
            presented.signature
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(http::header::AUTHORIZATION, v);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
