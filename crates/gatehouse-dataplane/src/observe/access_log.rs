//! Access logs: each stage with `accessLogSettings` gets one line per request, its `format`
//! with the `$context` variables AWS documents filled in (a missing value prints `-`). Lines
//! go to the configured sink (a file, or stderr) and the last 1,000 of each stage are kept
//! for `GET /_gatehouse/access-log/{apiId}/{stageName}`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Mutex;

use crate::context::{Facts, Invocation};

/// Lines kept per stage.
pub const KEPT: usize = 1000;

/// `format` with every `$context.name` replaced.
pub fn render(format: &str, inv: &Invocation) -> String {
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
        out.push_str(&inv.variable(name).unwrap_or_else(|| "-".into()));
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
    use crate::context::Incoming;

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
            header_names: Vec::new(),
        };
        let mut inv = Invocation::new(
            inc,
            http::HeaderValue::from_static("Mc7UVioPPHcEKPA="),
            1_583_348_638_000,
            false,
        );
        inv.facts.route_key = Some("GET /pets".into());
        inv.facts.status = 200;
        inv.facts.authorizer = vec![("claims.sub".into(), "u1".into())];
        let line = render(
            r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","routeKey":"$context.routeKey","status":"$context.status","integ":"$context.integrationStatus","sub":"$context.authorizer.claims.sub","time":"$context.requestTime"}"#,
            &inv,
        );
        assert_eq!(
            line,
            r#"{"requestId":"Mc7UVioPPHcEKPA=","ip":"127.0.0.1","routeKey":"GET /pets","status":"200","integ":"-","sub":"u1","time":"04/Mar/2020:19:03:58 +0000"}"#
        );
    }
}
