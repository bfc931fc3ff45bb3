//! One `@connections` request: the connection it names and the stage it may reach, the
//! caller (strict mode: a SigV4 signature for `execute-api`; a passed request: the store's
//! replica secret), then the operation on this replica's connection or the answer of the
//! replica that holds it.

use bytes::Bytes;
use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_dataplane::websocket::registry::{Holder, Info};
use gatehouse_dataplane::websocket::{ConnectionError, Reach, MAX_POST};
use gatehouse_http::body::Body;
use http::{Method, Request, Response, StatusCode};

use super::Addressed;
use crate::ops::Reply;
use crate::server::app::App;
use crate::server::replicas::{self, Passed, Replicas};
use crate::server::response;

/// The operation the method names, on the connection the path names.
pub async fn operate(
    app: &App,
    addressed: &Addressed,
    req: Request<Body>,
) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let (reach, raw_id) = reach_of(addressed, &parts.headers);
    let id = percent_encoding::percent_decode_str(raw_id).decode_utf8_lossy();
    let data = gatehouse_http::body::read(body, MAX_POST)
        .await
        .map_err(|_| too_large())?;
    let caller = match addressed {
        Addressed::Passed(_) => passed_caller(app, &parts.headers)?,
        _ => authenticate(app, &parts, &data)?,
    };
    let holder = app.dataplane.websockets().holder(&id);
    match (holder, addressed) {
        (Holder::Replica(tag), Addressed::OnStage { .. } | Addressed::Any(_)) => {
            let passed = Passed {
                account: caller.as_deref(),
                stage: match reach {
                    Reach::Stage { api_id, stage } => Some((api_id, stage)),
                    Reach::Any => None,
                },
            };
            relay(app, tag, &parts.method, &id, passed, data).await
        }
        _ => on_this_replica(app, &parts.method, &id, reach, caller.as_deref(), data),
    }
}

/// The stage a request may reach and the connection id as its path spells it.
fn reach_of<'a>(addressed: &'a Addressed, headers: &'a http::HeaderMap) -> (Reach<'a>, &'a str) {
    match addressed {
        Addressed::OnStage { target, id } => {
            let stage = target
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            let reach = Reach::Stage {
                api_id: &target.api_id,
                stage,
            };
            (reach, id.as_str())
        }
        Addressed::Any(id) => (Reach::Any, id.as_str()),
        Addressed::Passed(id) => {
            let stage = headers
                .get(replicas::STAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once('/'));
            let reach = match stage {
                Some((api_id, stage)) => Reach::Stage { api_id, stage },
                None => Reach::Any,
            };
            (reach, id.as_str())
        }
    }
}

/// In strict mode, the account that signed the request for `execute-api` (else 403); open
/// mode checks nothing.
fn authenticate(app: &App, parts: &http::request::Parts, data: &[u8]) -> ApiResult<Option<String>> {
    if let crate::auth::Mode::Open = app.auth.mode {
        return Ok(None);
    }
    let signed = crate::auth::sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: data,
    };
    let caller = app
        .auth
        .authenticate_invoke(&signed, gatehouse_core::model::time::now())?;
    Ok(Some(caller.account))
}

/// The caller of a request another replica passed on (that replica authenticated it), when
/// it shows the store's replica secret; else 403.
fn passed_caller(app: &App, headers: &http::HeaderMap) -> ApiResult<Option<String>> {
    match Replicas::sent_by_one(app.replicas.as_deref(), headers) {
        true => Ok(headers
            .get(replicas::ACCOUNT)
            .and_then(|v| v.to_str().ok())
            .map(String::from)),
        false => Err(ApiError::new(ErrorKind::Forbidden, "Forbidden")),
    }
}

/// The answer of the replica tagged `tag`, which holds the connection; gone when it cannot
/// be reached.
async fn relay(
    app: &App,
    tag: u16,
    method: &Method,
    id: &str,
    passed: Passed<'_>,
    data: Bytes,
) -> ApiResult<Response<Body>> {
    let Some(replicas) = &app.replicas else {
        return Err(refused(ConnectionError::Gone));
    };
    let resp = replicas
        .pass(tag, method, id, passed, data)
        .await
        .ok_or_else(|| refused(ConnectionError::Gone))?;
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(gatehouse_http::body::full(body));
    *out.status_mut() = parts.status;
    // Its headers but those of its own connection and message (this answer has its own).
    for (name, value) in &parts.headers {
        let own = [
            http::header::CONTENT_LENGTH,
            http::header::CONNECTION,
            http::header::DATE,
            http::header::TRANSFER_ENCODING,
        ];
        if !own.contains(name) {
            out.headers_mut().append(name, value.clone());
        }
    }
    Ok(out)
}

/// The operation on a connection this replica holds (or nobody holds): in strict mode only
/// for the account that owns the connection's API.
fn on_this_replica(
    app: &App,
    method: &Method,
    id: &str,
    reach: Reach<'_>,
    caller: Option<&str>,
    data: Bytes,
) -> ApiResult<Response<Body>> {
    let ws = app.dataplane.websockets();
    if let (Some(caller), Ok((info, _))) = (caller, ws.get(id, reach)) {
        if info.account != caller {
            return Err(ApiError::new(ErrorKind::Forbidden, "Forbidden"));
        }
    }
    match *method {
        Method::POST => {
            ws.post(id, reach, data).map_err(refused)?;
            Ok(Response::new(gatehouse_http::body::empty()))
        }
        Method::GET => {
            let (info, last_active) = ws.get(id, reach).map_err(refused)?;
            let view = serde_json::json!({
                "connectedAt": gatehouse_core::model::time::rfc3339_millis(info.connected_at),
                "identity": identity(&info),
                "lastActiveAt": gatehouse_core::model::time::rfc3339_millis(last_active),
            });
            Ok(response::reply(StatusCode::OK, Reply::json(&view)?))
        }
        Method::DELETE => {
            ws.delete(id, reach).map_err(refused)?;
            let mut resp = Response::new(gatehouse_http::body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            Ok(resp)
        }
        _ => Err(ApiError::new(ErrorKind::Forbidden, "Forbidden")),
    }
}

/// GetConnection's `identity`: `sourceIp`, and `userAgent` when the client sent one.
fn identity(info: &Info) -> serde_json::Value {
    let mut identity = serde_json::json!({ "sourceIp": info.source_ip });
    if let (Some(ua), Some(map)) = (&info.user_agent, identity.as_object_mut()) {
        map.insert("userAgent".into(), serde_json::json!(ua));
    }
    identity
}

/// An instant as ISO-8601 UTC with milliseconds (`2020-04-30T20:10:33.236Z`).
fn too_large() -> ApiError {
    ApiError::new(
        ErrorKind::DataTooLarge,
        format!("The data is larger than the maximum of {MAX_POST} bytes"),
    )
}

/// Why the connection was not reached, as the `@connections` API answers it.
fn refused(e: ConnectionError) -> ApiError {
    match e {
        ConnectionError::Gone => ApiError::new(ErrorKind::Gone, ""),
        ConnectionError::TooLarge => too_large(),
        ConnectionError::Busy => ApiError::new(ErrorKind::LimitExceeded, "Too Many Requests"),
    }
}
