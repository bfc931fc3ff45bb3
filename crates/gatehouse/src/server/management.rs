//! The management front, and gatehouse's and moto's own endpoints beside it: load
//! shedding, a bug's panic turned into a 500, then the desk that answers — the request's
//! body limit, authentication, routing to an operation, throttling, injected faults and the
//! operation ([`Desk::Operations`]), or an admin endpoint ([`Desk::Admin`], [`Desk::Moto`];
//! a path none of those has falls through to the operations, which find no operation for
//! it) — then the response with its request ids, the metrics and one log line.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use bytes::Bytes;
use futures_util::FutureExt;
use gatehouse_core::compat::Rule;
use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::{ids, time, Scope};
use gatehouse_http::body::{self, Body};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response, StatusCode};

use super::admin;
use super::app::App;
use super::metrics::Rejection;
use super::response;
use crate::api::{router, Operation};
use crate::auth::sigv4;
use crate::guards::faults::{self, FaultAction};
use crate::ops::{self, Ctx, Input, Reply};
use crate::wire;

/// Who answers a request that reaches this front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desk {
    /// The management API's operations.
    Operations,
    /// gatehouse's own endpoints (`/_gatehouse/…`).
    Admin,
    /// moto's server-mode endpoints (`/moto-api/…`).
    Moto,
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

    /// Refused once the caller was known (and, perhaps, the operation).
    fn refused_for(e: ApiError, op: Option<Operation>, scope: Scope) -> Dispatched {
        Dispatched {
            answer: Err(e),
            op,
            scope: Some(scope),
        }
    }
}

/// Answers `req` at `desk`.
pub async fn answer(app: &App, req: Request<Body>, desk: Desk) -> Response<Body> {
    let started = Instant::now();
    let request_id = ids::request_id();
    let method = req.method().clone();
    // For the log line after the request is consumed (a Uri clone shares its bytes).
    let uri = req.uri().clone();
    let outcome = guarded(app, req, desk).await;
    let mut error = None;
    let (mut response, op, scope) = match outcome {
        Some(Dispatched { answer, op, scope }) => match answer {
            Ok((status, reply)) => (response::reply(status, reply), op, scope),
            Err(e) => {
                error = Some(e.kind);
                (response::error(e), op, scope)
            }
        },
        None => {
            tracing::error!(request_id = %request_id, "request handler panicked");
            error = Some(ErrorKind::Internal);
            let internal = ApiError::internal("Internal server error");
            (response::error(internal), None, None)
        }
    };
    request_ids(&mut response, &request_id);
    let latency = started.elapsed();
    if desk == Desk::Operations {
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

/// The desk's answer under load shedding (beyond the concurrency cap, 503 at once instead
/// of queueing); `None` when it panicked (a bug must never take the connection down without
/// an answer).
async fn guarded(app: &App, req: Request<Body>, desk: Desk) -> Option<Dispatched> {
    let Ok(_permit) = app.permits.try_acquire() else {
        app.metrics.reject(Rejection::LoadShed);
        return Some(Dispatched::refused(ApiError::new(
            ErrorKind::ServiceUnavailable,
            "Too many concurrent requests; please retry",
        )));
    };
    // Boxed: an operation's future is large, and held inline it would make every request's
    // future (invoke requests' too) as large.
    AssertUnwindSafe(Box::pin(dispatch(app, req, desk)))
        .catch_unwind()
        .await
        .ok()
}

/// `x-amzn-requestid` and `x-amz-apigw-id`, as API Gateway's management API sends them.
fn request_ids(response: &mut Response<Body>, request_id: &str) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids::random_id(16)) {
        headers.insert("x-amz-apigw-id", v);
    }
}

/// The request's answer: an admin endpoint's, or an operation's after the steps before it.
async fn dispatch(app: &App, req: Request<Body>, desk: Desk) -> Dispatched {
    let (parts, body) = req.into_parts();
    let endpoint = match desk {
        Desk::Operations => None,
        Desk::Admin => admin::answer(app, &parts).await,
        Desk::Moto => admin::moto(app, &parts).await,
    };
    if let Some(answer) = endpoint {
        return Dispatched {
            answer,
            op: None,
            scope: None,
        };
    }
    let body = match read_body(app, &parts, body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let scope = match authenticate(app, &parts, &body) {
        Ok(scope) => scope,
        Err(e) => return Dispatched::refused(e),
    };
    if desk == Desk::Admin {
        if let Some(answer) = super::stacks::answer(app, &parts, &body, &scope).await {
            return Dispatched {
                answer,
                op: None,
                scope: Some(scope),
            };
        }
    }
    let query = match wire::parse_query(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => return Dispatched::refused_for(e, None, scope),
    };
    let (op, labels) = match operation(app, &parts) {
        Ok(found) => found,
        Err(Routed::Answered(answer, op)) => {
            return Dispatched {
                answer,
                op: Some(op),
                scope: Some(scope),
            }
        }
        Err(Routed::Unknown(e)) => return Dispatched::refused_for(e, None, scope),
    };
    if let Err(e) = guards(app, &scope, op).await {
        return Dispatched::refused_for(e, Some(op), scope);
    }
    let ctx = Ctx {
        scope,
        op,
        profile: app.service.config.profile,
        planned_id: None,
    };
    let answer = ops::call(&app.service, &ctx, &labels, Input { query, body })
        .await
        .map(|reply| (success_status(op), reply));
    Dispatched {
        answer,
        op: Some(op),
        scope: Some(ctx.scope),
    }
}

/// The request body, read whole within the body limit (413 beyond it).
async fn read_body(app: &App, parts: &Parts, body: Body) -> Result<Bytes, Dispatched> {
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
        return Err(too_large());
    }
    body::read(body, app.body_limit)
        .await
        .map_err(|_| too_large())
}

/// Who is calling (open mode: the defaults or the credential's scope; strict mode: a
/// verified SigV4 signature).
fn authenticate(app: &App, parts: &Parts, body: &[u8]) -> ApiResult<Scope> {
    let signed = sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    app.auth
        .authenticate(&signed, time::now())
        .inspect_err(|_| {
            app.metrics.reject(Rejection::Auth);
        })
}

/// Why no operation was routed to.
enum Routed {
    /// moto's answer to `GET /v2/apis/` (an empty API id), which it gives as GetApi's.
    Answered(ApiResult<(StatusCode, Reply)>, Operation),
    /// No operation matches the method and path.
    Unknown(ApiError),
}

/// The operation the method and path name, and its path's raw labels.
fn operation<'p>(app: &App, parts: &'p Parts) -> Result<(Operation, router::Labels<'p>), Routed> {
    match router::route(&parts.method, parts.uri.path()) {
        Ok(found) => Ok(found),
        Err(_)
            if parts.method == Method::GET
                && parts.uri.path() == "/v2/apis/"
                && !app
                    .service
                    .config
                    .profile
                    .enforces(Rule::EmptyApiIdIsUnknownPath) =>
        {
            let answer =
                Reply::json_text("{}").map(|reply| (success_status(Operation::GetApi), reply));
            Err(Routed::Answered(answer, Operation::GetApi))
        }
        Err(e) => {
            app.metrics.reject(Rejection::UnknownOperation);
            Err(Routed::Unknown(e))
        }
    }
}

/// What may stop an operation before it runs: throttling, then injected faults (or delays).
async fn guards(app: &App, scope: &Scope, op: Operation) -> ApiResult<()> {
    if let Some(t) = &app.throttle {
        t.check(app.service.store.as_ref(), &scope.account, op)
            .await?;
    }
    if !app.faults.is_empty() {
        match app.faults.pick(op) {
            Some((FaultAction::Fail(kind), spec)) => return Err(faults::injected(kind, &spec)),
            Some((FaultAction::Delay(d), _)) => tokio::time::sleep(d).await,
            None => {}
        }
    }
    Ok(())
}

/// The success status the operation table gives `op`.
fn success_status(op: Operation) -> StatusCode {
    StatusCode::from_u16(op.status()).unwrap_or(StatusCode::OK)
}
