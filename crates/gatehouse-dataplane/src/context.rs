//! What one invocation knows about itself ([`Invocation`]): the request as the client sent
//! it, where it was routed, and what happened. Every step reads it: the `$context` variables
//! ([`Invocation::variable`]) that access logs, parameter mapping and authorizer identity
//! sources name, the Lambda events, the metrics.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use gatehouse_core::model::time::clf;
use http::HeaderMap;

use crate::exchange::{Exchange, Step};

/// The request, as received.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// `GET`, `POST`, …
    pub method: http::Method,
    /// The raw path the client asked for, after the API part (with the stage segment).
    pub path: String,
    /// The request target exactly as the client sent it: its path is what a SigV4
    /// signature covers, its query the raw query string.
    pub uri: http::Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The client's address (the same text for every request of a connection).
    pub source_ip: Arc<str>,
    /// `HTTP/1.1`.
    pub protocol: &'static str,
    /// The header names as the client wrote them, in order, when they were kept (the
    /// handshake of a WebSocket connection; else empty).
    pub header_names: Vec<bytes::Bytes>,
}

/// One invocation: the request and what serving it found so far.
#[derive(Debug)]
pub struct Invocation {
    /// The request, as received.
    pub incoming: Incoming,
    /// Facts gathered while serving.
    pub facts: Facts,
    /// Where in `incoming.path` the path the routes see begins (after the stage's segment
    /// when the path named the stage).
    route_path_at: usize,
}

impl Invocation {
    /// Where in `incoming.path` the path the routes see begins.
    pub fn route_path_offset(&self) -> usize {
        self.route_path_at
    }

    /// A new invocation of `incoming`, at `now_ms` (milliseconds since the epoch), with
    /// request id `request_id`; `custom_domain` when it came through a custom domain name.
    pub fn new(
        incoming: Incoming,
        request_id: http::HeaderValue,
        now_ms: i64,
        custom_domain: bool,
    ) -> Invocation {
        Invocation {
            incoming,
            facts: Facts {
                request_id,
                time: now_ms / 1000,
                time_epoch_ms: now_ms,
                custom_domain,
                ..Facts::default()
            },
            route_path_at: 0,
        }
    }

    /// What the invocation sent and got, while the inspector records.
    pub fn exchange(&mut self) -> Option<&mut Exchange> {
        self.facts.exchange.as_deref_mut()
    }

    /// `step` of serving ended at `at` (for the inspector's timings).
    pub fn mark(&mut self, step: Step, at: std::time::Instant) {
        if let Some(x) = self.exchange() {
            x.mark(step, at);
        }
    }

    /// The path the routes see: the request's path after the stage's segment once
    /// [`Invocation::after_stage_segment`] was called, else all of it.
    pub fn path(&self) -> &str {
        match &self.incoming.path[self.route_path_at..] {
            "" => "/",
            rest => rest,
        }
    }

    /// The routes see the path after its first segment, which named the stage
    /// (`/prod/pets` → `/pets`, `/prod` → `/`).
    pub fn after_stage_segment(&mut self) {
        let path = &self.incoming.path;
        let start = usize::from(path.starts_with('/'));
        self.route_path_at = match path[start..].bytes().position(|b| b == b'/') {
            Some(i) => start + i,
            None => path.len(),
        };
    }

    /// The value of `$context.{name}` for this invocation, if it has one.
    pub fn variable(&self, name: &str) -> Option<String> {
        let (inc, facts) = (&self.incoming, &self.facts);
        let opt = |v: &Option<String>| v.clone();
        Some(match name {
            "requestId" | "extendedRequestId" | "awsEndpointRequestId" => {
                facts.request_id().to_string()
            }
            "accountId" => facts.account_id.to_string(),
            "apiId" => facts.api_id.to_string(),
            "domainName" => facts.domain_name.to_string(),
            "domainPrefix" => facts.domain_prefix().to_string(),
            "httpMethod" => inc.method.to_string(),
            "path" => inc.path.clone(),
            "protocol" => inc.protocol.to_string(),
            "routeKey" => return facts.route_key.as_deref().map(String::from),
            "stage" => facts.stage.to_string(),
            "status" => facts.status.to_string(),
            "responseLength" => facts.response_length.to_string(),
            "responseLatency" => facts.response_latency_ms.to_string(),
            "requestTime" => clf(facts.time),
            "requestTimeEpoch" => facts.time_epoch_ms.to_string(),
            "identity.sourceIp" => inc.source_ip.to_string(),
            "identity.userAgent" => return inc.header("user-agent").map(String::from),
            "integrationStatus" | "integration.integrationStatus" | "integration.status" => {
                return facts.integration_status.map(|s| s.to_string())
            }
            "integrationLatency" | "integration.latency" => {
                return facts.integration_latency_ms.map(|l| l.to_string())
            }
            "integrationErrorMessage" | "integration.error" => return opt(&facts.integration_error),
            "error.message" | "error.messageString" => {
                return facts.error_message.as_ref().map(|m| {
                    if name == "error.messageString" {
                        format!("\"{m}\"")
                    } else {
                        m.clone()
                    }
                })
            }
            "error.responseType" => return opt(&facts.error_response_type),
            "dataProcessed" => (inc.body.len() + facts.response_length).to_string(),
            "eventType" | "connectionId" | "messageId" | "connectedAt" => {
                return facts.websocket_variable(name)
            }
            other => return facts.authorizer_value(other.strip_prefix("authorizer.")?),
        })
    }
}

/// A request as its matched route sees it: what a Lambda event, a Lambda authorizer's event
/// and parameter mapping are built from.
#[derive(Clone, Copy)]
pub struct Routed<'a> {
    /// The invocation.
    pub inv: &'a Invocation,
    /// The route's path template (`/pets/{id}`; empty for `$default`).
    pub template: &'a str,
    /// Path parameters, in path order.
    pub params: &'a [(String, String)],
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
}

/// Facts gathered while serving, for events, logs and metrics.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `$context.requestId`, as the `apigw-requestid` header's value (see
    /// [`Facts::request_id`]).
    pub request_id: http::HeaderValue,
    /// `$context.accountId`.
    pub account_id: Arc<str>,
    /// `$context.apiId` (empty until the API is found).
    pub api_id: Arc<str>,
    /// `$context.domainName`.
    pub domain_name: Arc<str>,
    /// Whether the request came through a custom domain name's API mapping (the client's
    /// path then begins with the mapping's key, which the API's own path does not).
    pub custom_domain: bool,
    /// `$context.stage`.
    pub stage: Arc<str>,
    /// `$context.routeKey` (`-` until a route matched).
    pub route_key: Option<Arc<str>>,
    /// Request time, seconds since the epoch.
    pub time: i64,
    /// Request time, milliseconds since the epoch.
    pub time_epoch_ms: i64,
    /// `$context.status`.
    pub status: u16,
    /// `$context.responseLength`.
    pub response_length: usize,
    /// `$context.responseLatency`, ms.
    pub response_latency_ms: u64,
    /// `$context.integrationStatus`.
    pub integration_status: Option<u16>,
    /// `$context.integrationLatency`, ms.
    pub integration_latency_ms: Option<u64>,
    /// `$context.integrationErrorMessage`.
    pub integration_error: Option<String>,
    /// `$context.error.message`.
    pub error_message: Option<String>,
    /// `$context.error.responseType`.
    pub error_response_type: Option<String>,
    /// Why the gateway answered itself, in words, for the server's log line.
    pub reason: Option<String>,
    /// `$context.authorizer.claims.*` and other authorizer values.
    pub authorizer: Vec<(String, String)>,
    /// A WebSocket event's own variables (none for HTTP requests).
    pub websocket: Option<Box<WebSocketFacts>>,
    /// What was sent and got, while the inspector records.
    pub exchange: Option<Box<Exchange>>,
}

/// What a WebSocket event adds to `$context`.
#[derive(Debug, Clone, Default)]
pub struct WebSocketFacts {
    /// `$context.eventType`: `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub event_type: &'static str,
    /// `$context.connectionId`.
    pub connection_id: String,
    /// `$context.messageId` (MESSAGE events).
    pub message_id: Option<String>,
    /// `$context.connectedAt`, ms since the epoch.
    pub connected_at: i64,
}

impl Default for Facts {
    fn default() -> Facts {
        Facts {
            request_id: http::HeaderValue::from_static(""),
            account_id: Arc::default(),
            api_id: Arc::default(),
            domain_name: Arc::default(),
            custom_domain: false,
            stage: Arc::default(),
            route_key: None,
            time: 0,
            time_epoch_ms: 0,
            status: 0,
            response_length: 0,
            response_latency_ms: 0,
            integration_status: None,
            integration_latency_ms: None,
            integration_error: None,
            error_message: None,
            error_response_type: None,
            reason: None,
            authorizer: Vec::new(),
            websocket: None,
            exchange: None,
        }
    }
}

impl Routed<'_> {
    /// The request, as received.
    pub fn incoming(&self) -> &Incoming {
        &self.inv.incoming
    }

    /// Facts so far (ids, times, stage, route key).
    pub fn facts(&self) -> &Facts {
        &self.inv.facts
    }

    /// The path after the stage.
    pub fn path(&self) -> &str {
        self.inv.path()
    }
}

impl Facts {
    /// A WebSocket event's variable (`eventType`, `connectionId`, `messageId`,
    /// `connectedAt`).
    fn websocket_variable(&self, name: &str) -> Option<String> {
        let ws = self.websocket.as_ref()?;
        Some(match name {
            "eventType" => ws.event_type.to_string(),
            "connectionId" => ws.connection_id.clone(),
            "messageId" => return ws.message_id.clone(),
            _ => ws.connected_at.to_string(),
        })
    }

    /// An authorizer's value, `$context.authorizer.{key}` (`claims.sub`, a Lambda
    /// authorizer's context key, `principalId`).
    pub fn authorizer_value(&self, key: &str) -> Option<String> {
        let key = key
            .strip_prefix("claims.")
            .map_or(key.to_string(), |c| format!("claims.{c}"));
        self.authorizer
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    /// `$context.requestId`.
    pub fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or_default()
    }

    /// `$context.domainPrefix`: a custom domain name's first label, else the API id.
    pub fn domain_prefix(&self) -> &str {
        if self.custom_domain {
            self.domain_name.split('.').next().unwrap_or_default()
        } else {
            &self.api_id
        }
    }
}

impl Incoming {
    /// The path exactly as the client sent it.
    pub fn uri_path(&self) -> &str {
        self.uri.path()
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `$context.identity.userAgent`.
    pub fn user_agent(&self) -> &str {
        self.header("user-agent").unwrap_or("")
    }
}

/// What a route's authorizer let through, as the later steps see it.
#[derive(Debug, Clone)]
pub enum Authorized {
    /// A verified JWT: its claims and the scopes it carries.
    Jwt {
        /// The token's claims.
        claims: Arc<serde_json::Map<String, serde_json::Value>>,
        /// Its scopes.
        scopes: Vec<String>,
    },
    /// A Lambda authorizer's context, and its principal (for IAM policy answers).
    Lambda {
        /// The context it returned.
        context: serde_json::Value,
        /// Its `principalId`.
        principal: Option<String>,
    },
}

impl Authorized {
    /// What the Lambda event of payload format `version` carries as its `authorizer`:
    /// under `jwt` or `lambda` in 2.0; the claims and scopes, or the context with its
    /// `principalId`, in 1.0.
    pub fn event_context(&self, version: &str) -> serde_json::Value {
        use serde_json::{json, Value};
        match self {
            Authorized::Jwt { claims, scopes } => {
                let claims: serde_json::Map<String, Value> = claims
                    .iter()
                    .map(|(k, c)| (k.clone(), Value::String(claim_text(c))))
                    .collect();
                let scopes = if scopes.is_empty() {
                    Value::Null
                } else {
                    json!(scopes)
                };
                if version == "2.0" {
                    json!({"jwt": {"claims": claims, "scopes": scopes}})
                } else {
                    json!({"claims": claims, "scopes": scopes})
                }
            }
            Authorized::Lambda { context, principal } => {
                if version == "2.0" {
                    json!({ "lambda": context })
                } else {
                    let mut c = context.as_object().cloned().unwrap_or_default();
                    if let Some(p) = principal {
                        c.insert("principalId".into(), json!(p));
                    }
                    Value::Object(c)
                }
            }
        }
    }

    /// The `$context.authorizer.*` values it gives (`claims.sub`, a context key,
    /// `principalId`).
    pub fn values(&self) -> Vec<(String, String)> {
        match self {
            Authorized::Jwt { claims, .. } => claims
                .iter()
                .map(|(k, c)| (format!("claims.{k}"), claim_text(c)))
                .collect(),
            Authorized::Lambda { context, principal } => context
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), claim_text(v)))
                .chain(
                    principal
                        .iter()
                        .map(|p| ("principalId".to_string(), p.clone())),
                )
                .collect(),
        }
    }
}

/// A claim's (or an authorizer context value's) value as API Gateway passes it on: strings
/// as they are, lists like Go slices (`[a b]`), anything else as its JSON text.
pub fn claim_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(claim_text).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

/// Decoded query pairs, in order.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (dec(k), dec(v))
        })
        .collect()
}
