//! The last step: once an answer has gone out, the invocation is counted ([`metrics`]), its
//! stage's access-log line written ([`access_log`]) and the server's `invoke` log line
//! written. Every answer carries its [`request_id`].

pub mod access_log;
pub mod metrics;
pub mod request_id;
pub mod websocket;

use std::sync::Arc;
use std::time::Instant;

use gatehouse_http::body::{self, Body, Counted};
use http::Response;

use self::access_log::AccessLogs;
use self::metrics::Metrics;
use crate::context::Invocation;

/// Where invocations are recorded.
#[derive(Default)]
pub struct Observer {
    /// The access logs.
    pub logs: Arc<AccessLogs>,
    /// Invocation metrics.
    pub metrics: Arc<Metrics>,
}

impl Observer {
    /// An observer writing access logs as `logs` says.
    pub fn new(logs: AccessLogs) -> Observer {
        Observer {
            logs: Arc::new(logs),
            metrics: Arc::default(),
        }
    }

    /// `resp` with its body counted: once the body has gone out, `inv` (begun at
    /// `started`) is counted and logged, and its access-log line (in `format`, for the stage
    /// in `region`) written.
    pub fn record(
        &self,
        resp: Response<Body>,
        mut inv: Invocation,
        started: Instant,
        format: Option<String>,
        region: &str,
    ) -> Response<Counted> {
        let (metrics, logs) = (self.metrics.clone(), self.logs.clone());
        let region = format.as_ref().map(|_| region.to_string());
        let on_end: body::OnEnd = Box::new(move |ended| {
            inv.facts.response_length = ended.sent;
            let latency = started.elapsed();
            inv.facts.response_latency_ms = latency.as_millis() as u64;
            metrics.record(&inv.facts);
            tracing::info!(
                request_id = %inv.facts.request_id(),
                method = %inv.incoming.method,
                path = %inv.incoming.uri_path(),
                status = inv.facts.status,
                latency_us = latency.as_micros() as u64,
                "invoke"
            );
            if let (Some(format), Some(region)) = (format, region) {
                let line = access_log::render(&format, &inv);
                logs.write(&region, &inv.facts, line);
            }
        });
        resp.map(|b| Counted::new(b, on_end))
    }
}
