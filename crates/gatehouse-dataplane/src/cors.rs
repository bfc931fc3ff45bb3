//! CORS from the API's configuration (frozen in the deployment): the gateway answers
//! preflight requests itself and sets the CORS headers on every response it sends, dropping
//! the backend's.

use bytes::Bytes;
use gatehouse_core::model::api::Cors;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::context::Incoming;

/// The origin the response may name: the request's `Origin` when the configuration allows
/// it (`*` when it allows every origin without credentials).
fn allowed_origin(cors: &Cors, origin: &str) -> Option<String> {
    let origins = cors.allow_origins.as_deref().unwrap_or_default();
    if origins.iter().any(|o| o == origin) {
        return Some(origin.to_string());
    }
    if origins.iter().any(|o| o == "*") {
        return Some(if cors.allow_credentials == Some(true) {
            origin.to_string()
        } else {
            "*".to_string()
        });
    }
    None
}

fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Whether the request is a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`).
pub fn is_preflight(incoming: &Incoming) -> bool {
    incoming.method == http::Method::OPTIONS
        && incoming.header("origin").is_some()
        && incoming.header("access-control-request-method").is_some()
}

/// The gateway's answer to a preflight: 204, with the allowed methods, headers and max age
/// when the origin is allowed (and no CORS headers when it is not).
pub fn preflight(cors: &Cors, incoming: &Incoming) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let origin = incoming.header("origin").unwrap_or("");
    let Some(allowed) = allowed_origin(cors, origin) else {
        return resp;
    };
    let h = resp.headers_mut();
    put(h, "access-control-allow-origin", &allowed);
    if let Some(m) = &cors.allow_methods {
        put(h, "access-control-allow-methods", &m.join(","));
    }
    if let Some(hs) = &cors.allow_headers {
        put(h, "access-control-allow-headers", &hs.join(","));
    }
    if let Some(age) = cors.max_age {
        put(h, "access-control-max-age", &age.to_string());
    }
    if cors.allow_credentials == Some(true) {
        put(h, "access-control-allow-credentials", "true");
    }
    put(h, "vary", "origin");
    resp
}

/// Replaces the response's CORS headers (the backend's are ignored) with the
/// configuration's, for a request from an allowed origin.
pub fn decorate<B>(cors: &Cors, incoming: &Incoming, resp: &mut Response<B>) {
    let h = resp.headers_mut();
    let stale: Vec<_> = h
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for k in stale {
        h.remove(k);
    }
    let Some(origin) = incoming.header("origin") else {
        return;
    };
    let Some(allowed) = allowed_origin(cors, origin) else {
        return;
    };
    put(h, "access-control-allow-origin", &allowed);
    if let Some(e) = &cors.expose_headers {
        put(h, "access-control-expose-headers", &e.join(","));
    }
    if cors.allow_credentials == Some(true) {
        put(h, "access-control-allow-credentials", "true");
    }
    put(h, "vary", "origin");
}
