//! What one invocation knows about itself: the request as the client sent it, where it was
//! routed, and what happened; the Lambda events and the access-log `$context` variables are
//! both read from here.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

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
}

/// A request as its matched route sees it: what a Lambda event, a Lambda authorizer's event
/// and parameter mapping are built from.
#[derive(Clone, Copy)]
pub struct Routed<'a> {
    /// The request.
    pub incoming: &'a Incoming,
    /// Facts so far (ids, times, stage, route key).
    pub facts: &'a Facts,
    /// The path after the stage.
    pub path: &'a str,
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
    /// `$context.authorizer.claims.*` and other authorizer values.
    pub authorizer: Vec<(String, String)>,
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
            authorizer: Vec::new(),
        }
    }
}

impl Facts {
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
