//! Answering a handshake, as AWS runs `$connect`: the request must open a WebSocket on the
//! stage itself (nothing after the stage's segment), then the `$connect` route's integration
//! decides during the upgrade — a 2xx lets the socket open (with the subprotocol it names),
//! any other status is the client's answer, a function error is 502, an integration that
//! cannot be called 500, a timeout 504. No `$connect` route: every handshake is accepted.
//! The connection id exists during `$connect`, but the connection is open (and
//! `@connections` reaches it) only once the `101` has gone out.

use std::sync::Arc;

use gatehouse_core::model::time;
use gatehouse_core::model::Stage;
use gatehouse_http::body::Body;
use gatehouse_http::server::upgrade::OnUpgrade;
use http::{Response, StatusCode};

use super::authorize::{self, Asked, Refused};
use super::events::{self, Common, Handshake};
use super::handshake;
use super::ids;
use super::integrate::{Answered, Failed, Sent};
use super::registry::Info;
use super::session::{self, Bound};
use super::Env;
use crate::context::{query_pairs, Invocation, WebSocketFacts};
use crate::integrations::event::trace_id_at;
use crate::routing::resolve::Resolved;
use crate::routing::router::{Compiled, Router};
use crate::routing::target::{Entry, Target};

/// What `$connect` decided.
enum Decided {
    /// Open the socket, with this subprotocol if `$connect` chose one.
    Open(Option<String>),
    /// Refuse the handshake with this answer.
    Refuse(Response<Body>),
}

/// The answer to a handshake on a WebSocket API's stage (`r`, its deployment `router`).
pub async fn connect(
    env: &Arc<Env>,
    inv: &mut Invocation,
    r: &Resolved,
    router: Arc<Router>,
    region: &str,
) -> Response<Body> {
    let accept = match handshake::accept_key(&inv.incoming) {
        Ok(accept) => accept,
        Err(why) => {
            env.metrics.refused();
            return handshake::refusal(why);
        }
    };
    // A WebSocket route's path is fixed: the stage itself (a trailing slash allowed).
    if inv.path() != "/" {
        env.metrics.refused();
        return handshake::answer(StatusCode::FORBIDDEN, "Forbidden");
    }
    if let Some(refused) = throttled(env, r, region).await {
        env.metrics.refused();
        return refused;
    }
    let now = time::now_millis();
    let mut info = Info {
        id: env.registry.new_id(),
        account: r.account.to_string(),
        region: region.to_string(),
        api_id: r.api_id.to_string(),
        stage: r.stage_name.to_string(),
        domain_name: inv.facts.domain_name.to_string(),
        connected_at: now,
        source_ip: inv.incoming.source_ip.to_string(),
        user_agent: inv.incoming.header("user-agent").map(String::from),
        authorizer: None,
    };
    let decided = match router.keyed("$connect") {
        None => Decided::Open(None),
        Some(route) => run_connect(env, route, &r.stage, &mut info, inv, now).await,
    };
    let status = match &decided {
        Decided::Open(_) => 200,
        Decided::Refuse(resp) => resp.status().as_u16(),
    };
    note(inv, &info, status);
    match decided {
        Decided::Open(subprotocol) => {
            env.metrics.connected();
            let bound = Bound {
                target: stage_target(&info),
                info,
            };
            let env = env.clone();
            let takes = OnUpgrade::new(move |upgraded| session::run(env, bound, upgraded));
            handshake::switching(&accept, subprotocol.as_deref(), takes)
        }
        Decided::Refuse(resp) => {
            env.metrics.refused();
            resp
        }
    }
}

/// The refusal of a handshake over the account's new-connection rate (429) or the stage's
/// limit for `$connect`.
async fn throttled(env: &Env, r: &Resolved, region: &str) -> Option<Response<Body>> {
    if !env.connects.admit(&r.account, region) {
        return Some(handshake::answer(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
        ));
    }
    let refusal = super::throttle(env, r, region, "$connect").await.err()?;
    Some(refusal.error.response().map(gatehouse_http::body::full))
}

/// Runs the `$connect` route: its authorizer, then its integration with the CONNECT event.
async fn run_connect(
    env: &Env,
    route: &Compiled,
    stage: &Stage,
    info: &mut Info,
    inv: &mut Invocation,
    now: i64,
) -> Decided {
    let request_id = ids::next();
    let headers = handshake::event_headers(&inv.incoming, &trace_id_at(now / 1000));
    let query = query_pairs(inv.incoming.query());
    let region = info.region.clone();
    let authorized = {
        let common = Common::of(info, &stage.stage_variables, "$connect", &request_id);
        let asked = Asked {
            route,
            stage,
            inv,
            common: &common,
            headers: &headers,
            query: &query,
            region: &region,
        };
        authorize::authorize(env, &asked).await
    };
    match authorized {
        Ok(passed_on) => info.authorizer = passed_on,
        Err((refused, why)) => return unauthorized(inv, refused, why),
    }
    let Some(integration) = route.integration.as_ref() else {
        return Decided::Refuse(handshake::answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
        ));
    };
    let event = {
        let common = Common::of(info, &stage.stage_variables, "$connect", &request_id);
        let handshake = Handshake {
            headers: &headers,
            query: &query,
        };
        events::connect(&common, &handshake)
    };
    let Ok(event) = event else {
        return Decided::Refuse(handshake::answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
        ));
    };
    let sent = Sent {
        event,
        body: Default::default(),
        headers: &headers,
    };
    let called = env
        .integrator
        .call(integration, &stage.stage_variables, sent)
        .await;
    decide(called, inv)
}

/// The handshake refused by `$connect`'s authorizer.
fn unauthorized(inv: &mut Invocation, refused: Refused, why: String) -> Decided {
    tracing::info!(request_id = %inv.facts.request_id(), why = %why, "$connect not authorized");
    inv.facts.error_message = Some(why);
    let (status, message) = match refused {
        Refused::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized"),
        Refused::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
        Refused::Failed => (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    };
    Decided::Refuse(handshake::answer(status, message))
}

/// What `$connect`'s integration answer decides, its reason noted for the log.
fn decide(called: Result<Answered, Failed>, inv: &mut Invocation) -> Decided {
    let failed = |inv: &mut Invocation, status: StatusCode, message: &str, why: String| {
        tracing::info!(request_id = %inv.facts.request_id(), why = %why, "$connect refused");
        inv.facts.integration_error = Some(why);
        Decided::Refuse(handshake::answer(status, message))
    };
    match called {
        Ok(a) => {
            inv.facts.integration_status = Some(a.integration_status);
            if (200..300).contains(&a.status) {
                Decided::Open(a.subprotocol)
            } else {
                Decided::Refuse(handshake::refused_by_integration(a.status))
            }
        }
        Err(Failed::Function) => failed(
            inv,
            StatusCode::BAD_GATEWAY,
            "Internal server error",
            "The Lambda function returned an error".into(),
        ),
        Err(Failed::Malformed(why)) => {
            failed(inv, StatusCode::BAD_GATEWAY, "Internal server error", why)
        }
        Err(Failed::Timeout) => failed(
            inv,
            StatusCode::GATEWAY_TIMEOUT,
            "Endpoint request timed out",
            "The integration did not answer within its timeout".into(),
        ),
        Err(Failed::Unreachable(why) | Failed::NotServed(why)) => failed(
            inv,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            why,
        ),
    }
}

/// Notes the CONNECT event in the invocation (its access-log line is the handshake's).
fn note(inv: &mut Invocation, info: &Info, status: u16) {
    inv.facts.route_key = Some("$connect".into());
    inv.facts.status = status;
    inv.facts.websocket = Some(Box::new(WebSocketFacts {
        event_type: "CONNECT",
        connection_id: info.id.clone(),
        message_id: None,
        connected_at: info.connected_at,
    }));
}

/// The target that resolves a connection's stage by name, for its later events.
fn stage_target(info: &Info) -> Target {
    Target {
        api_id: info.api_id.clone(),
        region: Some(info.region.clone()),
        path: "/".into(),
        domain: None,
        entry: Entry::Mapped {
            stage: info.stage.clone(),
        },
    }
}
