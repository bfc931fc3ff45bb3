//! What an apply did, told once for every teller: as JSON (what `/_gatehouse/stacks`
//! answers) and as the lines `serve --template` and `gatehouse deploy` print from it.

use std::net::SocketAddr;

use gatehouse_core::model::stack::Stack;
use serde_json::{json, Value};

use super::Outcome;

/// Where a server answers, for the invoke URLs a report names.
pub struct Base {
    host: String,
    port: u16,
}

impl Base {
    /// A server listening on `addr` (one on every address is called on the loopback one).
    pub fn listening(addr: SocketAddr) -> Base {
        let host = match addr.ip().is_unspecified() {
            true => "127.0.0.1".to_string(),
            false => addr.ip().to_string(),
        };
        Base {
            host,
            port: addr.port(),
        }
    }

    /// A server called with `Host: host` (`gatehouse.ci:4599`; port 80 when it names none).
    pub fn called_as(host: &str) -> Base {
        let named = host
            .rsplit_once(':')
            .filter(|(h, p)| !h.is_empty() && !p.contains(']'))
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)));
        match named {
            Some((h, port)) => Base {
                host: h.to_string(),
                port,
            },
            None => Base {
                host: host.to_string(),
                port: 80,
            },
        }
    }

    /// A stage's invoke URLs: the host form, then the path form.
    fn urls(&self, api: &str, stage: &str, websocket: bool) -> Vec<String> {
        let scheme = if websocket { "ws" } else { "http" };
        let path = if stage == "$default" {
            String::new()
        } else {
            format!("/{stage}")
        };
        vec![
            format!("{scheme}://{api}.execute-api.localhost:{}{path}", self.port),
            format!(
                "{scheme}://{}:{}/_aws/execute-api/{api}{path}",
                self.host, self.port
            ),
        ]
    }
}

/// A stack as JSON: its APIs (each with its stages and their invoke URLs) and outputs.
pub fn stack_json(stack: &Stack, base: &Base) -> Value {
    let apis: Vec<Value> = stack
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ApiGatewayV2::Api")
        .map(|api| {
            let id = api.physical_id.as_str();
            let websocket =
                api.properties.get("ProtocolType").and_then(Value::as_str) == Some("WEBSOCKET");
            let stages: Vec<Value> = stack
                .resources
                .iter()
                .filter(|r| {
                    r.resource_type == "AWS::ApiGatewayV2::Stage" && r.root_id.as_deref() == Some(id)
                })
                .map(|s| json!({"stageName": s.physical_id, "urls": base.urls(id, &s.physical_id, websocket)}))
                .collect();
            let protocol = if websocket { "WEBSOCKET" } else { "HTTP" };
            json!({"logicalId": api.logical_id, "apiId": id, "protocolType": protocol, "stages": stages})
        })
        .collect();
    json!({"stackName": stack.stack_name, "lastUpdated": stack.last_updated, "apis": apis, "outputs": stack.outputs})
}

/// An apply's outcome as JSON: the stack, with what changed, the functions' names, the
/// warnings and the skipped types.
pub fn outcome_json(outcome: &Outcome, base: &Base) -> Value {
    let mut out = outcome
        .stack
        .as_ref()
        .map(|s| stack_json(s, base))
        .unwrap_or_else(|| json!({}));
    out["changes"] = json!(outcome.changes);
    out["skipped"] = json!(outcome.skipped);
    out["warnings"] = json!(outcome.warnings);
    out["functions"] = json!(outcome
        .functions
        .iter()
        .map(|(l, n)| json!({"logicalId": l, "name": n}))
        .collect::<Vec<_>>());
    out
}

fn texts(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// The lines to print for an outcome's JSON: what changed, where each API's stages
/// answer, each function's name, warnings, skipped types, outputs.
pub fn lines(report: &Value) -> Vec<String> {
    let name = report["stackName"].as_str().unwrap_or_default();
    let mut out = vec![format!(
        "gatehouse stack {name}: {} change(s) applied",
        report["changes"].as_array().map_or(0, Vec::len)
    )];
    out.extend(texts(&report["changes"]).map(|c| format!("  {c}")));
    for api in report["apis"].as_array().into_iter().flatten() {
        for stage in api["stages"].as_array().into_iter().flatten() {
            let urls: Vec<&str> = texts(&stage["urls"]).collect();
            out.push(format!(
                "  {} {} ({}) stage {}: {}",
                api["logicalId"].as_str().unwrap_or_default(),
                api["apiId"].as_str().unwrap_or_default(),
                api["protocolType"].as_str().unwrap_or_default(),
                stage["stageName"].as_str().unwrap_or_default(),
                urls.join("  ")
            ));
        }
    }
    for f in report["functions"].as_array().into_iter().flatten() {
        let (logical, fname) = (f["logicalId"].as_str(), f["name"].as_str());
        out.push(format!(
            "  function {} → Invoke API name {}",
            logical.unwrap_or_default(),
            fname.unwrap_or_default()
        ));
    }
    out.extend(texts(&report["warnings"]).map(|w| format!("  warning: {w}")));
    for (t, n) in report["skipped"].as_object().into_iter().flatten() {
        out.push(format!(
            "  skipped {n} {t} (gatehouse does not create this type)"
        ));
    }
    for (k, v) in report["outputs"].as_object().into_iter().flatten() {
        let shown = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        out.push(format!("  output {k} = {shown}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_header_names_host_and_port() {
        let b = Base::called_as("gatehouse.ci:4599");
        assert_eq!((b.host.as_str(), b.port), ("gatehouse.ci", 4599));
        let b = Base::called_as("[::1]:8080");
        assert_eq!((b.host.as_str(), b.port), ("[::1]", 8080));
        let b = Base::called_as("[::1]");
        assert_eq!((b.host.as_str(), b.port), ("[::1]", 80));
        let b = Base::called_as("example.com");
        assert_eq!((b.host.as_str(), b.port), ("example.com", 80));
        assert_eq!(
            Base::listening("0.0.0.0:4599".parse().unwrap()).urls("a", "dev", true),
            [
                "ws://a.execute-api.localhost:4599/dev",
                "ws://127.0.0.1:4599/_aws/execute-api/a/dev"
            ]
        );
    }
}
