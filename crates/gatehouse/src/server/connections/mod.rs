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
//!
//! A connection held by another replica of the same store is reached through it
//! ([`super::replicas`]): the request is passed on and its answer relayed ([`operate`]).

mod operate;

use gatehouse_core::model::api::ProtocolType;
use gatehouse_dataplane::Target;
use gatehouse_http::body::Body;
use gatehouse_http::server::Peer;
use http::{HeaderValue, Request, Response};

use super::app::App;
use super::{invoke, response};

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
    /// Passed on by another replica (`/_gatehouse/replica/connections/{id}`): the caller
    /// was authenticated there.
    Passed(String),
}

/// Whether `segment` is `@connections` (or `%40connections`).
fn is_connections(segment: &str) -> bool {
    segment == "@connections" || segment.eq_ignore_ascii_case("%40connections")
}

/// The connection id of a path another replica passes a request to.
pub fn passed_form(path: &str) -> Option<String> {
    let id = path.strip_prefix(super::replicas::PATH)?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
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
        let region = target.region.as_deref();
        let protocol = Box::pin(app.dataplane.protocol_of(region, &target.api_id)).await;
        if protocol != Some(ProtocolType::WebSocket) {
            // Boxed: held inline, the data plane's future would make every request's as
            // large again.
            return Box::pin(invoke::answer(app, target.clone(), req, peer)).await;
        }
    }
    let request_id = gatehouse_core::model::ids::request_id();
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let mut resp = match Box::pin(operate::operate(app, &addressed, req)).await {
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
        let passed = "/_gatehouse/replica/connections/abc%3D";
        assert_eq!(passed_form(passed), Some("abc%3D".into()));
        assert_eq!(passed_form("/_gatehouse/replica/connections/"), None);
        assert_eq!(passed_form("/_gatehouse/replica/connections/a/b"), None);
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
