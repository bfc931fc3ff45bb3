//! JWT authorizers, verified for real: the token from the identity source (`Bearer ` prefix
//! optional), keys from the issuer's OpenID discovery document and JWKS (cached per issuer,
//! fetched again for an unknown `kid`), RSA signatures only, `iss`, `aud` (or `client_id`
//! when there is no `aud`), `exp`, `nbf`, `iat`, and the route's scopes. Issuers on plain
//! `http://` work too (a local identity provider, a test's own issuer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use gatehouse_core::model::authorizer::Authorizer;
use gatehouse_http::body;
use gatehouse_http::client::HttpClient;

use super::jws::{self, RsaKey};
use crate::context::{query_pairs, Incoming};
use crate::gateway::{not_served, refuse, GatewayError, Refusal};

/// How long fetched keys are trusted before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one issuer's keys (an unknown `kid` refetches).
const REFETCH_AFTER: Duration = Duration::from_secs(10);
/// AWS's timeout for each discovery and JWKS request.
const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// 401 with `www-authenticate` (the header's value).
    Unauthorized(String),
    /// 403: the token lacks every scope the route asks for (`www-authenticate` value).
    Forbidden(String),
}

fn invalid(description: &str) -> Refused {
    Refused::Unauthorized(format!(
        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{description}\""
    ))
}

/// A JWT authorizer's configuration.
pub struct Config<'a> {
    /// `jwtConfiguration.issuer`.
    pub issuer: &'a str,
    /// `jwtConfiguration.audience`.
    pub audience: &'a [String],
    /// `identitySource` (its first entry).
    pub identity_source: &'a str,
    /// The route's `authorizationScopes`.
    pub scopes: &'a [String],
}

/// Verified claims and the scopes the token carries.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The token's claims.
    pub claims: Arc<serde_json::Map<String, Value>>,
    /// Its scopes (`scope` split on spaces, or `scp`).
    pub scopes: Vec<String>,
}

/// Keys per issuer.
#[derive(Default)]
pub struct Keys {
    cache: Mutex<HashMap<String, Arc<IssuerKeys>>>,
}

/// One issuer's RSA keys, decoded once when fetched, by `kid`; and the tokens whose
/// signatures they verified, with their claims (a client sends the same token until it
/// expires: its signature is checked once per fetch of the keys; the time, issuer,
/// audience and scope checks run on every request).
struct IssuerKeys {
    at: Instant,
    keys: Vec<RsaKey>,
    verified: Mutex<HashMap<String, Arc<Claims>>>,
}

type Claims = serde_json::Map<String, Value>;

/// Most verified tokens remembered per issuer; when full, the memory starts over.
const VERIFIED_TOKENS: usize = 10_000;

impl IssuerKeys {
    fn find(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// The token the identity source names, `Bearer ` removed.
pub fn token<'a>(
    incoming: &'a Incoming,
    source: &str,
    query: &'a [(String, String)],
) -> Option<&'a str> {
    let raw = if let Some(name) = source.strip_prefix("$request.header.") {
        incoming.header(&name.to_ascii_lowercase())
    } else if let Some(name) = source.strip_prefix("$request.querystring.") {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    } else {
        None
    }?;
    let raw = raw.trim();
    let token = match raw.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => raw[7..].trim(),
        _ => raw,
    };
    (!token.is_empty()).then_some(token)
}

async fn fetch_json(client: &HttpClient, url: &str) -> Result<Value, String> {
    let mut req = http::Request::new(body::full(Bytes::new()));
    *req.uri_mut() = url.parse().map_err(|_| format!("invalid URL {url}"))?;
    let resp = client
        .call(req, FETCH_TIMEOUT)
        .await
        .map_err(|e| format!("cannot fetch {url}: {e:?}"))?;
    if !resp.status().is_success() {
        return Err(format!("{url} answered {}", resp.status()));
    }
    serde_json::from_slice(resp.body()).map_err(|_| format!("{url} did not answer JSON"))
}

impl Keys {
    /// Verifies the JWT of a request to a route with `authorizer`, a JWT authorizer, and
    /// the route's `scopes`: its claims and scopes, or the 401/403 answer with its
    /// `www-authenticate`.
    pub async fn authorize(
        &self,
        client: &HttpClient,
        authorizer: &Authorizer,
        scopes: &[String],
        incoming: &Incoming,
    ) -> Result<Verified, Refusal> {
        let jwt_config = authorizer.jwt_configuration.as_ref().ok_or_else(|| {
            refuse(
                GatewayError::Internal,
                "the JWT authorizer has no configuration",
            )
        })?;
        let config = Config {
            issuer: jwt_config.issuer.as_deref().unwrap_or(""),
            audience: jwt_config.audience.as_deref().unwrap_or_default(),
            identity_source: authorizer
                .identity_source
                .as_ref()
                .and_then(|s| s.first())
                .map_or("$request.header.Authorization", String::as_str),
            scopes,
        };
        let (error, challenge) = match self.verify(client, &config, incoming).await {
            Ok(v) => return Ok(v),
            Err(Refused::Unauthorized(challenge)) => (GatewayError::Unauthorized, challenge),
            Err(Refused::Forbidden(challenge)) => (GatewayError::Forbidden, challenge),
        };
        Err(Refusal {
            challenge: Some(challenge.clone()),
            ..not_served(
                error,
                format!("the JWT authorizer refused the token: {challenge}"),
            )
        })
    }

    async fn fetch(&self, client: &HttpClient, issuer: &str) -> Result<IssuerKeys, String> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = fetch_json(client, &discovery).await?;
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{discovery} has no jwks_uri"))?;
        let jwks = fetch_json(client, jwks_uri).await?;
        let listed = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{jwks_uri} is not a JWKS"))?;
        // Keys that are not RSA keys, or have no kid, can never verify a token here.
        let keys = listed.iter().filter_map(RsaKey::from_jwk).collect();
        Ok(IssuerKeys {
            at: Instant::now(),
            keys,
            verified: Mutex::default(),
        })
    }

    /// The issuer's keys; fetched when missing, stale, or (at most every few seconds) when
    /// `kid` is not among them.
    async fn keys(
        &self,
        client: &HttpClient,
        issuer: &str,
        kid: &str,
    ) -> Result<Arc<IssuerKeys>, String> {
        let cached = self.cache.lock().ok().and_then(|c| c.get(issuer).cloned());
        if let Some(set) = cached {
            let fresh = set.at.elapsed() < KEYS_TTL;
            let knows = set.find(kid).is_some();
            if fresh && (knows || set.at.elapsed() < REFETCH_AFTER) {
                return Ok(set);
            }
        }
        let set = Arc::new(self.fetch(client, issuer).await?);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(issuer.to_string(), set.clone());
        }
        Ok(set)
    }

    /// Verifies the request's token against `config`.
    pub async fn verify(
        &self,
        client: &HttpClient,
        config: &Config<'_>,
        incoming: &Incoming,
    ) -> Result<Verified, Refused> {
        let query = query_pairs(incoming.query());
        let token = token(incoming, config.identity_source, &query)
            .ok_or_else(|| Refused::Unauthorized("Bearer".into()))?;
        let claims = match self.remembered(config.issuer, token) {
            Some(claims) => claims,
            None => self.check_signature(client, config.issuer, token).await?,
        };
        let now = gatehouse_core::model::time::now() as f64;
        let scopes = judge(&claims, config, now)?;
        Ok(Verified { claims, scopes })
    }

    /// The claims of `token` if the issuer's current keys already verified its signature.
    fn remembered(&self, issuer: &str, token: &str) -> Option<Arc<Claims>> {
        let keys = self.cache.lock().ok()?.get(issuer).cloned()?;
        if keys.at.elapsed() >= KEYS_TTL {
            return None;
        }
        let verified = keys.verified.lock().ok()?;
        verified.get(token).cloned()
    }

    /// Verifies `token`'s signature with the issuer's keys (fetched if needed) and returns
    /// its claims, remembered for the next request that sends it.
    async fn check_signature(
        &self,
        client: &HttpClient,
        issuer: &str,
        token: &str,
    ) -> Result<Arc<Claims>, Refused> {
        let parsed = jws::parse(token).ok_or_else(|| invalid("the token could not be decoded"))?;
        if !jws::is_rsa(&parsed.alg) {
            return Err(invalid("the token is not signed with an RSA algorithm"));
        }
        let kid = parsed
            .kid
            .as_deref()
            .ok_or_else(|| invalid("the token has no key id (kid)"))?;
        let keys = self.keys(client, issuer, kid).await.map_err(|why| {
            tracing::warn!(issuer, %why, "cannot fetch the issuer's keys");
            invalid("the issuer's signing keys could not be fetched")
        })?;
        let key = keys
            .find(kid)
            .ok_or_else(|| invalid("the token's kid does not match any RSA key of the issuer"))?;
        // The signature only: the time and claim checks are the caller's, on every request.
        if !parsed.signed_by(key) {
            return Err(invalid("the token signature is invalid"));
        }
        let claims = parsed
            .claims()
            .ok_or_else(|| invalid("the token is not valid"))?;
        let claims = Arc::new(claims);
        if let Ok(mut verified) = keys.verified.lock() {
            if verified.len() >= VERIFIED_TOKENS {
                verified.clear();
            }
            verified.insert(token.to_string(), claims.clone());
        }
        Ok(claims)
    }
}

/// The checks every request's token passes, remembered or not, at time `now` (seconds):
/// `exp` (required), `nbf`, `iss`, `iat`, the audience and the route's scopes. The token's
/// scopes when it passes.
fn judge(claims: &Claims, config: &Config<'_>, now: f64) -> Result<Vec<String>, Refused> {
    match claims.get("exp").map(Value::as_f64) {
        None => return Err(invalid("the token has no expiry (exp)")),
        Some(None) => return Err(invalid("the token is not valid")),
        Some(Some(exp)) if exp < now => return Err(invalid("the token has expired")),
        Some(Some(_)) => {}
    }
    if claims
        .get("nbf")
        .and_then(Value::as_f64)
        .is_some_and(|nbf| nbf > now)
    {
        return Err(invalid("the token is not valid yet"));
    }
    if claims.get("iss").and_then(Value::as_str) != Some(config.issuer) {
        return Err(invalid("the token does not have a valid issuer"));
    }
    if claims
        .get("iat")
        .and_then(Value::as_f64)
        .is_some_and(|iat| iat > now)
    {
        return Err(invalid("the token was issued in the future"));
    }
    let audiences: Vec<String> = match claims.get("aud").or_else(|| claims.get("client_id")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if !audiences.iter().any(|a| config.audience.contains(a)) {
        return Err(invalid("the token does not have a valid audience"));
    }
    let scopes: Vec<String> = match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if !config.scopes.is_empty() && !config.scopes.iter().any(|s| scopes.contains(s)) {
        return Err(Refused::Forbidden(format!(
            "Bearer scope=\"{}\" error=\"insufficient_scope\" error_description=\"expected scopes: [{}]\"",
            config.scopes.join(" "),
            config.scopes.join(" ")
        )));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_claims_are_judged_again_on_every_request() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "iss": "http://issuer", "aud": ["a", "b"], "exp": 100, "nbf": 50,
            "scope": "read write",
        }))
        .unwrap();
        let (aud, read, admin) = (
            vec!["b".to_string()],
            vec!["read".to_string()],
            vec!["admin".to_string()],
        );
        let config = |scopes| Config {
            issuer: "http://issuer",
            audience: &aud,
            identity_source: "$request.header.Authorization",
            scopes,
        };
        assert_eq!(
            judge(&claims, &config(&read), 99.0).unwrap(),
            ["read", "write"]
        );
        let expired = judge(&claims, &config(&read), 101.0).unwrap_err();
        assert!(matches!(&expired, Refused::Unauthorized(t) if t.contains("has expired")));
        let early = judge(&claims, &config(&read), 49.0).unwrap_err();
        assert!(matches!(&early, Refused::Unauthorized(t) if t.contains("not valid yet")));
        assert!(matches!(
            judge(&claims, &config(&admin), 99.0),
            Err(Refused::Forbidden(_))
        ));
        let other = Config {
            issuer: "http://other",
            ..config(&read)
        };
        assert!(judge(&claims, &other, 99.0).is_err());
    }
}
