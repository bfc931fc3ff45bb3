//! The `@connections` front: the API (AWS's `apigatewaymanagementapi`, signing name
//! `execute-api`) that posts to, reads and closes the connections of WebSocket stages.
//! It is addressed where unchanged SDK code looks for it — `/{stage}/@connections/{id}` on
//! an invoke URL (host or path form; `%40connections` too) — and at `/@connections/{id}`,
//! for every API at once (connection ids are unique per server). On an invoke URL whose API
//! is not a WebSocket API, such a path is an ordinary path of that API and is served by it.
//!
//! `POST` sends the body as one message (200), `GET` answers `connectedAt`, `identity` and
//! `lastActiveAt` (200), `DELETE` closes the connection (204). A closed or unknown id is
//! `GoneException` (410, no body), data over 128 KB `PayloadTooLargeException` (413), a full
//! queue `LimitExceededException` (429), another method `ForbiddenException` (403). In strict
//! mode the request must be signed for `execute-api` by the account that owns the API.

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::api::ProtocolType;
use gatehouse_dataplane::websocket::{ConnectionError, Reach, MAX_POST};
use gatehouse_dataplane::Target;
use gatehouse_http::body::Body;
use gatehouse_http::server::Peer;
use http::{HeaderValue, Method, Request, Response, StatusCode};

use super::app::App;
use super::{invoke, response};
use crate::ops::Reply;

/// A connection as a request addresses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// On a stage's invoke URL: `/{stage}/@connections/{id}`.
    OnStage {
        /// The invoke URL's target (the API; its path holds the stage and the id).
        target: Target,
        /// The connection id.
        id: String,
    },
    /// At `/@connections/{id}`, whatever API holds it.
    Any(String),
}

/// Whether `segment` is `@connections` (or `%40connections`).
fn is_connections(segment: &str) -> bool {
    segment == "@connections" || segment.eq_ignore_ascii_case("%40connections")
}

/// The connection id of a path `/@connections/{id}`.
pub fn root_form(path: &str) -> Option<String> {
    let mut parts = path.strip_prefix('/')?.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(first), Some(id), None) if is_connections(first) && !id.is_empty() => {
            Some(id.to_string())
        }
        _ => None,
    }
}

impl Addressed {
    /// The connection an invoke URL's path `/{stage}/@connections/{id}` addresses.
    pub fn on_stage(target: &Target) -> Option<Addressed> {
        // (Every invoke request asks this: bytes are compared before anything is split.)
        let path = target.path.as_bytes();
        let second = 1 + path.get(1..)?.iter().position(|b| *b == b'/')?;
        let rest = &target.path[second + 1..];
        let (at, id) = rest.split_once('/')?;
        let addressed = second > 1
            && !target.through_custom_domain()
            && is_connections(at)
            && !id.is_empty()
            && !id.contains('/');
        addressed.then(|| Addressed::OnStage {
            target: target.clone(),
            id: id.to_string(),
        })
    }
}

/// Answers a request to the `@connections` API.
pub async fn answer(
    app: &App,
    addressed: Addressed,
    req: Request<Body>,
    peer: &Peer,
) -> Response<Body> {
    if let Addressed::OnStage { target, .. } = &addressed {
        let region = target
            .region
            .as_deref()
            .unwrap_or(&app.auth.defaults.region);
        let protocol = Box::pin(app.dataplane.protocol_of(region, &target.api_id)).await;
        if protocol != Some(ProtocolType::WebSocket) {
            // Boxed: held inline, the data plane's future would make every request's as
            // large again.
            return Box::pin(invoke::answer(app, target.clone(), req, peer)).await;
        }
    }
    let request_id = gatehouse_core::model::ids::request_id();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let mut resp = match Box::pin(operate(app, &addressed, req)).await {
        Ok(resp) => resp,
        Err(e) => response::error(e),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        "connections"
    );
    resp
}

/// The operation the method names, on the connection the path names.
async fn operate(
    app: &App,
    addressed: &Addressed,
    req: Request<Body>,
) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let (reach, raw_id) = match addressed {
        Addressed::OnStage { target, id } => {
            let stage = target
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            (
                Reach::Stage {
                    api_id: &target.api_id,
                    stage,
                },
                id.as_str(),
            )
        }
        Addressed::Any(id) => (Reach::Any, id.as_str()),
    };
    let id = percent_encoding::percent_decode_str(raw_id).decode_utf8_lossy();
    let data = gatehouse_http::body::read(body, MAX_POST)
        .await
        .map_err(|_| too_large())?;
    authorize(app, &parts, &data, &id, reach)?;
    let ws = app.dataplane.websockets();
    match parts.method {
        Method::POST => {
            ws.post(&id, reach, data).map_err(refused)?;
            Ok(Response::new(gatehouse_http::body::empty()))
        }
        Method::GET => {
            let (info, last_active) = ws.get(&id, reach).map_err(refused)?;
            let view = serde_json::json!({
                "connectedAt": iso_millis(info.connected_at),
                "identity": identity(&info),
                "lastActiveAt": iso_millis(last_active),
            });
            Ok(response::reply(StatusCode::OK, Reply::json(&view)?))
        }
        Method::DELETE => {
            ws.delete(&id, reach).map_err(refused)?;
            let mut resp = Response::new(gatehouse_http::body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            Ok(resp)
        }
        _ => Err(ApiError::new(ErrorKind::Forbidden, "Forbidden")),
    }
}

/// In strict mode: the request is signed for `execute-api` by the account that owns the
/// connection's API (else 403). Open mode checks nothing.
fn authorize(
    app: &App,
    parts: &http::request::Parts,
    data: &[u8],
    id: &str,
    reach: Reach<'_>,
) -> ApiResult<()> {
    if let crate::auth::Mode::Open = app.auth.mode {
        return Ok(());
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
    match app.dataplane.websockets().get(id, reach) {
        Ok((info, _)) if info.account != caller.account => {
            Err(ApiError::new(ErrorKind::Forbidden, "Forbidden"))
        }
        _ => Ok(()),
    }
}

/// GetConnection's `identity`: `sourceIp`, and `userAgent` when the client sent one.
fn identity(info: &gatehouse_dataplane::websocket::registry::Info) -> serde_json::Value {
    let mut identity = serde_json::json!({ "sourceIp": info.source_ip });
    if let (Some(ua), Some(map)) = (&info.user_agent, identity.as_object_mut()) {
        map.insert("userAgent".into(), serde_json::json!(ua));
    }
    identity
}

/// An instant as ISO-8601 UTC with milliseconds (`2020-04-30T20:10:33.236Z`).
fn iso_millis(ms: i64) -> String {
    let whole = gatehouse_core::model::time::rfc3339(ms.div_euclid(1000));
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_dataplane::Entry;

    #[test]
    fn connections_are_addressed_on_a_stage_or_at_the_root() {
        assert_eq!(root_form("/@connections/abc="), Some("abc=".into()));
        assert_eq!(root_form("/%40connections/abc="), Some("abc=".into()));
        assert_eq!(root_form("/@connections/"), None);
        assert_eq!(root_form("/@connections/a/b"), None);
        let target = |path: &str| Target {
            api_id: "abc123".into(),
            region: None,
            path: path.into(),
            domain: None,
            entry: Entry::Endpoint,
        };
        assert!(matches!(
            Addressed::on_stage(&target("/prod/@connections/x")),
            Some(Addressed::OnStage { id, .. }) if id == "x"
        ));
        assert!(Addressed::on_stage(&target("/prod/%40connections/x")).is_some());
        assert!(Addressed::on_stage(&target("/prod/pets/x")).is_none());
        assert!(Addressed::on_stage(&target("/@connections/x")).is_none());
    }
}
