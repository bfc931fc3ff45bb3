//! Access logs: each stage with `accessLogSettings` gets one line per request, its `format`
//! with the `$context` variables AWS documents filled in (a missing value prints `-`). Lines
//! go to the configured sink (a file, or stderr) and the last 1,000 of each stage are kept
//! for `GET /_gatehouse/access-log/{apiId}/{stageName}`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Mutex;

use gatehouse_core::model::time::clf;

use crate::context::{Facts, Incoming};

/// Lines kept per stage.
pub const KEPT: usize = 1000;

/// The value of `$context.{name}` for a request, if it has one.
pub fn variable(name: &str, inc: &Incoming, facts: &Facts) -> Option<String> {
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
        other => {
            let key = other.strip_prefix("authorizer.")?;
            let key = key
                .strip_prefix("claims.")
                .map_or(key.to_string(), |c| format!("claims.{c}"));
            return facts
                .authorizer
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone());
        }
    })
}

/// `format` with every `$context.name` replaced.
pub fn render(format: &str, inc: &Incoming, facts: &Facts) -> String {
    let mut out = String::with_capacity(format.len() + 64);
    let mut rest = format;
    while let Some(at) = rest.find("$context.") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "$context.".len()..];
        let len = after
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' || c == ':')
            })
            .unwrap_or(after.len());
        let name = after[..len].trim_end_matches('.');
        out.push_str(&variable(name, inc, facts).unwrap_or_else(|| "-".into()));
        rest = &after[name.len()..];
    }
    out.push_str(rest);
    out
}

/// (region, apiId, stage).
type StageKey = (String, String, String);

/// Where access-log lines go besides the per-stage memory.
#[derive(Debug)]
pub enum Sink {
    /// Standard error.
    Stderr,
    /// A file, appended to.
    File(Mutex<std::fs::File>),
}

/// The per-stage memory of lines, and the sink.
#[derive(Default)]
pub struct AccessLogs {
    /// (region, apiId, stage) → (account, lines).
    kept: Mutex<HashMap<StageKey, (String, VecDeque<String>)>>,
    sink: Option<Sink>,
}

impl AccessLogs {
    /// Logs written to `sink` as well as kept.
    pub fn with_sink(sink: Option<Sink>) -> AccessLogs {
        AccessLogs {
            kept: Mutex::default(),
            sink,
        }
    }

    /// Records a line for a stage.
    pub fn write(&self, region: &str, facts: &Facts, line: String) {
        match &self.sink {
            Some(Sink::Stderr) => eprintln!("{line}"),
            Some(Sink::File(f)) => {
                if let Ok(mut f) = f.lock() {
                    if let Err(e) = writeln!(f, "{line}") {
                        tracing::warn!(error = %e, "cannot write the access log");
                    }
                }
            }
            None => {}
        }
        if let Ok(mut kept) = self.kept.lock() {
            let key = (
                region.to_string(),
                facts.api_id.to_string(),
                facts.stage.to_string(),
            );
            let (account, lines) = kept
                .entry(key)
                .or_insert_with(|| (facts.account_id.to_string(), VecDeque::new()));
            if **account != *facts.account_id {
                *account = facts.account_id.to_string();
            }
            if lines.len() == KEPT {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    /// The lines kept for a stage (oldest first) and the account that owns the API.
    pub fn lines(&self, region: &str, api_id: &str, stage: &str) -> Option<(String, Vec<String>)> {
        let kept = self.kept.lock().ok()?;
        kept.get(&(region.to_string(), api_id.to_string(), stage.to_string()))
            .map(|(account, lines)| (account.clone(), lines.iter().cloned().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_context_variables() {
        let inc = Incoming {
            method: http::Method::GET,
            path: "/prod/pets".into(),
            uri: http::Uri::from_static("/prod/pets"),
            headers: Default::default(),
            body: Default::default(),
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
        };
        let facts = Facts {
            request_id: http::HeaderValue::from_static("Mc7UVioPPHcEKPA="),
            route_key: Some("GET /pets".into()),
            status: 200,
            time: 1_583_348_638,
            authorizer: vec![("claims.sub".into(), "u1".into())],
            ..Default::default()
        };
        let line = render(
            r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","routeKey":"$context.routeKey","status":"$context.status","integ":"$context.integrationStatus","sub":"$context.authorizer.claims.sub","time":"$context.requestTime"}"#,
            &inc,
            &facts,
        );
        assert_eq!(
            line,
            r#"{"requestId":"Mc7UVioPPHcEKPA=","ip":"127.0.0.1","routeKey":"GET /pets","status":"200","integ":"-","sub":"u1","time":"04/Mar/2020:19:03:58 +0000"}"#
        );
    }
}
