//! The data plane: [`DataPlane::serve`] answers one invoke request in named steps —
//! resolve (API, stage, deployment), route, throttle, authorize, integrate, respond, log —
//! each a call into the folder that does it, all reading the one [`Invocation`].

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
use crate::gateway::{refuse, GatewayError, Refusal};
use crate::integrations::lambda::Invoker;
use crate::integrations::{mapping, Call, Integrations};
use crate::limits::MAX_BODY;
use crate::observe::access_log::AccessLogs;
use crate::observe::{request_id, Observer};
use crate::routing::domains::Domains;
use crate::routing::resolve::{Resolved, Resolver};
use crate::routing::router::{self, Matched, Router};
use crate::routing::target::Target;
use crate::throttle::{self, Throttle};
use crate::websocket::{self, WebSockets};

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
}

/// The data plane: one step of serving per field.
pub struct DataPlane {
    default_region: String,
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
    log_format: Option<String>,
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
        let routing = Arc::new(Resolver::new(store.clone()));
        let throttle = Arc::new(Throttle::new(store.clone(), config.account_limits));
        let observe = Observer::new(logs);
        let websockets = WebSockets::new(websocket::Env {
            registry: websocket::registry::Registry::new(config.replica_tag),
            resolver: routing.clone(),
            integrator: websocket::integrate::Integrator {
                invoker: invoker.clone(),
                client: client.clone(),
            },
            logs: observe.logs.clone(),
            metrics: Default::default(),
            limits: config.websocket_limits,
            iam: config.iam.clone(),
            throttle: throttle.clone(),
            connects: websocket::Connects::new(config.websocket_connect_limits),
        });
        DataPlane {
            routing,
            domains: Domains::new(store.clone(), config.default_region.clone()),
            default_region: config.default_region,
            throttle,
            auth: Authorizers::new(client.clone(), invoker.clone(), config.iam),
            integrations: Integrations::new(client, invoker),
            observe,
            websockets,
        }
    }

    /// The access logs.
    pub fn logs(&self) -> &AccessLogs {
        &self.observe.logs
    }

    /// The invocation metrics and the WebSocket metrics, as Prometheus text.
    pub fn render_metrics(&self) -> String {
        let mut text = self.observe.metrics.render();
        text.push_str(&self.websockets.render_metrics());
        text
    }

    /// The WebSocket connections this process holds (`@connections`).
    pub fn websockets(&self) -> &WebSockets {
        &self.websockets
    }

    /// The invoke target of a request to a custom domain name, if `host` is one (see
    /// [`Domains::target`]).
    pub async fn domain_target(&self, host: &str, path: &str) -> Option<Target> {
        self.domains.target(host, path).await
    }

    /// The protocol of API `api_id` in `region`, if there is one.
    pub async fn protocol_of(
        &self,
        region: &str,
        api_id: &str,
    ) -> Option<gatehouse_core::model::api::ProtocolType> {
        self.routing.protocol(region, api_id).await
    }

    /// Serves one invoke request: `incoming` says what was asked (its `body` left empty) and
    /// `body` is the request body as it arrives. The answer's body may still be streaming
    /// when this returns; the access-log line and the metrics are written when it ends.
    pub async fn serve(&self, target: Target, incoming: Incoming, body: Body) -> Response<Counted> {
        let started = Instant::now();
        let request_id = request_id::next();
        let custom_domain = target.through_custom_domain();
        let mut inv = Invocation::new(incoming, request_id, time::now_millis(), custom_domain);
        let region = target.region.as_deref().unwrap_or(&self.default_region);
        let mut stage = StageFacts::default();
        let resp = match self
            .answer(&target, region, &mut inv, body, &mut stage)
            .await
        {
            Ok(resp) => resp,
            Err(refusal) => refusal.answer(&mut inv.facts),
        };
        // (A WebSocket handshake's answer keeps the status its event logs.)
        let resp = match stage.websocket {
            false => respond(resp, &mut inv, stage.cors.as_ref()),
            true => resp,
        };
        self.observe
            .record(resp, inv, started, stage.log_format, region)
    }

    /// The answer of the route the request matches, or where a step refused it.
    async fn answer(
        &self,
        target: &Target,
        region: &str,
        inv: &mut Invocation,
        body: Body,
        found: &mut StageFacts,
    ) -> Result<Response<Body>, Refusal> {
        let r = self
            .routing
            .resolve(target, region, &inv.incoming.path)
            .await?;
        resolved(inv, &r, target)?;
        found.log_format = r
            .stage
            .access_log_settings
            .as_ref()
            .and_then(|a| a.format.clone());
        let router = match r.router() {
            Some(router) => router,
            None => Box::pin(self.routing.router_of(&r, region)).await?,
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
            true => Some(body),
            false => read_body(inv, body).await.map(|()| None)?,
        };
        let now = Instant::now();
        if let Some(shared) = self.throttle(&r, region, &matched, now)? {
            Box::pin(self.throttle.admit_shared(shared)).await?;
        }
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
        inv.facts.integration_latency_ms = Some(began.elapsed().as_millis() as u64);
        answered
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
        let authorized = Box::pin(self.auth.authorize(matched.route, region, &request)).await?;
        if let Some(a) = &authorized {
            inv.facts.authorizer = a.values();
        }
        Ok(authorized)
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
        return Err(refuse(
            GatewayError::Forbidden,
            "the default endpoint is disabled",
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
    let matched = router
        .find(inv.incoming.method.as_str(), &segments)
        .ok_or_else(|| refuse(GatewayError::NotFound, ""))?;
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

/// Reads the request body whole into the invocation (413 over the payload limit).
async fn read_body(inv: &mut Invocation, body: Body) -> Result<(), Refusal> {
    inv.incoming.body = body::read(body, MAX_BODY).await.map_err(|over| {
        if over {
            refuse(GatewayError::TooLarge, "")
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
    resp
}

/// The server runs `serve` on a multi-threaded runtime: its future must be `Send`.
#[allow(dead_code)]
fn serve_is_send(d: &DataPlane, t: Target, i: Incoming, b: Body) {
    fn is_send<T: Send>(_: T) {}
    is_send(d.serve(t, i, b));
}
