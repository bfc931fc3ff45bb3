//! The invocation inspector's memory: the last invocations of each stage, as traces
//! (`GET /_gatehouse/invocations`), bounded per stage and in total bytes. A trace holds what
//! the invocation's facts say (the route, the gateway's reason, the integration's status and
//! error, the authorizer's values, timings, the access-log line); which routes were
//! candidates is worked out when a trace is read, from the deployment it names
//! (`/_gatehouse/explain` does the same), so recording costs no routing work.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::context::{Invocation, WebSocketFacts};
use crate::exchange::shown::request_headers;
use crate::exchange::{Exchange, Recorded};
use serde_json::json;

/// How much the inspector keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Invocations kept per stage (0: none recorded).
    pub per_stage: usize,
    /// Bytes all traces may take together, roughly; past it a stage's oldest are dropped.
    pub memory: usize,
    /// Bytes kept of each body (the request's, the integration's, the response's); 0 keeps
    /// none (`--record-bodies off`).
    pub body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_stage: 100,
            memory: 64 * 1024 * 1024,
            body_bytes: 64 * 1024,
        }
    }
}

/// One invocation, as the inspector shows it: what the invocation held, moved rather
/// than copied once its answer has gone out.
#[derive(Debug, Clone)]
pub struct Trace {
    /// `$context.requestId`.
    pub request_id: http::HeaderValue,
    /// When it arrived, ms since the epoch.
    pub time_epoch_ms: i64,
    /// The account that owns the API (not shown: who may read it).
    pub account: Arc<str>,
    /// The API.
    pub api_id: Arc<str>,
    /// The stage.
    pub stage: Arc<str>,
    /// The deployment that served it.
    pub deployment_id: Option<Arc<str>>,
    /// The request's method.
    pub method: http::Method,
    /// The request's target as the client sent it (stage segment included).
    pub uri: http::Uri,
    /// The path as received, and where the path its routes saw begins in it.
    path: (String, usize),
    /// The client's address.
    pub source_ip: Arc<str>,
    /// The route that matched (none: no route did).
    pub route_key: Option<Arc<str>>,
    /// The status the client got.
    pub status: u16,
    /// The gateway's own answer (`Not Found`, …), its response type, and why.
    pub error: Option<String>,
    /// `$context.error.responseType`.
    pub error_response_type: Option<String>,
    /// Why the gateway answered itself, in words.
    pub reason: Option<String>,
    /// `$context.integrationStatus`.
    pub integration_status: Option<u16>,
    /// `$context.integrationErrorMessage`.
    pub integration_error: Option<String>,
    /// What the authorizer passed on (claims, context).
    pub authorizer: Vec<(String, String)>,
    /// `$context.responseLatency`, ms.
    pub latency_ms: u64,
    /// `$context.integrationLatency`, ms.
    pub integration_latency_ms: Option<u64>,
    /// `$context.responseLength`.
    pub response_length: usize,
    /// The access-log line written for it, if the stage logs.
    pub access_log_line: Option<String>,
    /// The request's headers.
    headers: http::HeaderMap,
    /// What was sent and got.
    exchange: Option<Box<Exchange>>,
    /// A WebSocket event's type, connection and message.
    websocket: Option<Box<WebSocketFacts>>,
}

impl Trace {
    /// The trace of a finished invocation (`deployment` the stage's, `line` its access-log
    /// line), taking what `inv` holds.
    pub fn of(inv: Invocation, deployment: Option<Arc<str>>, line: Option<String>) -> Trace {
        let at = inv.route_path_offset();
        let (incoming, mut f) = (inv.incoming, inv.facts);
        let mut exchange = f.exchange.take();
        // A body read whole is the invocation's; one that streamed, the exchange's already.
        if let Some(x) = exchange.as_deref_mut() {
            if matches!(x.request_body, Recorded::None) {
                x.request_body = x.keep(&incoming.body);
            }
        }
        Trace {
            request_id: f.request_id,
            time_epoch_ms: f.time_epoch_ms,
            account: f.account_id,
            api_id: f.api_id,
            stage: f.stage,
            deployment_id: deployment,
            method: incoming.method,
            uri: incoming.uri,
            path: (incoming.path, at),
            source_ip: incoming.source_ip,
            route_key: f.route_key,
            status: f.status,
            error: f.error_message,
            error_response_type: f.error_response_type,
            reason: f.reason,
            integration_status: f.integration_status,
            integration_error: f.integration_error,
            authorizer: f.authorizer,
            latency_ms: f.response_latency_ms,
            integration_latency_ms: f.integration_latency_ms,
            response_length: f.response_length,
            access_log_line: line,
            headers: incoming.headers,
            exchange,
            websocket: f.websocket,
        }
    }

    /// `$context.requestId`.
    pub fn request_id(&self) -> &str {
        self.request_id.to_str().unwrap_or_default()
    }

    /// The path its routes saw (after the stage's segment).
    pub fn route_path(&self) -> &str {
        let (path, at) = &self.path;
        path.get(*at..).filter(|p| !p.is_empty()).unwrap_or("/")
    }

    /// Roughly the bytes it takes.
    fn size(&self) -> usize {
        let optional = [
            &self.error,
            &self.error_response_type,
            &self.reason,
            &self.integration_error,
            &self.access_log_line,
        ];
        std::mem::size_of::<Trace>()
            + self.exchange.as_ref().map_or(0, |x| x.size())
            + self
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 32)
                .sum::<usize>()
            + self.path.0.len()
            + self.uri.path().len()
            + self.uri.query().map_or(0, str::len)
            + optional
                .iter()
                .flat_map(|s| s.as_ref())
                .map(String::len)
                .sum::<usize>()
            + self
                .authorizer
                .iter()
                .map(|(k, v)| k.len() + v.len() + 48)
                .sum::<usize>()
    }
}

impl Serialize for Trace {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let authorizer: serde_json::Map<String, serde_json::Value> = self
            .authorizer
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("requestId", self.request_id())?;
        m.serialize_entry("timeEpochMs", &self.time_epoch_ms)?;
        m.serialize_entry("apiId", &*self.api_id)?;
        m.serialize_entry("stage", &*self.stage)?;
        m.serialize_entry("deploymentId", &self.deployment_id.as_deref())?;
        m.serialize_entry("method", self.method.as_str())?;
        m.serialize_entry("path", self.uri.path())?;
        m.serialize_entry("routePath", self.route_path())?;
        m.serialize_entry("query", self.uri.query().unwrap_or_default())?;
        m.serialize_entry("sourceIp", &*self.source_ip)?;
        m.serialize_entry("routeKey", &self.route_key.as_deref())?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("error", &self.error)?;
        m.serialize_entry("errorResponseType", &self.error_response_type)?;
        m.serialize_entry("reason", &self.reason)?;
        m.serialize_entry("integrationStatus", &self.integration_status)?;
        m.serialize_entry("integrationError", &self.integration_error)?;
        m.serialize_entry("authorizer", &authorizer)?;
        m.serialize_entry("latencyMs", &self.latency_ms)?;
        m.serialize_entry("integrationLatencyMs", &self.integration_latency_ms)?;
        m.serialize_entry("responseLength", &self.response_length)?;
        m.serialize_entry("accessLogLine", &self.access_log_line)?;
        if let Some(ws) = &self.websocket {
            m.serialize_entry("eventType", ws.event_type)?;
            m.serialize_entry("connectionId", &ws.connection_id)?;
            m.serialize_entry("messageId", &ws.message_id)?;
        }
        match &self.exchange {
            Some(x) => {
                for (k, v) in x.shown(&self.headers, &self.request_id) {
                    m.serialize_entry(&k, &v)?;
                }
            }
            None => m.serialize_entry(
                "request",
                &json!({"headers": request_headers(&self.headers)}),
            )?,
        }
        m.end()
    }
}

/// (region, apiId, stage), shared with the traces (no copy per invocation).
type StageKey = (Arc<str>, Arc<str>, Arc<str>);

/// A stage's traces, oldest first, each with its size.
type Kept = VecDeque<(usize, Arc<Trace>)>;

/// A trace as it is kept, for those watching: its region and the trace.
pub type Watched = (Arc<str>, Arc<Trace>);

/// The traces of every stage.
pub struct Inspector {
    limits: Limits,
    /// (Hashed fast: every invocation looks its stage up.)
    kept: Mutex<HashMap<StageKey, Kept, foldhash::fast::RandomState>>,
    bytes: AtomicUsize,
    count: AtomicUsize,
    /// Every trace as it is kept, for those watching (`/_gatehouse/invocations/stream`).
    live: broadcast::Sender<Watched>,
}

impl Default for Inspector {
    fn default() -> Inspector {
        Inspector::new(Limits::default())
    }
}

impl Inspector {
    /// An inspector keeping what `limits` allow.
    pub fn new(limits: Limits) -> Inspector {
        Inspector {
            limits,
            kept: Mutex::default(),
            bytes: AtomicUsize::new(0),
            count: AtomicUsize::new(0),
            live: broadcast::channel(1024).0,
        }
    }

    /// Every trace kept from now on, with its region (a watcher that falls more than 1,024
    /// behind misses some).
    pub fn watch(&self) -> broadcast::Receiver<Watched> {
        self.live.subscribe()
    }

    /// Whether it records at all.
    pub fn records(&self) -> bool {
        self.limits.per_stage > 0
    }

    /// Bytes kept of each body (0: none).
    pub fn body_bytes(&self) -> usize {
        self.limits.body_bytes
    }

    /// Keeps `trace`, of a stage in `region`, dropping that stage's oldest past the limits.
    pub fn keep(&self, region: Arc<str>, trace: Trace) {
        let size = trace.size();
        let key = (region.clone(), trace.api_id.clone(), trace.stage.clone());
        let trace = Arc::new(trace);
        if self.live.receiver_count() > 0 {
            let _ = self.live.send((region, trace.clone()));
        }
        // (What goes is dropped once the lock is let go: every invocation takes it. Mostly
        // one trace goes; more only when the memory cap is passed.)
        let mut gone: (Option<Arc<Trace>>, Vec<Arc<Trace>>) = (None, Vec::new());
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        let stage = kept.entry(key).or_default();
        stage.push_back((size, trace));
        let mut bytes = self.bytes.fetch_add(size, Ordering::Relaxed) + size;
        self.count.fetch_add(1, Ordering::Relaxed);
        while stage.len() > self.limits.per_stage || (bytes > self.limits.memory && stage.len() > 1)
        {
            let Some((dropped, trace)) = stage.pop_front() else {
                break;
            };
            match gone.0 {
                None => gone.0 = Some(trace),
                Some(_) => gone.1.push(trace),
            }
            bytes = self.bytes.fetch_sub(dropped, Ordering::Relaxed) - dropped;
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        drop(kept);
        drop(gone);
    }

    /// A stage's traces, newest first.
    pub fn traces(&self, region: &str, api_id: &str, stage: &str) -> Vec<Arc<Trace>> {
        let Ok(kept) = self.kept.lock() else {
            return Vec::new();
        };
        let key: StageKey = (region.into(), api_id.into(), stage.into());
        kept.get(&key)
            .map(|t| t.iter().rev().map(|(_, t)| t.clone()).collect())
            .unwrap_or_default()
    }

    /// Traces kept, and the bytes they take (for metrics).
    pub fn held(&self) -> (usize, usize) {
        (
            self.count.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(id: &str, reason_len: usize) -> Trace {
        Trace {
            request_id: http::HeaderValue::from_str(id).unwrap(),
            time_epoch_ms: 0,
            account: "123456789012".into(),
            api_id: "api".into(),
            stage: "prod".into(),
            deployment_id: None,
            method: http::Method::GET,
            uri: http::Uri::from_static("/"),
            path: ("/".into(), 0),
            source_ip: "127.0.0.1".into(),
            route_key: None,
            status: 200,
            error: None,
            error_response_type: None,
            reason: Some("x".repeat(reason_len)),
            integration_status: None,
            integration_error: None,
            authorizer: Vec::new(),
            latency_ms: 0,
            integration_latency_ms: None,
            response_length: 0,
            access_log_line: None,
            headers: http::HeaderMap::new(),
            exchange: None,
            websocket: None,
        }
    }

    #[test]
    fn keeps_the_newest_within_both_limits() {
        let i = Inspector::new(Limits {
            per_stage: 3,
            memory: 1 << 20,
            body_bytes: 0,
        });
        for n in 0..5 {
            i.keep("us-east-1".into(), trace(&n.to_string(), 10));
        }
        let ids: Vec<String> = i
            .traces("us-east-1", "api", "prod")
            .iter()
            .map(|t| t.request_id().to_string())
            .collect();
        assert_eq!(ids, ["4", "3", "2"]);
        assert_eq!(i.held().0, 3);
        let small = Inspector::new(Limits {
            per_stage: 100,
            memory: 3 * trace("", 10_000).size(),
            body_bytes: 0,
        });
        for n in 0..10 {
            small.keep("us-east-1".into(), trace(&n.to_string(), 10_000));
        }
        let (count, bytes) = small.held();
        assert!(
            count <= 3 && bytes <= 3 * trace("", 10_000).size(),
            "{count} {bytes}"
        );
    }
}
