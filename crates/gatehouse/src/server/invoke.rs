//! The invoke front: a request to a deployed stage (an invoke URL or a custom domain name)
//! goes to the data plane with its body still unread. A declared length over 10 MB (AWS's
//! payload limit) is 413 at once; a request line and header values over AWS's 10,240 bytes,
//! 431. The data plane logs one line per request once its answer has gone out.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use gatehouse_dataplane::context::Incoming;
use gatehouse_dataplane::gateway::GatewayError;
use gatehouse_dataplane::limits::{self, MAX_BODY, MAX_HEAD};
use gatehouse_dataplane::Target;
use gatehouse_http::body::{self, Body};
use gatehouse_http::server::request::OriginalNames;
use gatehouse_http::server::Peer;
use http::{Request, Response};
use http_body::Body as _;

use super::app::App;

/// The data plane's `{"message":"Not Found"}` for a request to `path` no API could serve,
/// logged with the reason `why`.
pub fn not_found(method: &http::Method, path: &str, why: &str) -> Response<Body> {
    let answer = GatewayError::NotFound.response().map(body::full);
    refused(method, path, &answer, why);
    answer
}

/// The server's log line for a request the gateway refused before the data plane saw it.
fn refused(method: &http::Method, path: &str, answer: &Response<Body>, why: &str) {
    tracing::info!(
        %method,
        path,
        status = answer.status().as_u16(),
        reason = why,
        "invoke refused"
    );
}

/// Serves `req`, an invoke request for `target`, on the data plane.
pub async fn answer(
    app: &App,
    mut target: Target,
    req: Request<Body>,
    peer: &Peer,
) -> Response<Body> {
    let (mut parts, request_body) = req.into_parts();
    if let Some((error, why)) = too_large(&parts, &request_body) {
        let answer = error.response().map(body::full);
        refused(&parts.method, parts.uri.path(), &answer, why);
        return answer;
    }
    let incoming = Incoming {
        method: parts.method,
        path: std::mem::take(&mut target.path),
        uri: parts.uri,
        headers: parts.headers,
        body: Default::default(),
        source_ip: peer.ip_text(),
        protocol: "HTTP/1.1",
        header_names: parts
            .extensions
            .remove::<OriginalNames>()
            .map(|names| names.0)
            .unwrap_or_default(),
    };
    let stream = if request_body.is_end_stream() {
        body::empty()
    } else {
        request_body
    };
    let answer = match AssertUnwindSafe(app.dataplane.serve(target, incoming, stream))
        .catch_unwind()
        .await
    {
        Ok(answer) => answer.map(body::boxed),
        Err(_) => {
            tracing::error!("data plane handler panicked");
            GatewayError::Internal.response().map(body::full)
        }
    };
    let (mut parts, answer) = answer.into_parts();
    // A backend's HTTP/1.0 answer goes out as this connection's HTTP/1.1.
    parts.version = http::Version::HTTP_11;
    Response::from_parts(parts, answer)
}

/// The gateway's refusal of a request too large to serve, judged by its head alone.
fn too_large(
    parts: &http::request::Parts,
    request_body: &Body,
) -> Option<(GatewayError, &'static str)> {
    // (A body read whole, or one hyper frames by its content-length, knows its length.)
    let declared = request_body.size_hint().exact().or_else(|| {
        parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    });
    if limits::head_size(&parts.method, &parts.uri, &parts.headers) > MAX_HEAD {
        Some((GatewayError::HeadersTooLarge, limits::OVER_HEAD_LIMIT))
    } else if declared.is_some_and(|n| n > MAX_BODY as u64) {
        Some((GatewayError::TooLarge, limits::OVER_PAYLOAD_LIMIT))
    } else {
        None
    }
}
