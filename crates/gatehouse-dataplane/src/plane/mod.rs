//! The data plane: [`DataPlane::serve`] answers one invoke request in named steps —
//! resolve (API, stage, deployment), route, throttle, authorize, integrate, respond, log —
//! each a call into the folder that does it, all reading the one [`Invocation`]. What the
//! server asks of it besides serving (metrics, explanations, traces, connections) is
//! [`read`]'s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use gatehouse_core::model::api::ProtocolType;
use gatehouse_core::model::integration::IntegrationType;
use gatehouse_core::model::route::AuthorizationType;
use gatehouse_core::model::{time, Stage};
use gatehouse_core::store::SharedStore;
use gatehouse_http::body::{self, Body, Counted};
use gatehouse_http::client::HttpClient;
use http::Response;

use crate::auth::iam::IamCheck;
use crate::auth::Authorizers;
use crate::context::{Authorized, Incoming, Invocation, Routed};
use crate::cors;
use crate::exchange::{Answer, Authorization, Exchange, HeaderText, Recorded, Step};
use crate::gateway::{not_served, refuse, GatewayError, Refusal};
use crate::integrations::lambda::Invoker;
use crate::integrations::{mapping, Call, Integrations};
use crate::limits::{MAX_BODY, OVER_PAYLOAD_LIMIT};
use crate::observe::access_log::AccessLogs;
use crate::observe::inspector::{self, Inspector};
use crate::observe::{request_id, Asked, Observer, Recording};
use crate::routing::domains::Domains;
use crate::routing::resolve::{Resolved, Resolver};
use crate::routing::router::{self, Matched, Router};
use crate::routing::target::Target;
use crate::throttle::{self, Throttle};
use crate::websocket::{self, WebSockets};

pub mod read;

/// What the data plane needs to know beyond the store.
#[derive(Clone, Default)]
pub struct Config {
    /// The region of invoke requests whose host names none.
    pub default_region: String,
    /// The Lambda Invoke API every function is called at (`--lambda-endpoint`).
    pub lambda_endpoint: Option<String>,
    /// Per-function Invoke API endpoints (function name → base URL), from the settings file.
    pub lambda_endpoints: BTreeMap<String, String>,
    /// Verifies `AWS_IAM` routes' signatures (none: such routes answer 403).
    pub iam: Option<Arc<dyn IamCheck>>,
    /// The account-level limit on invoke requests per region (`--invoke-rate-limit`,
    /// `--invoke-burst-limit`; AWS's default quota by default).
    pub account_limits: throttle::Limits,
    /// WebSocket connections' idle and maximum-duration limits.
    pub websocket_limits: websocket::Limits,
    /// The account's limit on new WebSocket connections per region (AWS's 500 a second).
    pub websocket_connect_limits: throttle::Limits,
    /// This replica's tag among the replicas sharing the store (0 when it is alone),
    /// carried by its connection ids.
    pub replica_tag: u16,
    /// What the invocation inspector keeps.
    pub inspector: inspector::Limits,
}

/// The data plane: one step of serving per field.
pub struct DataPlane {
    default_region: Arc<str>,
    routing: Arc<Resolver>,
    domains: Domains,
    throttle: Arc<Throttle>,
    auth: Authorizers,
    integrations: Integrations,
    observe: Observer,
    websockets: WebSockets,
}

/// What serving learnt about the stage that applies whatever the answer: its access-log
/// format and the deployment's CORS configuration.
#[derive(Default)]
struct StageFacts {
    /// The region the API was found in.
    region: Option<Arc<str>>,
    /// Its access-log format and deployment, for recording the invocation.
    recording: Recording,
    cors: Option<gatehouse_core::model::api::Cors>,
    /// Whether the answer is a WebSocket handshake's.
    websocket: bool,
}

impl DataPlane {
    /// A data plane over `store`, writing access logs as `logs` says.
    pub fn new(store: SharedStore, config: Config, logs: AccessLogs) -> DataPlane {
        let client = HttpClient::new(MAX_BODY);
        let invoker = Arc::new(Invoker::new(
            client.clone(),
            config.lambda_endpoints,
            config.lambda_endpoint,
        ));
        let routing = Arc::new(Resolver::new(store.clone(), &config.default_region));
        let throttle = Arc::new(Throttle::new(store.clone(), config.account_limits));
        let observe = Observer::new(logs, Inspector::new(config.inspector));
        let websockets = WebSockets::new(websocket::Env {
            registry: websocket::registry::Registry::new(config.replica_tag),
            resolver: routing.clone(),
            integrator: websocket::integrate::Integrator {
                invoker: invoker.clone(),
                client: client.clone(),
            },
            logs: observe.logs.clone(),
            inspector: observe.inspector.clone(),
            metrics: Default::default(),
            limits: config.websocket_limits,
            iam: config.iam.clone(),
            throttle: throttle.clone(),
            connects: websocket::Connects::new(config.websocket_connect_limits),
        });
        DataPlane {
            routing,
            domains: Domains::new(store.clone(), config.default_region.clone()),
            default_region: config.default_region.as_str().into(),
            throttle,
            auth: Authorizers::new(client.clone(), invoker.clone(), config.iam),
            integrations: Integrations::new(client, invoker),
            observe,
            websockets,
        }
    }

    /// Serves one invoke request: `incoming` says what was asked (its `body` left empty) and
    /// `body` is the request body as it arrives. The answer's body may still be streaming
    /// when this returns; the access-log line and the metrics are written when it ends.
    pub async fn serve(&self, target: Target, incoming: Incoming, body: Body) -> Response<Counted> {
        let started = Instant::now();
        let request_id = request_id::next();
        let custom_domain = target.through_custom_domain();
        let mut inv = Invocation::new(incoming, request_id, time::now_millis(), custom_domain);
        if self.observe.inspector.records() {
            let limit = self.observe.inspector.body_bytes();
            inv.facts.exchange = Some(Box::new(Exchange::new(started, limit)));
        }
        let mut stage = StageFacts::default();
        let resp = match self.answer(&target, &mut inv, body, &mut stage).await {
            Ok(resp) => resp,
            Err(refusal) => {
                let found = refusal.found.as_ref().map(|f| f.region.clone());
                stage.region = stage.region.or(found);
                refusal.answer(&mut inv.facts)
            }
        };
        // (A WebSocket handshake's answer keeps the status its event logs.)
        let resp = match stage.websocket {
            false => respond(resp, &mut inv, stage.cors.as_ref()),
            true => resp,
        };
        let region = match (stage.region, &target.region) {
            (Some(found), _) => found,
            (None, Some(named)) => named.as_str().into(),
            (None, None) => self.default_region.clone(),
        };
        let asked = Asked {
            api_id: target.api_id,
            region,
        };
        self.observe
            .record(resp, inv, started, stage.recording, asked)
    }

    /// The answer of the route the request matches, or where a step refused it.
    async fn answer(
        &self,
        target: &Target,
        inv: &mut Invocation,
        body: Body,
        found: &mut StageFacts,
    ) -> Result<Response<Body>, Refusal> {
        let r = self.routing.resolve(target, &inv.incoming.path).await?;
        found.region = Some(r.region.clone());
        let region = &*r.region;
        resolved(inv, &r, target)?;
        found.recording.format = r
            .stage
            .access_log_settings
            .as_ref()
            .and_then(|a| a.format.clone());
        if self.observe.inspector.records() {
            found.recording.deployment = r.deployment_id.clone();
        }
        let router = match r.router() {
            Some(router) => router,
            None => Box::pin(self.routing.router_of(&r)).await?,
        };
        if r.protocol == ProtocolType::WebSocket {
            found.websocket = true;
            let env = self.websockets.env();
            let connect = websocket::connect::connect(env, inv, &r, router, region);
            return Ok(Box::pin(connect).await);
        }
        found.cors = router.cors().cloned();
        if let Some(preflight) = preflight(&router, inv) {
            return Ok(preflight);
        }
        let matched = route(&router, inv)?;
        let body = match streams(&matched) {
            true => Some(kept_as_it_streams(inv, body)),
            false => read_body(inv, body).await.map(|()| None)?,
        };
        let now = Instant::now();
        inv.mark(Step::Route, now);
        let admitted = self.admit(&r, region, &matched, now).await;
        if let Some(x) = inv.exchange() {
            x.throttled = Some(admitted.is_err());
            x.mark(Step::Throttle, Instant::now());
        }
        admitted?;
        let open = matched.route.route.authorization_type == AuthorizationType::None;
        let authorized = match open {
            true => None,
            false => self.authorize(&matched, region, &r.stage, inv).await?,
        };
        // The integration's latency counts from here (from the throttle's reading of the
        // clock when nothing was authorized since: the same instant to within microseconds).
        let began = if open { now } else { Instant::now() };
        let call = call(&matched, &r.stage, authorized.as_ref())?;
        let answered = self.integrations.answer(inv, &call, body).await;
        let ended = Instant::now();
        let latency = ended.saturating_duration_since(began);
        inv.facts.integration_latency_ms = Some(latency.as_millis() as u64);
        inv.mark(Step::Integrate, ended);
        answered
    }

    /// Takes the request's tokens from the account's bucket and the route's (a route bucket
    /// the store shares is asked out of line).
    async fn admit(
        &self,
        r: &Resolved,
        region: &str,
        matched: &Matched<'_>,
        now: Instant,
    ) -> Result<(), Refusal> {
        if let Some(shared) = self.throttle(r, region, matched, now)? {
            Box::pin(self.throttle.admit_shared(shared)).await?;
        }
        Ok(())
    }

    /// Takes the request's tokens from the account's bucket and the route's; a route bucket
    /// the store shares is returned, to be asked out of line (most stages have none).
    fn throttle(
        &self,
        r: &Resolved,
        region: &str,
        matched: &Matched<'_>,
        now: Instant,
    ) -> Result<Option<throttle::SharedAsk>, Refusal> {
        let owner = throttle::Owner {
            account: &r.account,
            region,
            api_id: &r.api_id,
            route_key: &matched.route.route.route_key,
        };
        self.throttle
            .admit(&r.account_bucket, &r.stage, &owner, now)
    }

    /// Runs the route's authorizer; what it let through is noted for `$context.authorizer`.
    async fn authorize(
        &self,
        matched: &Matched<'_>,
        region: &str,
        stage: &Stage,
        inv: &mut Invocation,
    ) -> Result<Option<Authorized>, Refusal> {
        let request = routed(inv, matched, stage);
        let mut cached = None;
        let authorized =
            Box::pin(
                self.auth
                    .authorize(matched.route, region, &request, &mut cached),
            )
            .await;
        if let Some(x) = inv.exchange() {
            x.authorization = Some(Authorization {
                kind: authorizer_kind(matched.route.route.authorization_type),
                name: matched.route.authorizer.as_ref().map(|a| a.name.clone()),
                cached,
                allowed: authorized.is_ok(),
            });
            x.mark(Step::Authorize, Instant::now());
        }
        let authorized = authorized?;
        if let Some(a) = &authorized {
            inv.facts.authorizer = a.values();
        }
        Ok(authorized)
    }
}

/// An authorizer's type as the inspector names it.
fn authorizer_kind(t: AuthorizationType) -> &'static str {
    match t {
        AuthorizationType::None => "NONE",
        AuthorizationType::AwsIam => "AWS_IAM",
        AuthorizationType::Custom => "REQUEST",
        AuthorizationType::Jwt => "JWT",
    }
}

/// What the matched route hands its integration.
fn call<'a>(
    matched: &'a Matched<'_>,
    stage: &'a Stage,
    authorized: Option<&'a Authorized>,
) -> Result<Call<'a>, Refusal> {
    let route = matched.route;
    let integration = route
        .integration
        .as_ref()
        .ok_or_else(|| refuse(GatewayError::Internal, "The route has no integration"))?;
    Ok(Call {
        integration,
        parsed: route.uri.as_ref(),
        template: &route.template,
        params: &matched.params,
        stage_variables: &stage.stage_variables,
        authorized,
    })
}

/// Notes what the request resolved to; refuses it when it came through the API's own
/// endpoint and that is disabled (its custom domain names keep serving).
fn resolved(inv: &mut Invocation, r: &Resolved, target: &Target) -> Result<(), Refusal> {
    let facts = &mut inv.facts;
    facts.account_id = r.account.clone();
    facts.api_id = r.api_id.clone();
    facts.domain_name = match &target.domain {
        Some(domain) => domain.as_str().into(),
        None => r.domain_name.clone(),
    };
    facts.stage = r.stage_name.clone();
    if r.disabled && !target.through_custom_domain() {
        return Err(not_served(
            GatewayError::Forbidden,
            "the API's default endpoint is disabled (disableExecuteApiEndpoint)",
        ));
    }
    // The path the routes see: after the stage's segment when it named the stage.
    if r.named {
        inv.after_stage_segment();
    }
    Ok(())
}

/// The gateway's own answer to a CORS preflight, when the deployment configures CORS and no
/// route takes the `OPTIONS` request: an `OPTIONS` or `ANY` route that matches its path, or
/// `$default`, serves it like any request, its authorizer included (AWS's CORS page: the
/// `$default` route catches `OPTIONS` requests too).
fn preflight(router: &Router, inv: &Invocation) -> Option<Response<Body>> {
    let cors = router.cors()?;
    if !cors::is_preflight(&inv.incoming) {
        return None;
    }
    let segments = router::segments(inv.path());
    if router.find("OPTIONS", &segments).is_some() {
        return None;
    }
    Some(cors::preflight(cors, &inv.incoming).map(body::full))
}

/// The route the request matches, by AWS's priority (404 when none does).
fn route<'r>(router: &'r Router, inv: &mut Invocation) -> Result<Matched<'r>, Refusal> {
    let segments = router::segments(inv.path());
    let method = inv.incoming.method.as_str();
    let matched = router.find(method, &segments).ok_or_else(|| {
        let path = inv.path();
        not_served(
            GatewayError::NotFound,
            format!("no route matches {method} {path}"),
        )
    })?;
    inv.facts.route_key = Some(matched.route.key.clone());
    Ok(matched)
}

/// Whether the route's integration gets the request body as it arrives (an HTTP backend);
/// everything else needs it whole (the Lambda event, an AWS_IAM signature's payload hash, a
/// `$request.body` mapping).
fn streams(matched: &Matched<'_>) -> bool {
    let route = matched.route;
    route.route.authorization_type != AuthorizationType::AwsIam
        && route.integration.as_ref().is_some_and(|i| {
            i.integration_type == IntegrationType::HttpProxy
                && !i
                    .request_parameters
                    .as_ref()
                    .is_some_and(mapping::reads_request_body)
        })
}

/// The request body as it streams to the backend, its first bytes kept while the
/// inspector records bodies.
fn kept_as_it_streams(inv: &mut Invocation, body: Body) -> Body {
    if http_body::Body::is_end_stream(&body) {
        return body;
    }
    match inv.exchange() {
        Some(x) if x.body_limit > 0 => {
            let (body, kept) = body::tee(body, x.body_limit);
            x.request_body = Recorded::Streamed(kept);
            body
        }
        _ => body,
    }
}

/// Reads the request body whole into the invocation (413 over the payload limit).
async fn read_body(inv: &mut Invocation, body: Body) -> Result<(), Refusal> {
    inv.incoming.body = body::read(body, MAX_BODY).await.map_err(|over| {
        if over {
            not_served(GatewayError::TooLarge, OVER_PAYLOAD_LIMIT)
        } else {
            refuse(GatewayError::Internal, "the request body broke off")
        }
    })?;
    Ok(())
}

/// The request as its matched route sees it.
fn routed<'a>(inv: &'a Invocation, matched: &'a Matched<'_>, stage: &'a Stage) -> Routed<'a> {
    Routed {
        inv,
        template: &matched.route.template,
        params: &matched.params,
        stage_variables: &stage.stage_variables,
    }
}

/// The answer as it goes out: the configured CORS headers on every answer (the gateway's
/// own included), the request id, the status noted.
fn respond(
    mut resp: Response<Body>,
    inv: &mut Invocation,
    cors: Option<&gatehouse_core::model::api::Cors>,
) -> Response<Body> {
    if let Some(cors) = cors {
        // (The gateway's own preflight answer carries its headers already.)
        let own_preflight = inv.facts.route_key.is_none()
            && resp.status() == http::StatusCode::NO_CONTENT
            && cors::is_preflight(&inv.incoming);
        if !own_preflight {
            cors::decorate(cors, &inv.incoming, &mut resp);
        }
    }
    resp.headers_mut()
        .insert(request_id::APIGW_REQUESTID, inv.facts.request_id.clone());
    inv.facts.status = resp.status().as_u16();
    if let Some(x) = inv.exchange() {
        // (The integration's answer passed on is not copied again.)
        let passed_on = x.passed_on && cors.is_none();
        x.response = Some(Answer {
            status: resp.status().as_u16(),
            headers: (!passed_on).then(|| HeaderText::of(resp.headers())),
            body: Recorded::None,
        });
    }
    resp
}

/// The server runs `serve` on a multi-threaded runtime: its future must be `Send`.
#[allow(dead_code)]
fn serve_is_send(d: &DataPlane, t: Target, i: Incoming, b: Body) {
    fn is_send<T: Send>(_: T) {}
    is_send(d.serve(t, i, b));
}
