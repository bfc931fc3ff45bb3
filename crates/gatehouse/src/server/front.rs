//! The front door: every request is classified once, by its host and path, into the front
//! that answers it ([`classify`]), and handed to that front's handler ([`handle`]). Nothing
//! else looks at the host or at the path's prefix to decide who answers.
//!
//! In order: an invoke URL's path form (`/_aws/execute-api/{apiId}/…`, whatever the host)
//! or host form (`{apiId}.execute-api.…`) — the `@connections` API when the path is
//! `/{stage}/@connections/{id}` —; then, on the main listener, the management API's own
//! paths (`/v2/…`, gatehouse's `/_gatehouse/…`, moto's `/moto-api/…`), whatever the host;
//! then a host that is a stored custom domain name; then, on the main listener only,
//! `/@connections/{id}` (every API's connections at once), and everything else is the
//! management API. A listener that serves invoke URLs only (`--invoke-listen`) answers
//! anything but an invoke URL or a custom domain as the gateway answers an unknown API.

use gatehouse_dataplane::routing::target::{self as invoke_target, Target, PATH_PREFIX};
use gatehouse_http::body::Body;
use gatehouse_http::server::Peer;
use http::{HeaderMap, Request, Response};

use super::app::{App, Listener};
use super::management::Desk;
use super::{connections, invoke, management};

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
    /// moto's server-mode endpoints (`/moto-api/…`), for suites written against moto.
    Moto,
    /// The management API (`/v2/…` and every other path).
    Management,
    /// Nothing this listener serves: the gateway's `{"message":"Not Found"}`.
    Nowhere,
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
            None => Front::Nowhere,
        });
    }
    let host = host(headers);
    if let Some(target) = invoke_target::target(host, path) {
        return Some(invoke_or_connections(target));
    }
    let main = listener == Listener::All;
    if let Some(own) = own_path(path).filter(|_| main) {
        return Some(own);
    }
    host.is_none().then(|| match listener {
        Listener::All => beside_domains(path),
        Listener::InvokeOnly => Front::Nowhere,
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
        Listener::All => beside_domains(path),
        Listener::InvokeOnly => Front::Nowhere,
    }
}

/// The front of one of the management API's own paths, which no custom domain takes.
fn own_path(path: &str) -> Option<Front> {
    if path.starts_with("/v2/") {
        Some(Front::Management)
    } else if path.starts_with("/_gatehouse/") {
        Some(match connections::passed_form(path) {
            Some(id) => Front::Connections(connections::Addressed::Passed(id)),
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
        Front::Moto => management::answer(app, req, Desk::Moto).await,
        Front::Management => management::answer(app, req, Desk::Operations).await,
        Front::Nowhere => invoke::not_found(),
    }
}
