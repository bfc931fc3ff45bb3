//! The request pipeline: every request, whatever it is, goes through [`handle`]. Load
//! shedding, then gatehouse's own endpoints, the body limit, authentication, routing to an
//! operation, throttling, injected faults, and the operation; then the response with its
//! request id, the metrics and one log line.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::FutureExt;
use gatehouse_core::compat::Rule;
use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::{ids, time, Scope};

use gatehouse_dataplane::context::Incoming;
use gatehouse_dataplane::gateway::GatewayError;

use super::app::App;
use super::metrics::Rejection;
use super::net::Peer;
use super::{admin, response};
use crate::api::{router, Operation};
use crate::auth::sigv4;
use crate::guards::faults::{self, FaultAction};
use crate::ops::{self, Ctx, Input, Reply};
use crate::wire;

/// Answers one request from `peer`: an invoke request (a `{apiId}.execute-api.…` host, a path under
/// `/_aws/execute-api/`, or the host of a stored custom domain name outside the management
/// API's paths) goes to the data plane, everything else to the management API.
pub async fn handle(app: &App, req: Request, peer: &Peer) -> Response {
    // (The path form names the API whatever the host: the host is not read for it.)
    let path = req.uri().path();
    let by_path = path.starts_with(gatehouse_dataplane::target::PATH_PREFIX);
    let by_host = (!by_path).then(|| host(&req)).flatten();
    let mut target = gatehouse_dataplane::target(by_host, path);
    if target.is_none() && by_path {
        // A path-form URL whose API id cannot be one: no API, as the data plane says it.
        return not_found();
    }
    // A custom domain name's host (never for the management API's own paths).
    // (Here the path is not the path form's, so `by_host` is the request's host.)
    if target.is_none()
        && (app.invoke_only || (!path.starts_with("/v2/") && !admin::is_admin_path(path)))
    {
        if let Some(host) = by_host {
            let host = host.to_string();
            target = app.dataplane.domain_target(&host, req.uri().path()).await;
        }
    }
    // One call site: each would hold a data-plane future of its own in this one's.
    if let Some(target) = target {
        return invoke(app, target, req, peer).await;
    }
    if app.invoke_only {
        // The invoke listener serves nothing else; a host that names no API finds none.
        return not_found();
    }
    let started = Instant::now();
    let request_id = ids::request_id();
    let method = req.method().clone();
    // For the log line after the request is consumed (a Uri clone shares its bytes).
    let uri = req.uri().clone();
    // Load shedding: beyond the concurrency cap, answer 503 at once instead of queueing.
    let permit = app.permits.try_acquire();
    // A bug must never take the connection down without an answer: a panic becomes a 500.
    let outcome = match permit {
        // Boxed: an operation's future is large, and held inline it would make every
        // request's future (invoke requests' too) as large.
        Ok(_permit) => {
            AssertUnwindSafe(Box::pin(dispatch(app, req)))
                .catch_unwind()
                .await
        }
        Err(_) => {
            app.metrics.reject(Rejection::LoadShed);
            Ok(Dispatched::refused(ApiError::new(
                ErrorKind::ServiceUnavailable,
                "Too many concurrent requests; please retry",
            )))
        }
    };
    let mut error = None;
    let (mut response, op, scope) = match outcome {
        Ok(Dispatched { answer, op, scope }) => match answer {
            Ok((status, reply)) => (response::reply(status, reply), op, scope),
            Err(e) => {
                error = Some(e.kind);
                (response::error(e), op, scope)
            }
        },
        Err(_) => {
            tracing::error!(request_id = %request_id, "request handler panicked");
            error = Some(ErrorKind::Internal);
            (
                response::error(ApiError::internal("Internal server error")),
                None,
                None,
            )
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids::random_id(16)) {
        headers.insert("x-amz-apigw-id", v);
    }
    let latency = started.elapsed();
    if !admin::is_admin_path(uri.path()) {
        app.metrics.record(op, error, latency);
    }
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %uri.path(),
        operation = op.map(Operation::name).unwrap_or_default(),
        account = scope.as_ref().map(|s| s.account.as_str()).unwrap_or(""),
        region = scope.as_ref().map(|s| s.region.as_str()).unwrap_or(""),
        status = response.status().as_u16(),
        latency_us = latency.as_micros() as u64,
        "request"
    );
    response
}

/// The data plane's `{"message":"Not Found"}`.
fn not_found() -> Response {
    let (parts, body) = GatewayError::NotFound.response().into_parts();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The request's `Host`.
fn host(req: &Request) -> Option<&str> {
    req.headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
}

/// Serves an invoke request on the data plane. The body goes to the data plane as it
/// arrives (a declared length over 10 MB, AWS's payload limit, is 413 at once; a request line
/// and header values over AWS's 10,240 bytes, 431). The data plane logs one line per request
/// once its answer has gone out.
async fn invoke(
    app: &App,
    mut target: gatehouse_dataplane::Target,
    req: Request,
    peer: &Peer,
) -> Response {
    use gatehouse_dataplane::body;
    use hyper::body::Body as _;
    let (parts, request_body) = req.into_parts();
    // (A body read whole, or one hyper frames by its content-length, knows its length.)
    let declared = request_body.size_hint().exact().or_else(|| {
        parts
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    });
    let refused = if body::head_size(&parts.method, &parts.uri, &parts.headers) > body::MAX_HEAD {
        Some(GatewayError::HeadersTooLarge)
    } else if declared.is_some_and(|n| n > body::MAX_BODY as u64) {
        Some(GatewayError::TooLarge)
    } else {
        None
    };
    let answer = if let Some(error) = refused {
        let answer = error.response().map(body::full);
        tracing::info!(
            method = %parts.method,
            path = %parts.uri.path(),
            status = answer.status().as_u16(),
            "invoke"
        );
        answer.map(axum::body::Body::new)
    } else {
        let incoming = Incoming {
            method: parts.method,
            path: std::mem::take(&mut target.path),
            uri: parts.uri,
            headers: parts.headers,
            body: Default::default(),
            source_ip: peer.ip_text(),
            protocol: "HTTP/1.1",
        };
        let stream = if request_body.is_end_stream() {
            body::empty()
        } else {
            body::boxed(request_body)
        };
        match AssertUnwindSafe(app.dataplane.serve(target, incoming, stream))
            .catch_unwind()
            .await
        {
            Ok(answer) => answer.map(axum::body::Body::new),
            Err(_) => {
                tracing::error!("data plane handler panicked");
                GatewayError::Internal
                    .response()
                    .map(axum::body::Body::from)
            }
        }
    };
    let (mut parts, answer) = answer.into_parts();
    // A backend's HTTP/1.0 answer goes out as this connection's HTTP/1.1.
    parts.version = axum::http::Version::HTTP_11;
    Response::from_parts(parts, answer)
}

/// What a request came to: its answer, and as far as it got, its operation and caller.
struct Dispatched {
    answer: ApiResult<(StatusCode, Reply)>,
    op: Option<Operation>,
    scope: Option<Scope>,
}

impl Dispatched {
    /// Refused before the caller was known.
    fn refused(e: ApiError) -> Dispatched {
        Dispatched {
            answer: Err(e),
            op: None,
            scope: None,
        }
    }
}

async fn dispatch(app: &App, req: Request) -> Dispatched {
    let (parts, body) = req.into_parts();
    if !parts.uri.path().starts_with("/v2/") {
        if let Some(answer) = admin::answer(app, &parts).await {
            return Dispatched {
                answer,
                op: None,
                scope: None,
            };
        }
    }
    let too_large = || {
        app.metrics.reject(Rejection::BodyLimit);
        Dispatched::refused(ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "Request body is larger than the limit of {} bytes",
                app.body_limit
            ),
        ))
    };
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > app.body_limit) {
        return too_large();
    }
    let Ok(body) = axum::body::to_bytes(body, app.body_limit).await else {
        return too_large();
    };
    let signed = sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let scope = match app.auth.authenticate(&signed, time::now()) {
        Ok(s) => s,
        Err(e) => {
            app.metrics.reject(Rejection::Auth);
            return Dispatched::refused(e);
        }
    };
    let refused = |e: ApiError, op: Option<Operation>, scope: Scope| Dispatched {
        answer: Err(e),
        op,
        scope: Some(scope),
    };
    let query = match wire::parse_query(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => return refused(e, None, scope),
    };
    let (op, labels) = match router::route(&parts.method, parts.uri.path()) {
        Ok(found) => found,
        Err(_)
            if parts.method == Method::GET
                && parts.uri.path() == "/v2/apis/"
                && !app
                    .service
                    .config
                    .profile
                    .enforces(Rule::EmptyApiIdIsUnknownPath) =>
        {
            return Dispatched {
                answer: Reply::json_text("{}")
                    .map(|reply| (success_status(Operation::GetApi), reply)),
                op: Some(Operation::GetApi),
                scope: Some(scope),
            };
        }
        Err(e) => {
            app.metrics.reject(Rejection::UnknownOperation);
            return refused(e, None, scope);
        }
    };
    if let Some(t) = &app.throttle {
        if let Err(e) = t
            .check(app.service.store.as_ref(), &scope.account, op)
            .await
        {
            return refused(e, Some(op), scope);
        }
    }
    if !app.faults.is_empty() {
        match app.faults.pick(op) {
            Some((FaultAction::Fail(kind), spec)) => {
                return refused(faults::injected(kind, &spec), Some(op), scope)
            }
            Some((FaultAction::Delay(d), _)) => tokio::time::sleep(d).await,
            None => {}
        }
    }
    let ctx = Ctx {
        scope,
        op,
        profile: app.service.config.profile,
    };
    let answer = ops::call(&app.service, &ctx, &labels, Input { query, body })
        .await
        .map(|reply| (success_status(op), reply));
    if parts.method != Method::GET && answer.is_ok() {
        // A change: the data plane reads APIs and stages again.
        app.changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
    Dispatched {
        answer,
        op: Some(op),
        scope: Some(ctx.scope),
    }
}

/// The success status the operation table gives `op`.
fn success_status(op: Operation) -> StatusCode {
    StatusCode::from_u16(op.status()).unwrap_or(StatusCode::OK)
}
