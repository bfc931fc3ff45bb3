//! The last step: once an answer has gone out, the invocation is counted ([`metrics`]), its
//! stage's access-log line written ([`access_log`]), its trace kept for the inspector
//! ([`inspector`]) and the server's `invoke` log line written. Every answer carries its
//! [`request_id`].

pub mod access_log;
pub mod inspector;
pub mod metrics;
pub mod recent;
pub mod request_id;
pub mod websocket;

use std::sync::Arc;
use std::time::Instant;

use gatehouse_http::body::{self, Body, Counted};
use http::Response;

use self::access_log::AccessLogs;
use self::inspector::{Inspector, Trace};
use self::metrics::Metrics;
use crate::context::Invocation;
use crate::exchange::{Captured, Recorded, Step};

/// What a request asked for, whatever it resolved to: for the server's log line.
pub struct Asked {
    /// The API id the URL (or the custom domain's mapping) names.
    pub api_id: String,
    /// The region the API was found in, else the one the request names, else the default.
    pub region: Arc<str>,
}

/// Where invocations are recorded.
#[derive(Default)]
pub struct Observer {
    /// The access logs.
    pub logs: Arc<AccessLogs>,
    /// Invocation metrics.
    pub metrics: Arc<Metrics>,
    /// The inspector's traces.
    pub inspector: Arc<Inspector>,
}

/// What the stage says about recording an invocation: its access-log format and the
/// deployment that served it (kept only when the inspector records).
#[derive(Default)]
pub struct Recording {
    /// The access-log format.
    pub format: Option<String>,
    /// The deployment id.
    pub deployment: Option<Arc<str>>,
}

impl Observer {
    /// An observer writing access logs as `logs` says and keeping traces as `inspector`
    /// does.
    pub fn new(logs: AccessLogs, inspector: Inspector) -> Observer {
        Observer {
            logs: Arc::new(logs),
            metrics: Arc::default(),
            inspector: Arc::new(inspector),
        }
    }

    /// `resp` with its body counted: once the body has gone out, `inv` (begun at
    /// `started`, for what `asked` names) is counted and logged, its access-log line written
    /// and its trace kept, as `recording` says.
    pub fn record(
        &self,
        resp: Response<Body>,
        mut inv: Invocation,
        started: Instant,
        recording: Recording,
        asked: Asked,
    ) -> Response<Counted> {
        let (metrics, logs) = (self.metrics.clone(), self.logs.clone());
        let inspector = self.inspector.clone();
        // While the inspector records bodies, the response's first bytes are kept too.
        let keep = inv.exchange().map_or(0, |x| x.body_limit);
        let on_end: body::OnEnd = Box::new(move |ended| {
            let now = Instant::now();
            inv.mark(Step::Respond, now);
            inv.facts.response_length = ended.sent;
            if let (Some(x), Some(head)) = (inv.exchange(), ended.head) {
                if let Some(response) = &mut x.response {
                    response.body = Recorded::Whole(Captured {
                        head,
                        total: ended.sent,
                    });
                }
            }
            let latency = now.saturating_duration_since(started);
            inv.facts.response_latency_ms = latency.as_millis() as u64;
            metrics.record(&inv.facts, latency.as_micros() as u64);
            log_line(&inv, &asked, latency.as_micros() as u64);
            let line = recording.format.map(|f| access_log::render(&f, &inv));
            log_and_keep(
                &logs,
                &inspector,
                &asked.region,
                inv,
                line,
                recording.deployment,
            );
        });
        resp.map(|b| match keep {
            0 => Counted::new(b, on_end),
            limit => Counted::new(b, on_end).keeping(limit),
        })
    }
}

/// Writes an invocation's access-log line `line` (when its stage keeps one) in `region`'s
/// logs, and keeps its trace (when the inspector records and a stage was found), for HTTP
/// requests and WebSocket events alike.
pub fn log_and_keep(
    logs: &AccessLogs,
    inspector: &Inspector,
    region: &Arc<str>,
    inv: Invocation,
    line: Option<String>,
    deployment: Option<Arc<str>>,
) {
    let traced = inspector.records() && !inv.facts.stage.is_empty();
    match (line, traced) {
        (Some(line), false) => logs.write(region, &inv.facts, line),
        (line, true) => {
            if let Some(line) = &line {
                logs.write(region, &inv.facts, line.clone());
            }
            inspector.keep(region.clone(), Trace::of(inv, deployment, line));
        }
        (None, false) => {}
    }
}

/// The server's `invoke` log line. An answer the gateway gave itself (no API, stage or
/// route serves the request; a throttle, an authorizer or an integration failed) names what
/// was asked for and why, at `warn` for a 5xx.
fn log_line(inv: &Invocation, asked: &Asked, latency_us: u64) {
    let facts = &inv.facts;
    if facts.error_message.is_none() {
        tracing::info!(
            request_id = %facts.request_id(),
            method = %inv.incoming.method,
            path = %inv.incoming.uri_path(),
            status = facts.status,
            latency_us,
            "invoke"
        );
        return;
    }
    let route = facts.route_key.as_deref().unwrap_or("no route");
    let stage = match &*facts.stage {
        "" => "-",
        stage => stage,
    };
    let reason = match (&facts.integration_error, &facts.reason) {
        (Some(why), _) | (None, Some(why)) => why.as_str(),
        (None, None) => "-",
    };
    macro_rules! refused {
        ($level:ident) => {
            tracing::$level!(
                request_id = %facts.request_id(),
                method = %inv.incoming.method,
                path = %inv.incoming.uri_path(),
                status = facts.status,
                latency_us,
                api_id = %asked.api_id,
                region = %asked.region,
                %stage,
                route,
                reason,
                "invoke refused"
            )
        };
    }
    match facts.status >= 500 {
        true => refused!(warn),
        false => refused!(info),
    }
}
