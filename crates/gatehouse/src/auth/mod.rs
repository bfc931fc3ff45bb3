//! Who is calling, and where: the account and region a request acts in.
//!
//! The region is the one in the SigV4 credential scope (the `Authorization` header or a
//! presigned URL's `X-Amz-Credential`).
//!
//! - **open** mode (the default, for local use): signatures are not checked. The account is
//!   the access key id when that is 12 digits, and the default account otherwise. Requests
//!   with no SigV4 information at all (`curl`) act in the default account and region.
//! - **strict** mode: every request must be signed with a key from the credentials file,
//!   which names its account; otherwise it is refused with API Gateway's 403 errors before
//!   any operation runs.
//!
//! A malformed `Authorization` header is refused with 403 `IncompleteSignatureException` in
//! both modes.

pub mod credentials;
pub mod sigv4;

use std::collections::HashMap;
use std::sync::Mutex;

use credentials::Credentials;
use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::time::{amz_date, parse_amz_date};
use gatehouse_core::model::Scope;
use sigv4::{Presented, Request};

/// The signing name of API Gateway (V1 and V2).
pub const SERVICE: &str = "apigateway";
/// The SigV4 service name of invoke requests to `AWS_IAM` routes.
pub const INVOKE_SERVICE: &str = "execute-api";

/// How far a request's date may be from the server's clock (AWS: 5 minutes).
pub const MAX_SKEW_SECS: i64 = 300;

/// Where requests without credentials act.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Default account id (12 digits).
    pub account: String,
    /// Default region.
    pub region: String,
}

/// The authentication mode.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Any key is accepted; the signature is not checked.
    Open,
    /// Only keys in the credentials file, with valid signatures.
    Strict(Credentials),
}

/// Resolves each request's caller.
#[derive(Debug)]
pub struct Authenticator {
    /// The mode.
    pub mode: Mode,
    /// Defaults for open mode.
    pub defaults: Defaults,
    /// Derived signing keys by credential scope (`AKID/DATE/REGION/SERVICE/aws4_request`;
    /// each access key has one secret): a key is valid for a day, and deriving it costs
    /// four HMACs.
    keys: Mutex<HashMap<String, sigv4::SigningKey>>,
}

/// The account an access key acts as in open mode: a 12-digit key is that account.
pub fn account_for(access_key: &str, defaults: &Defaults) -> String {
    if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) {
        access_key.to_string()
    } else {
        defaults.account.clone()
    }
}

fn deny(kind: ErrorKind, message: impl Into<String>) -> ApiError {
    ApiError::new(kind, message)
}

const BAD_TOKEN: &str = "The security token included in the request is invalid.";
const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl Authenticator {
    /// An authenticator for `mode`.
    pub fn new(mode: Mode, defaults: Defaults) -> Authenticator {
        Authenticator {
            mode,
            defaults,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Open mode with `defaults`.
    pub fn open(defaults: Defaults) -> Authenticator {
        Self::new(Mode::Open, defaults)
    }

    fn signing_key(&self, p: &Presented, secret: &str) -> sigv4::SigningKey {
        if let Some(key) = self
            .keys
            .lock()
            .ok()
            .and_then(|m| m.get(&*p.credential).cloned())
        {
            return key;
        }
        let key =
            sigv4::SigningKey::new(&sigv4::signing_key(secret, &p.date, &p.region, &p.service));
        if let Ok(mut m) = self.keys.lock() {
            if m.len() >= 4096 {
                m.clear();
            }
            m.insert(p.credential.to_string(), key.clone());
        }
        key
    }

    /// Whether `req` may use gatehouse's administrative endpoints (state reset): anyone in
    /// open mode; in strict mode only a verified request signed with a credential marked
    /// `admin = true`.
    pub fn authorize_admin(&self, req: &Request<'_>, now: i64) -> ApiResult<()> {
        let Mode::Strict(creds) = &self.mode else {
            return Ok(());
        };
        self.authenticate(req, now)?;
        let admin = sigv4::presented(req.headers, req.query)?
            .and_then(|p| creds.get(&p.access_key))
            .is_some_and(|c| c.admin);
        if admin {
            Ok(())
        } else {
            Err(deny(
                ErrorKind::AccessDenied,
                "This endpoint needs a credential marked admin = true in strict mode",
            ))
        }
    }

    /// Whether `req` may read what `owner` owns (none when nothing was found): anyone in
    /// open mode; in strict mode a request signed by `owner` or with an admin credential,
    /// else 403 `AccessDeniedException` saying `denied`.
    pub fn owner_or_admin(
        &self,
        req: &Request<'_>,
        owner: Option<&str>,
        denied: &str,
        now: i64,
    ) -> ApiResult<()> {
        let Mode::Strict(_) = &self.mode else {
            return Ok(());
        };
        let allowed = self.authorize_admin(req, now).is_ok()
            || self
                .authenticate(req, now)
                .is_ok_and(|scope| Some(scope.account.as_str()) == owner);
        match allowed {
            true => Ok(()),
            false => Err(deny(ErrorKind::AccessDenied, denied)),
        }
    }

    /// The scope `req` acts in, or the 403 that refuses it. `now` is seconds since the epoch.
    pub fn authenticate(&self, req: &Request<'_>, now: i64) -> ApiResult<Scope> {
        let presented = sigv4::presented(req.headers, req.query)?;
        match (&self.mode, presented) {
            (Mode::Open, None) => Ok(Scope::new(
                self.defaults.account.clone(),
                self.defaults.region.clone(),
            )),
            (Mode::Open, Some(p)) => Ok(Scope::new(
                account_for(&p.access_key, &self.defaults),
                p.region.into_owned(),
            )),
            (Mode::Strict(_), None) => Err(deny(
                ErrorKind::MissingAuthenticationToken,
                "Missing Authentication Token",
            )),
            (Mode::Strict(creds), Some(p)) => self.verify(creds, req, &p, now, SERVICE),
        }
    }

    /// The account that signed an invoke request to an `AWS_IAM` route (service
    /// `execute-api`): in strict mode the signature is verified against the credentials; in
    /// open mode any well-formed signature is taken at its word. No signature is a refusal.
    pub fn authenticate_invoke(&self, req: &Request<'_>, now: i64) -> ApiResult<Scope> {
        let presented = sigv4::presented(req.headers, req.query)?.ok_or_else(|| {
            deny(
                ErrorKind::MissingAuthenticationToken,
                "Missing Authentication Token",
            )
        })?;
        match &self.mode {
            Mode::Open => Ok(Scope::new(
                account_for(&presented.access_key, &self.defaults),
                presented.region.into_owned(),
            )),
            Mode::Strict(creds) => self.verify(creds, req, &presented, now, INVOKE_SERVICE),
        }
    }
}

fn check_time(p: &Presented, now: i64) -> ApiResult<()> {
    let Some(t) = parse_amz_date(&p.amz_date) else {
        return Err(deny(
            ErrorKind::IncompleteSignature,
            format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                p.amz_date
            ),
        ));
    };
    if !p.amz_date.starts_with(&*p.date) {
        return Err(deny(
            ErrorKind::InvalidSignature,
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                p.date,
                p.amz_date.get(..8).unwrap_or(""),
                p.amz_date
            ),
        ));
    }
    if t > now + MAX_SKEW_SECS {
        return Err(deny(
            ErrorKind::InvalidSignature,
            format!(
                "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                p.amz_date,
                amz_date(now + MAX_SKEW_SECS),
                amz_date(now)
            ),
        ));
    }
    let oldest = match p.expires {
        Some(expires) => now - expires,
        None => now - MAX_SKEW_SECS,
    };
    if t < oldest {
        let why = match p.expires {
            Some(e) => format!("({} - {e} sec.)", amz_date(now)),
            None => format!("({} - 5 min.)", amz_date(now)),
        };
        return Err(deny(
            ErrorKind::InvalidSignature,
            format!(
                "Signature expired: {} is now earlier than {} {why}",
                p.amz_date,
                amz_date(oldest)
            ),
        ));
    }
    Ok(())
}

impl Authenticator {
    fn verify(
        &self,
        creds: &Credentials,
        req: &Request<'_>,
        p: &Presented,
        now: i64,
        service: &str,
    ) -> ApiResult<Scope> {
        if p.service != service {
            return Err(deny(
                ErrorKind::InvalidSignature,
                format!("Credential should be scoped to correct service: '{service}'. "),
            ));
        }
        if !p.signed_header_names().any(|h| h == "host") {
            return Err(deny(
                ErrorKind::IncompleteSignature,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        let Some(cred) = creds.get(&p.access_key) else {
            return Err(deny(ErrorKind::UnrecognizedClient, BAD_TOKEN));
        };
        if cred.session_token.as_deref() != p.security_token.as_deref() {
            return Err(deny(ErrorKind::UnrecognizedClient, BAD_TOKEN));
        }
        check_time(p, now)?;
        if let Some(claimed) = req
            .headers
            .get(sigv4::X_AMZ_CONTENT_SHA256)
            .and_then(|v| v.to_str().ok())
        {
            if claimed != "UNSIGNED-PAYLOAD" && !sigv4::body_hash_is(req.body, claimed) {
                return Err(deny(
                    ErrorKind::InvalidSignature,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
        }
        // The service is checked above, so the cached key (by key, date, region) is for it.
        let key = self.signing_key(p, &cred.secret_access_key);
        if !sigv4::signature_matches_key(req, p, &key) {
            return Err(deny(ErrorKind::InvalidSignature, BAD_SIGNATURE));
        }
        Ok(Scope::new(cred.account_id.clone(), p.region.to_string()))
    }
}

/// `AWS_IAM` routes on the data plane: the request's `execute-api` signature, checked as
/// [`Authenticator::authenticate_invoke`] checks it.
impl gatehouse_dataplane::IamCheck for Authenticator {
    fn caller(&self, incoming: &gatehouse_dataplane::context::Incoming) -> Result<String, String> {
        let req = Request {
            method: incoming.method.as_str(),
            path: incoming.uri_path(),
            query: incoming.query(),
            headers: &incoming.headers,
            body: &incoming.body,
        };
        self.authenticate_invoke(&req, gatehouse_core::model::time::now())
            .map(|scope| scope.account)
            .map_err(|e| e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

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

    fn resolve(h: &HeaderMap) -> ApiResult<Scope> {
        let req = Request {
            method: "GET",
            path: "/v2/apis",
            query: None,
            headers: h,
            body: b"",
        };
        Authenticator::open(defaults()).authenticate(&req, 0)
    }

    #[test]
    fn open_mode_scope_from_signed_request() {
        let h = headers("AWS4-HMAC-SHA256 Credential=210987654321/20260101/eu-west-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        assert_eq!(
            resolve(&h).unwrap(),
            Scope::new("210987654321", "eu-west-1")
        );
        let h = headers("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/apigateway/aws4_request, SignedHeaders=host, Signature=abc");
        assert_eq!(
            resolve(&h).unwrap(),
            Scope::new("123456789012", "us-west-2")
        );
        assert_eq!(
            resolve(&HeaderMap::new()).unwrap(),
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
            let e = resolve(&headers(bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::IncompleteSignature, "{bad}");
        }
    }
}
