//! gatehouse's data plane: serves the deployed stages of HTTP APIs as AWS does.
//!
//! An invoke request ([`target`]) names an API; the stage is its first path segment when a
//! stage has that name, else `$default`; the stage's **deployment snapshot** (never the live
//! configuration) is compiled once into a [`router::Router`] and kept by deployment id;
//! the matched route is throttled ([`throttle`]), answered by its integration
//! ([`http_proxy`], [`lambda`]) or by the gateway itself ([`gateway`], [`cors`]), and
//! logged in the stage's access-log format ([`access_log`]).

#![forbid(unsafe_code)]

pub mod access_log;
pub mod body;
pub mod client;
pub mod client_conn;
pub mod client_pool;
pub mod client_stream;
pub mod context;
pub mod cors;
pub mod event;
pub mod gateway;
pub mod h1;
pub mod http_proxy;
pub mod jws;
pub mod jwt;
pub mod lambda;
pub mod lambda_authorizer;
pub mod mapping;
pub mod metrics;
pub mod request_id;
pub mod router;
pub mod scratch;
pub mod target;
pub mod throttle;

mod authorize;
mod domains;
mod resolve;

use authorize::{Authorized, DecisionCache};
use resolve::{stage_rest, Resolved};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use body::Body;
use bytes::Bytes;
use gatehouse_core::model::integration::IntegrationType;
use gatehouse_core::model::route::AuthorizationType;
use gatehouse_core::model::{time, Scope};
use gatehouse_core::store::SharedStore;
use gatehouse_core::token_bucket::LocalBuckets;
use http::{HeaderValue, Response};

use access_log::AccessLogs;
use client::{CallError, HttpClient};
use context::{Facts, Incoming, Routed};
use gateway::GatewayError;
use router::Router;
pub use target::{target, Entry, Target};

/// Checks the SigV4 signature of a request to an `AWS_IAM` route (service `execute-api`) and
/// names the signing account; `Err` says why it is refused. Implemented where the
/// credentials are (the server).
pub trait IamCheck: Send + Sync {
    /// The account that signed `incoming`, or why it is refused.
    fn caller(&self, incoming: &Incoming) -> Result<String, String>;
}

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
    /// Counts changes made through this process's management API: resolved APIs and stages
    /// are reused while it stands still (and, on a store other processes write to, for at
    /// most [`SHARED_STORE_REUSE`]).
    pub changes: Arc<std::sync::atomic::AtomicU64>,
    /// Whether other processes write to the store (PostgreSQL).
    pub shared_store: bool,
    /// The account-level limit on invoke requests per region (`--invoke-rate-limit`,
    /// `--invoke-burst-limit`; AWS's default quota by default).
    pub account_limits: throttle::Limits,
}

/// How long a resolved API and stage is reused when other processes may change them.
pub const SHARED_STORE_REUSE: Duration = Duration::from_secs(1);

/// The data plane.
pub struct DataPlane {
    store: SharedStore,
    config: Config,
    routers: Mutex<Table<DeploymentKey, Arc<Router>>>,
    owners: Mutex<Table<(String, String), String>>,
    /// By `region \n api id \n stage part` (see [`DataPlane::resolve`]).
    resolved: Mutex<Table<String, Arc<Resolved>>>,
    domains: Mutex<Table<String, Arc<domains::Domain>>>,
    client: HttpClient,
    buckets: LocalBuckets,
    /// Each account's bucket per region, by `account|region`.
    accounts: Mutex<Table<String, Arc<throttle::Held>>>,
    keys: jwt::Keys,
    decisions: Mutex<DecisionCache>,
    /// The access logs.
    pub logs: Arc<AccessLogs>,
    /// Invocation metrics.
    pub metrics: Arc<metrics::Metrics>,
}

/// The data plane's in-process lookup tables: a fast hash (each table is bounded, and
/// cleared when full).
pub(crate) type Table<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// (account, region, apiId, deploymentId).
type DeploymentKey = (String, String, String, String);

/// Most compiled deployments kept; when full, the cache starts over.
const ROUTER_CACHE: usize = 1024;

/// Where serving stopped early: the gateway's answer, why, and a `www-authenticate` value.
struct Refusal {
    error: GatewayError,
    why: String,
    challenge: Option<String>,
}

fn refuse(error: GatewayError, why: impl Into<String>) -> Refusal {
    Refusal {
        error,
        why: why.into(),
        challenge: None,
    }
}

/// What serving learnt about the stage that applies whatever the answer: its access-log
/// format and the deployment's CORS configuration.
#[derive(Default)]
struct StageFacts {
    log_format: Option<String>,
    cors: Option<gatehouse_core::model::api::Cors>,
}

impl Refusal {
    /// The gateway's answer, its error noted in `facts`. Out of line: most requests are
    /// answered by their integrations.
    #[cold]
    #[inline(never)]
    fn answer(self, facts: &mut Facts) -> Response<Body> {
        facts.error_message = Some(self.error.parts().1.to_string());
        facts.error_response_type = Some(self.error.response_type().to_string());
        if !self.why.is_empty() {
            tracing::debug!(request_id = %facts.request_id(), why = %self.why, "gateway answer");
            facts.integration_error.get_or_insert(self.why);
        }
        let mut resp = self.error.response().map(body::full);
        if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl DataPlane {
    /// A data plane over `store`, writing access logs as `logs` says.
    pub fn new(store: SharedStore, config: Config, logs: AccessLogs) -> DataPlane {
        DataPlane {
            store,
            config,
            routers: Mutex::default(),
            owners: Mutex::default(),
            resolved: Mutex::default(),
            domains: Mutex::default(),
            client: HttpClient::default(),
            buckets: LocalBuckets::new(),
            accounts: Mutex::default(),
            keys: jwt::Keys::default(),
            decisions: Mutex::default(),
            logs: Arc::new(logs),
            metrics: Arc::default(),
        }
    }

    /// Serves one invoke request: `incoming` says what was asked (its `body` left empty) and
    /// `body` is the request body as it arrives. The answer's body may still be streaming
    /// when this returns; the access-log line and the metrics are written when it ends.
    pub async fn serve(
        &self,
        target: Target,
        mut incoming: Incoming,
        body: Body,
    ) -> Response<body::Counted> {
        let started = Instant::now();
        let now_ms = time::now_millis();
        let mut facts = Facts {
            request_id: request_id::next(),
            time: now_ms / 1000,
            time_epoch_ms: now_ms,
            custom_domain: target.through_custom_domain(),
            ..Facts::default()
        };
        let region = target
            .region
            .as_deref()
            .unwrap_or(&self.config.default_region);
        let mut stage = StageFacts::default();
        let mut resp = match self
            .answer(&target, region, &mut incoming, body, &mut facts, &mut stage)
            .await
        {
            Ok(resp) => resp,
            Err(refusal) => refusal.answer(&mut facts),
        };
        // The configured CORS headers go on every answer, the gateway's own included.
        if let Some(cors) = &stage.cors {
            if resp.status() != http::StatusCode::NO_CONTENT || !cors::is_preflight(&incoming) {
                cors::decorate(cors, &incoming, &mut resp);
            }
        }
        resp.headers_mut()
            .insert(request_id::APIGW_REQUESTID, facts.request_id.clone());
        facts.status = resp.status().as_u16();
        let (metrics, logs) = (self.metrics.clone(), self.logs.clone());
        let format = stage.log_format;
        let region = format.as_ref().map(|_| region.to_string());
        // Counted once the answer has gone out (its length is known then).
        let on_end: body::OnEnd = Box::new(move |ended| {
            facts.response_length = ended.sent;
            let latency = started.elapsed();
            facts.response_latency_ms = latency.as_millis() as u64;
            metrics.record(&facts);
            tracing::info!(
                request_id = %facts.request_id(),
                method = %incoming.method,
                path = %incoming.uri_path(),
                status = facts.status,
                latency_us = latency.as_micros() as u64,
                "invoke"
            );
            if let (Some(format), Some(region)) = (format, region) {
                let line = access_log::render(&format, &incoming, &facts);
                logs.write(&region, &facts, line);
            }
        });
        resp.map(|b| body::Counted::new(b, on_end))
    }

    async fn answer(
        &self,
        target: &Target,
        region: &str,
        incoming: &mut Incoming,
        body: Body,
        facts: &mut Facts,
        found: &mut StageFacts,
    ) -> Result<Response<Body>, Refusal> {
        // (A custom domain name none of whose API mappings takes the path is refused there.)
        let r = self.resolve(target, region, &incoming.path).await?;
        facts.account_id = r.account.clone();
        facts.api_id = r.api_id.clone();
        facts.domain_name = match &target.domain {
            Some(domain) => domain.as_str().into(),
            None => r.domain_name.clone(),
        };
        // Disabling the API's own endpoint leaves its custom domain names serving.
        if r.disabled && !target.through_custom_domain() {
            return Err(refuse(
                GatewayError::Forbidden,
                "the default endpoint is disabled",
            ));
        }
        let api_id = &target.api_id;
        // The path the routes see: after the stage's segment when it named the stage.
        let path: &str = if r.named {
            stage_rest(&incoming.path)
        } else {
            &incoming.path
        };
        let stage = &r.stage;
        facts.stage = r.stage_name.clone();
        found.log_format = stage
            .access_log_settings
            .as_ref()
            .and_then(|a| a.format.clone());
        let deployment = stage
            .deployment_id
            .as_deref()
            .ok_or_else(|| refuse(GatewayError::NotFound, "the stage has no deployment"))?;
        let router = match &r.router {
            Some(router) => router.clone(),
            None => {
                let scope = Scope::new(r.account.to_string(), region);
                Box::pin(self.router(&scope, api_id, deployment)).await?
            }
        };
        found.cors = router.cors().cloned();
        if let Some(cors) = router.cors() {
            if cors::is_preflight(incoming) {
                return Ok(cors::preflight(cors, incoming).map(body::full));
            }
        }
        let segments = router::segments(path);
        let matched = router
            .find(incoming.method.as_str(), &segments)
            .ok_or_else(|| refuse(GatewayError::NotFound, ""))?;
        let route = &matched.route.route;
        facts.route_key = Some(matched.route.key.clone());
        // An HTTP backend gets the body as it arrives; everything else needs it whole (the
        // Lambda event, an AWS_IAM signature's payload hash, a `$request.body` mapping).
        let streams = route.authorization_type != AuthorizationType::AwsIam
            && matched.route.integration.as_ref().is_some_and(|i| {
                i.integration_type == IntegrationType::HttpProxy
                    && !i
                        .request_parameters
                        .as_ref()
                        .is_some_and(mapping::reads_request_body)
            });
        let mut body = Some(body);
        if !streams {
            if let Some(b) = body.take() {
                incoming.body = body::read(b).await.map_err(|over| {
                    if over {
                        refuse(GatewayError::TooLarge, "")
                    } else {
                        refuse(GatewayError::Internal, "the request body broke off")
                    }
                })?;
            }
        }
        let incoming: &Incoming = incoming;
        // The account's limit for the region first, then the route's when the stage sets one.
        let now = Instant::now();
        if !r.account_bucket.admit(self.config.account_limits, now) {
            return Err(refuse(GatewayError::Throttled, "the account's limit"));
        }
        let admitted =
            match throttle::route_limits(stage, &route.route_key, self.config.account_limits) {
                None => true,
                Some(limits) => {
                    let owner = format!(
                        "{}|{region}|{api_id}|{}|{}",
                        r.account, stage.stage_name, route.route_key
                    );
                    match self.store.shared_buckets() {
                        Some(shared) => Box::pin(throttle::admit_shared(shared, &owner, limits))
                            .await
                            .map_err(|e| refuse(GatewayError::Internal, e.message))?,
                        None => throttle::admit(&self.buckets, &owner, limits, now),
                    }
                }
            };
        if !admitted {
            return Err(refuse(GatewayError::Throttled, ""));
        }
        let verified = match route.authorization_type {
            AuthorizationType::None => None,
            AuthorizationType::Jwt => Some(Authorized::Jwt(
                Box::pin(self.verify_jwt(&matched, incoming, facts)).await?,
            )),
            AuthorizationType::AwsIam => {
                let Some(iam) = &self.config.iam else {
                    return Err(refuse(GatewayError::Forbidden, "no IAM verifier"));
                };
                match iam.caller(incoming) {
                    // Another account's credentials do not reach this account's API.
                    Ok(account) if *account == *facts.account_id => None,
                    Ok(account) => {
                        return Err(refuse(
                            GatewayError::Forbidden,
                            format!("account {account} may not invoke this API"),
                        ))
                    }
                    Err(why) => return Err(refuse(GatewayError::Forbidden, why)),
                }
            }
            AuthorizationType::Custom => Some(
                Box::pin(self.authorize_lambda(region, &matched, path, stage, incoming, facts))
                    .await?,
            ),
        };
        let integration = matched
            .route
            .integration
            .as_ref()
            .ok_or_else(|| refuse(GatewayError::Internal, "The route has no integration"))?;
        let deadline = Duration::from_millis(integration.timeout_in_millis.max(50) as u64);
        let uri = integration.integration_uri.as_deref().unwrap_or_default();
        // The integration's latency counts from here (from the throttle's reading of the
        // clock when nothing was authorized since: the same instant to within microseconds).
        let began = if route.authorization_type == AuthorizationType::None {
            now
        } else {
            Instant::now()
        };
        let outcome = match integration.integration_type {
            IntegrationType::HttpProxy => {
                let proxied = http_proxy::Proxied {
                    integration,
                    uri,
                    parsed: matched.route.uri.as_ref(),
                    path,
                    params: &matched.params,
                    template: &matched.route.template,
                    stage_variables: &stage.stage_variables,
                };
                let request_body = body
                    .take()
                    .unwrap_or_else(|| body::full(incoming.body.clone()));
                proxied
                    .answer(&self.client, incoming, facts, request_body, deadline)
                    .await
            }
            IntegrationType::AwsProxy => {
                let version = integration
                    .payload_format_version
                    .clone()
                    .unwrap_or_else(|| "1.0".into());
                let event = lambda_event(
                    &version,
                    verified.as_ref(),
                    incoming,
                    facts,
                    path,
                    &matched,
                    stage,
                )?;
                let uri = http_proxy::substitute_stage_variables(uri, &stage.stage_variables);
                Box::pin(self.invoke(&uri, event, deadline)).await.and_then(
                    |(status, failed, output)| {
                        facts.integration_status = Some(status);
                        if failed {
                            return Err(CallError::Failed(
                                "The Lambda function returned an error".into(),
                            ));
                        }
                        lambda::decode(&version, &output)
                            .map(|r| r.map(body::full))
                            .map_err(CallError::Failed)
                    },
                )
            }
            other => Err(CallError::Failed(format!(
                "gatehouse does not serve {other:?} integrations on HTTP APIs"
            ))),
        };
        facts.integration_latency_ms = Some(began.elapsed().as_millis() as u64);
        let resp = match outcome {
            Ok(resp) => resp,
            Err(CallError::Timeout) => {
                return Err(refuse(
                    GatewayError::Unavailable,
                    "The integration did not answer within its timeout",
                ))
            }
            Err(CallError::Failed(why)) => return Err(refuse(GatewayError::Internal, why)),
            Err(CallError::TooLarge) => return Err(refuse(GatewayError::TooLarge, "")),
        };
        Ok(resp)
    }

    /// Calls the function `uri` names through the Lambda Invoke API at its configured
    /// endpoint (see [`lambda::invoke`]).
    async fn invoke(
        &self,
        uri: &str,
        event: Vec<u8>,
        deadline: Duration,
    ) -> Result<(u16, bool, Bytes), CallError> {
        lambda::invoke(
            &self.client,
            &self.config.lambda_endpoints,
            self.config.lambda_endpoint.as_deref(),
            uri,
            event,
            deadline,
        )
        .await
    }
}

/// The request as its matched route sees it (for Lambda events).
fn routed<'a>(
    incoming: &'a Incoming,
    facts: &'a Facts,
    path: &'a str,
    matched: &'a router::Matched<'_>,
    stage: &'a gatehouse_core::model::stage::Stage,
) -> Routed<'a> {
    Routed {
        incoming,
        facts,
        path,
        template: &matched.route.template,
        params: &matched.params,
        stage_variables: &stage.stage_variables,
    }
}

/// The Lambda event of payload format `version` for a request (and what its authorizer
/// passed on), encoded. Out of line: only AWS_PROXY routes build one.
#[inline(never)]
fn lambda_event(
    version: &str,
    verified: Option<&Authorized>,
    incoming: &Incoming,
    facts: &Facts,
    path: &str,
    matched: &router::Matched<'_>,
    stage: &gatehouse_core::model::stage::Stage,
) -> Result<Vec<u8>, Refusal> {
    let authorizer = verified.map(|v| v.event_context(version));
    let input = event::EventInput {
        request: routed(incoming, facts, path, matched, stage),
        authorizer,
    };
    // Room for the event around the body (most are 1-2 KB), so that it is not
    // copied as it grows.
    let mut event = Vec::with_capacity(2048 + incoming.body.len() * 4 / 3);
    if version == "2.0" {
        serde_json::to_writer(&mut event, &event::event_v2(&input))
    } else {
        serde_json::to_writer(&mut event, &event::event_v1(&input))
    }
    .map_err(|_| refuse(GatewayError::Internal, "cannot encode the Lambda event"))?;
    Ok(event)
}

/// The server runs `serve` on a multi-threaded runtime: its future must be `Send`.
#[allow(dead_code)]
fn serve_is_send(d: &DataPlane, t: Target, i: Incoming, b: Body) {
    fn is_send<T: Send>(_: T) {}
    is_send(d.serve(t, i, b));
}
