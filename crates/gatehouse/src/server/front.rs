//! The front door: every request is classified once, by its host and path, into the front
//! that answers it ([`classify`]), and handed to that front's handler ([`handle`]). Nothing
//! else looks at the host or at the path's prefix to decide who answers.
//!
//! In order: an invoke URL's path form (`/_aws/execute-api/{apiId}/…`, whatever the host)
//! or host form (`{apiId}.execute-api.…`) — the `@connections` API when the path is
//! `/{stage}/@connections/{id}` —; then a host that is a stored custom domain name, which
//! takes every path (as on AWS, where a custom domain is its own host); then, on the main
//! listener, the management API's own paths (`/v2/…`, gatehouse's `/_gatehouse/…` — of which
//! the invocations' event stream answers as its own front, since its response streams —,
//! moto's `/moto-api/…`), `/@connections/{id}` (every API's connections at once), and everything
//! else is the management API. A listener that serves invoke URLs only (`--invoke-listen`)
//! answers anything but an invoke URL or a custom domain as the gateway answers an unknown
//! API. Only a host that could be a domain name (not an address, not `localhost`) is looked
//! up in the store.

use gatehouse_dataplane::routing::domains;
use gatehouse_dataplane::routing::target::{self as invoke_target, Target, PATH_PREFIX};
use gatehouse_http::body::Body;
use gatehouse_http::server::Peer;
use http::{HeaderMap, Request, Response};

use super::app::{App, Listener};
use super::management::Desk;
use super::{connections, inspect, invoke, management};

/// Why a path-form URL reaches no API.
const MALFORMED_ID: &str =
    "the path form names no API id (/_aws/execute-api/{apiId}/{stage}/…; ids are letters, digits, - and _)";

/// Why an `--invoke-listen` listener answers a request.
const INVOKE_ONLY: &str =
    "this listener (--invoke-listen) serves invoke URLs and custom domain names only";

/// Who answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Front {
    /// A deployed stage, through an invoke URL (host or path form).
    Invoke(Target),
    /// A deployed stage, through a custom domain name's API mapping.
    CustomDomain(Target),
    /// The `@connections` API of WebSocket stages.
    Connections(connections::Addressed),
    /// gatehouse's own endpoints (`/_gatehouse/…`).
    Admin,
    /// A stage's invocations as they happen (`/_gatehouse/invocations/stream`), a response
    /// that streams.
    Watch,
    /// moto's server-mode endpoints (`/moto-api/…`), for suites written against moto.
    Moto,
    /// The management API (`/v2/…` and every other path).
    Management,
    /// Nothing this listener serves: the gateway's `{"message":"Not Found"}`, and why.
    Nowhere(&'static str),
}

/// The front that answers a request for `path` with `headers`, on `app`'s listener.
pub async fn classify(app: &App, headers: &HeaderMap, path: &str) -> Front {
    match by_name(app.listener, headers, path) {
        Some(front) => front,
        None => by_domain(app, host(headers), path).await,
    }
}

/// The request's `Host`.
fn host(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
}

/// The front the host and path decide on their own; `None` when the host may be a stored
/// custom domain name, which the store decides ([`by_domain`]).
#[inline]
fn by_name(listener: Listener, headers: &HeaderMap, path: &str) -> Option<Front> {
    // (The path form names the API whatever the host: the host is not read for it.)
    if path.starts_with(PATH_PREFIX) {
        return Some(match invoke_target::target(None, path) {
            Some(target) => invoke_or_connections(target),
            // A path-form URL whose API id cannot be one: no API, as the data plane says it.
            None => Front::Nowhere(MALFORMED_ID),
        });
    }
    let host = host(headers);
    if let Some(target) = invoke_target::target(host, path) {
        return Some(invoke_or_connections(target));
    }
    // A host that may be a custom domain name is the store's to decide first: the domain
    // takes every path, `/v2/…` included (its mapping key may be `v2`).
    if host.is_some_and(domains::could_be_domain) {
        return None;
    }
    Some(match listener {
        Listener::All => own_path(path).unwrap_or_else(|| beside_domains(path)),
        Listener::InvokeOnly => Front::Nowhere(INVOKE_ONLY),
    })
}

/// The front of a request whose host may be a stored custom domain name.
async fn by_domain(app: &App, host: Option<&str>, path: &str) -> Front {
    if let Some(target) = match host {
        Some(host) => app.dataplane.domain_target(host, path).await,
        None => None,
    } {
        return Front::CustomDomain(target);
    }
    match app.listener {
        Listener::All => own_path(path).unwrap_or_else(|| beside_domains(path)),
        Listener::InvokeOnly => Front::Nowhere(INVOKE_ONLY),
    }
}

/// The front of one of the management API's own paths (on a host that is no custom domain
/// name).
fn own_path(path: &str) -> Option<Front> {
    if path.starts_with("/v2/") {
        Some(Front::Management)
    } else if path.starts_with("/_gatehouse/") {
        Some(match connections::passed_form(path) {
            Some(id) => Front::Connections(connections::Addressed::Passed(id)),
            None if path == "/_gatehouse/invocations/stream" => Front::Watch,
            None => Front::Admin,
        })
    } else if path.starts_with("/moto-api/") {
        Some(Front::Moto)
    } else {
        None
    }
}

/// On the main listener, the front of a path no custom domain took.
fn beside_domains(path: &str) -> Front {
    match connections::root_form(path) {
        Some(id) => Front::Connections(connections::Addressed::Any(id)),
        None => Front::Management,
    }
}

/// An invoke URL's front: the `@connections` API when its path addresses a connection,
/// else the stage it names.
#[inline]
fn invoke_or_connections(target: Target) -> Front {
    match connections::Addressed::on_stage(&target) {
        Some(addressed) => Front::Connections(addressed),
        None => Front::Invoke(target),
    }
}

/// Answers one request from `peer`: classified, then handed to its front's handler.
pub async fn handle(app: &App, req: Request<Body>, peer: &Peer) -> Response<Body> {
    let path = req.uri().path();
    let front = match by_name(app.listener, req.headers(), path) {
        Some(front) => front,
        // (Out of line: most requests are decided by their names.)
        None => Box::pin(by_domain(app, host(req.headers()), path)).await,
    };
    match front {
        Front::Invoke(target) | Front::CustomDomain(target) => {
            invoke::answer(app, target, req, peer).await
        }
        Front::Connections(addressed) => connections::answer(app, addressed, req, peer).await,
        Front::Admin => management::answer(app, req, Desk::Admin).await,
        Front::Watch => inspect::stream(app, req).await,
        Front::Moto => management::answer(app, req, Desk::Moto).await,
        Front::Management => management::answer(app, req, Desk::Operations).await,
        Front::Nowhere(why) => invoke::not_found(req.method(), req.uri().path(), why),
    }
}
