//! Parameter mapping for HTTP_PROXY integrations: `requestParameters` change the request
//! before it reaches the backend (`append|overwrite|remove:header.name`,
//! `append|overwrite|remove:querystring.name`, `overwrite:path`), `responseParameters` change
//! the backend's answer per status code (`…:header.name`, `overwrite:statuscode`). Values are
//! static text, `$request.header.x`, `$request.querystring.x`, `$request.body.a.b`,
//! `$request.path`, `$request.path.x`, `$context.x`, `$stageVariables.x`,
//! `$response.header.x`, `$response.body.a.b`, or several inside `${…}`.

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

use crate::context::Routed;

/// What mapping values may refer to.
pub struct Sources<'a> {
    /// The client's request, as its route sees it.
    pub request: Routed<'a>,
    /// The backend's answer (response mapping only).
    pub response: Option<Answer<'a>>,
}

/// A backend's answer as response mapping reads it: its headers, and its body when a
/// mapping reads `$response.body` (else empty).
#[derive(Clone, Copy)]
pub struct Answer<'a> {
    /// The answer's headers.
    pub headers: &'a HeaderMap,
    /// The answer's body.
    pub body: &'a [u8],
}

/// Whether any of the response mappings reads the backend's body.
pub fn reads_response_body(params: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    params
        .values()
        .flat_map(|m| m.values())
        .any(|v| v.contains("$response.body"))
}

/// Whether any of the request mappings reads the client's body.
pub fn reads_request_body(params: &BTreeMap<String, String>) -> bool {
    params.values().any(|v| v.contains("$request.body"))
}

fn json_path(body: &[u8], path: &str) -> Option<String> {
    let value: Value = serde_json::from_slice(body.get(..body.len().min(100 * 1024))?).ok()?;
    let mut at = &value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        at = match at {
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            other => other.get(part)?,
        };
    }
    Some(match at {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn headers_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name.to_ascii_lowercase())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The value of one `$…` expression.
fn one(expr: &str, src: &Sources<'_>) -> Option<String> {
    let request = &src.request;
    let incoming = request.incoming();
    if let Some(h) = expr.strip_prefix("$request.header.") {
        return headers_value(&incoming.headers, h);
    }
    if let Some(q) = expr.strip_prefix("$request.querystring.") {
        let values: Vec<String> = crate::context::query_pairs(incoming.query())
            .into_iter()
            .filter(|(k, _)| k == q)
            .map(|(_, v)| v)
            .collect();
        return (!values.is_empty()).then(|| values.join(","));
    }
    if let Some(p) = expr.strip_prefix("$request.body.") {
        return json_path(&incoming.body, p);
    }
    if expr == "$request.body" {
        return Some(String::from_utf8_lossy(&incoming.body).into_owned());
    }
    if expr == "$request.path" {
        return Some(request.path().to_string());
    }
    if let Some(p) = expr.strip_prefix("$request.path.") {
        return request
            .params
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, v)| v.clone());
    }
    if let Some(c) = expr.strip_prefix("$context.") {
        return request.inv.variable(c);
    }
    if let Some(v) = expr.strip_prefix("$stageVariables.") {
        return request.stage_variables.get(v).cloned();
    }
    let resp = src.response?;
    if let Some(h) = expr.strip_prefix("$response.header.") {
        return headers_value(resp.headers, h);
    }
    if let Some(p) = expr.strip_prefix("$response.body.") {
        return json_path(resp.body, p);
    }
    None
}

/// A mapping value: a whole `$…` expression, static text, or text with `${…}` inside.
pub fn resolve(value: &str, src: &Sources<'_>) -> String {
    if value.starts_with('$') && !value.starts_with("${") {
        return one(value, src).unwrap_or_default();
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&one(&format!("${}", &after[..end]), src).unwrap_or_default());
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn header_name(name: &str) -> Option<HeaderName> {
    HeaderName::from_bytes(name.as_bytes()).ok()
}

fn apply_header(headers: &mut HeaderMap, action: &str, name: &str, value: &str) {
    let Some(name) = header_name(name) else {
        return;
    };
    match action {
        "remove" => {
            headers.remove(&name);
        }
        "overwrite" => {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        "append" => {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.append(name, v);
            }
        }
        _ => {}
    }
}

/// The request as the backend will get it: headers, query pairs and path.
pub struct Mapped {
    /// Headers.
    pub headers: HeaderMap,
    /// Query pairs (decoded).
    pub query: Vec<(String, String)>,
    /// A replacement path (`overwrite:path`).
    pub path: Option<String>,
}

/// Applies an integration's `requestParameters`.
pub fn request(params: &BTreeMap<String, String>, src: &Sources<'_>) -> Mapped {
    let mut mapped = Mapped {
        headers: src.request.incoming().headers.clone(),
        query: crate::context::query_pairs(src.request.incoming().query()),
        path: None,
    };
    for (key, value) in params {
        let Some((action, target)) = key.split_once(':') else {
            continue;
        };
        let v = resolve(value, src);
        if let Some(name) = target.strip_prefix("header.") {
            apply_header(&mut mapped.headers, action, name, &v);
        } else if let Some(name) = target.strip_prefix("querystring.") {
            match action {
                "remove" => mapped.query.retain(|(k, _)| k != name),
                "overwrite" => {
                    mapped.query.retain(|(k, _)| k != name);
                    mapped.query.push((name.to_string(), v));
                }
                "append" => mapped.query.push((name.to_string(), v)),
                _ => {}
            }
        } else if target == "path" && action == "overwrite" {
            mapped.path = Some(v);
        }
    }
    mapped
}

/// Applies an integration's `responseParameters` for the backend's status code.
pub fn response(
    params: &BTreeMap<String, BTreeMap<String, String>>,
    resp: &mut http::response::Parts,
    src: &Sources<'_>,
) {
    let Some(for_status) = params.get(&resp.status.as_u16().to_string()) else {
        return;
    };
    let mut status = None;
    let mut changes = Vec::new();
    for (key, value) in for_status {
        let Some((action, target)) = key.split_once(':') else {
            continue;
        };
        let v = resolve(value, src);
        if target == "statuscode" && action == "overwrite" {
            status = v
                .trim()
                .parse::<u16>()
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok());
        } else if let Some(name) = target.strip_prefix("header.") {
            changes.push((action.to_string(), name.to_string(), v));
        }
    }
    for (action, name, v) in changes {
        apply_header(&mut resp.headers, &action, &name, &v);
    }
    if let Some(s) = status {
        resp.status = s;
    }
}
