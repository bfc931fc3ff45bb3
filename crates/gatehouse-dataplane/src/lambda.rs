//! AWS_PROXY integrations: the Lambda event (payload format 1.0 or 2.0) built from the
//! request, the function found from the integration URI, the Invoke API call
//! (`POST {endpoint}/2015-03-31/functions/{name}/invocations`, which the Lambda runtime
//! interface emulator, `cargo lambda watch`, SAM's `start-lambda` and LocalStack serve), and
//! the function's answer read by AWS's rules.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::{json, Map, Value};

use crate::context::{Facts, Incoming};

/// Everything an event is built from.
pub struct EventInput<'a> {
    /// The request.
    pub incoming: &'a Incoming,
    /// Facts so far (ids, times, stage, route key).
    pub facts: &'a Facts,
    /// The route's path template (`/pets/{id}`; empty for `$default`).
    pub template: &'a str,
    /// Path parameters.
    pub params: &'a [(String, String)],
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
    /// What the authorizer passed on (`jwt`/`lambda` context), if any.
    pub authorizer: Option<Value>,
}

/// Content types whose bodies a Lambda event carries as text; every other body (and a body
/// without a content type) is base64 with `isBase64Encoded: true`.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct == "application/xml"
        || ct == "application/javascript"
        || ct.ends_with("+json")
        || ct.ends_with("+xml")
}

fn body(incoming: &Incoming) -> (Option<String>, bool) {
    if incoming.body.is_empty() {
        return (None, false);
    }
    if is_text(incoming.header("content-type")) {
        if let Ok(text) = std::str::from_utf8(&incoming.body) {
            return (Some(text.to_string()), false);
        }
    }
    (Some(STANDARD.encode(&incoming.body)), true)
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

/// Header names (lower case) with their values, in order, grouped.
fn header_groups(incoming: &Incoming) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &incoming.headers {
        if let Ok(v) = value.to_str() {
            out.entry(name.as_str().to_string())
                .or_default()
                .push(v.to_string());
        }
    }
    out
}

/// Headers API Gateway adds to what the function sees.
fn added_headers(incoming: &Incoming, facts: &Facts, groups: &mut BTreeMap<String, Vec<String>>) {
    let forwarded_for = match groups.get("x-forwarded-for") {
        Some(v) => format!("{}, {}", v.join(", "), incoming.source_ip),
        None => incoming.source_ip.clone(),
    };
    groups.insert("x-forwarded-for".into(), vec![forwarded_for]);
    groups.insert("x-forwarded-port".into(), vec!["443".into()]);
    groups.insert("x-forwarded-proto".into(), vec!["https".into()]);
    groups
        .entry("x-amzn-trace-id".into())
        .or_insert_with(|| vec![trace_id(facts)]);
}

/// An X-Ray trace id: `Root=1-{time hex}-{24 hex}`.
fn trace_id(facts: &Facts) -> String {
    let random: [u8; 12] = rand::random();
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("Root=1-{:08x}-{hex}", facts.time)
}

fn non_empty<T: serde::Serialize>(map: &BTreeMap<String, T>) -> Option<Value> {
    (!map.is_empty()).then(|| json!(map))
}

/// The payload format 2.0 event.
pub fn event_v2(input: &EventInput<'_>) -> Value {
    let inc = input.incoming;
    let facts = input.facts;
    let mut groups = header_groups(inc);
    let cookies: Vec<String> = groups
        .remove("cookie")
        .unwrap_or_default()
        .iter()
        .flat_map(|c| c.split(';').map(|p| p.trim().to_string()))
        .filter(|p| !p.is_empty())
        .collect();
    added_headers(inc, facts, &mut groups);
    let headers: BTreeMap<String, String> =
        groups.into_iter().map(|(k, v)| (k, v.join(","))).collect();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in query_pairs(inc.query.as_deref()) {
        query
            .entry(k)
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v);
            })
            .or_insert(v);
    }
    let params: BTreeMap<String, String> = input.params.iter().cloned().collect();
    let (body, base64) = body(inc);
    let route_key = facts.route_key.clone().unwrap_or_default();
    let mut request_context = json!({
        "accountId": facts.account_id,
        "apiId": facts.api_id,
        "domainName": facts.domain_name,
        "domainPrefix": facts.domain_prefix,
        "http": {
            "method": inc.method,
            "path": inc.path,
            "protocol": inc.protocol,
            "sourceIp": inc.source_ip,
            "userAgent": inc.user_agent(),
        },
        "requestId": facts.request_id,
        "routeKey": route_key,
        "stage": facts.stage,
        "time": gatehouse_core::model::time::clf(facts.time),
        "timeEpoch": facts.time_epoch_ms,
    });
    if let (Some(a), Some(rc)) = (&input.authorizer, request_context.as_object_mut()) {
        rc.insert("authorizer".into(), a.clone());
    }
    let mut event = Map::new();
    event.insert("version".into(), json!("2.0"));
    event.insert("routeKey".into(), json!(route_key));
    event.insert("rawPath".into(), json!(inc.path));
    event.insert(
        "rawQueryString".into(),
        json!(inc.query.clone().unwrap_or_default()),
    );
    if !cookies.is_empty() {
        event.insert("cookies".into(), json!(cookies));
    }
    event.insert("headers".into(), json!(headers));
    if let Some(q) = non_empty(&query) {
        event.insert("queryStringParameters".into(), q);
    }
    event.insert("requestContext".into(), request_context);
    if let Some(p) = non_empty(&params) {
        event.insert("pathParameters".into(), p);
    }
    if let Some(b) = body {
        event.insert("body".into(), json!(b));
    }
    event.insert("isBase64Encoded".into(), json!(base64));
    if let Some(s) = non_empty(input.stage_variables) {
        event.insert("stageVariables".into(), s);
    }
    Value::Object(event)
}

/// The payload format 1.0 event (REST-compatible).
pub fn event_v1(input: &EventInput<'_>) -> Value {
    let inc = input.incoming;
    let facts = input.facts;
    let mut groups = header_groups(inc);
    added_headers(inc, facts, &mut groups);
    let headers: BTreeMap<&String, &String> = groups
        .iter()
        .filter_map(|(k, v)| v.last().map(|last| (k, last)))
        .collect();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in query_pairs(inc.query.as_deref()) {
        multi_query.entry(k).or_default().push(v);
    }
    let query: BTreeMap<&String, &String> = multi_query
        .iter()
        .filter_map(|(k, v)| v.last().map(|last| (k, last)))
        .collect();
    let params: BTreeMap<String, String> = input.params.iter().cloned().collect();
    let (body, base64) = body(inc);
    let route_key = facts.route_key.clone().unwrap_or_default();
    let resource = if input.template.is_empty() {
        route_key.clone()
    } else {
        input.template.to_string()
    };
    let null_if_empty = |v: Option<Value>| v.unwrap_or(Value::Null);
    json!({
        "version": "1.0",
        "resource": resource,
        "path": inc.path,
        "httpMethod": inc.method,
        "headers": headers,
        "multiValueHeaders": groups,
        "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
        "multiValueQueryStringParameters": null_if_empty(non_empty(&multi_query)),
        "requestContext": {
            "accountId": facts.account_id,
            "apiId": facts.api_id,
            "authorizer": input.authorizer.clone().unwrap_or(json!({"claims": null, "scopes": null})),
            "domainName": facts.domain_name,
            "domainPrefix": facts.domain_prefix,
            "extendedRequestId": facts.request_id,
            "httpMethod": inc.method,
            "identity": {
                "accessKey": null, "accountId": null, "caller": null,
                "cognitoAmr": null, "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null, "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null, "principalOrgId": null,
                "sourceIp": inc.source_ip, "user": null,
                "userAgent": inc.user_agent(), "userArn": null,
            },
            "path": inc.path,
            "protocol": inc.protocol,
            "requestId": facts.request_id,
            "requestTime": gatehouse_core::model::time::clf(facts.time),
            "requestTimeEpoch": facts.time_epoch_ms,
            "resourceId": route_key,
            "resourcePath": resource,
            "stage": facts.stage,
        },
        "pathParameters": null_if_empty(non_empty(&params)),
        "stageVariables": null_if_empty(non_empty(input.stage_variables)),
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// The function an integration URI names, and its qualifier: a Lambda ARN
/// (`arn:aws:lambda:r:acct:function:name[:qualifier]`), API Gateway's invocation URI around
/// one, or a bare function name.
pub fn function(uri: &str) -> (String, Option<String>) {
    let arn = uri
        .split_once("/functions/")
        .map(|(_, rest)| rest.trim_end_matches("/invocations"))
        .unwrap_or(uri);
    match arn.split_once(":function:") {
        Some((_, rest)) => match rest.split_once(':') {
            Some((name, qualifier)) => (name.to_string(), Some(qualifier.to_string())),
            None => (rest.to_string(), None),
        },
        None => (arn.to_string(), None),
    }
}

fn set_header(resp: &mut Response<Bytes>, name: &str, value: &str) -> Result<(), String> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?} in the Lambda response"))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| format!("invalid value for header {name} in the Lambda response"))?;
    resp.headers_mut().append(n, v);
    Ok(())
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The client's response from a function's output, by payload version. `Err` is the reason
/// the output is not a valid answer (the client then gets 500).
pub fn decode(version: &str, output: &[u8]) -> Result<Response<Bytes>, String> {
    let value: Value = serde_json::from_slice(output)
        .map_err(|_| "The Lambda function returned a response that is not JSON".to_string())?;
    let object = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(object) = object else {
        if version == "1.0" {
            return Err("The Lambda function's response has no statusCode (payload format 1.0 requires one)".into());
        }
        // 2.0 without statusCode: 200, the output as JSON (a JSON string as its text).
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut resp = Response::new(Bytes::from(text));
        set_header(&mut resp, "content-type", "application/json")?;
        return Ok(resp);
    };
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("The Lambda function's statusCode is not a valid HTTP status")?;
    let body_text = object.get("body").map(value_text).unwrap_or_default();
    let base64 = object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = if base64 {
        STANDARD
            .decode(body_text.as_bytes())
            .map_err(|_| "The Lambda function's body is not valid base64".to_string())?
    } else {
        body_text.into_bytes()
    };
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    if let Some(headers) = object.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            set_header(&mut resp, k, &value_text(v))?;
        }
    }
    if let Some(headers) = object.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in headers {
            for v in vs.as_array().into_iter().flatten() {
                set_header(&mut resp, k, &value_text(v))?;
            }
        }
    }
    if version != "1.0" {
        for c in object
            .get("cookies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            set_header(&mut resp, "set-cookie", &value_text(c))?;
        }
    }
    if !resp.headers().contains_key(http::header::CONTENT_TYPE) {
        let default = if version == "1.0" {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        set_header(&mut resp, "content-type", default)?;
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_from_uris() {
        assert_eq!(
            function("arn:aws:lambda:us-east-1:123456789012:function:hello"),
            ("hello".into(), None)
        );
        assert_eq!(
            function("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello:live/invocations"),
            ("hello".into(), Some("live".into()))
        );
        assert_eq!(function("hello"), ("hello".into(), None));
    }

    #[test]
    fn answers_by_awss_rules() {
        let r = decode("2.0", br#"{"message":"hi"}"#).unwrap();
        assert_eq!(
            (r.status(), r.body().as_ref()),
            (StatusCode::OK, &br#"{"message":"hi"}"#[..])
        );
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = decode("2.0", br#""Hello""#).unwrap();
        assert_eq!(r.body().as_ref(), b"Hello");
        let r = decode(
            "2.0",
            br#"{"statusCode":201,"body":"aGk=","isBase64Encoded":true,"cookies":["a=1","b=2"]}"#,
        )
        .unwrap();
        assert_eq!((r.status().as_u16(), r.body().as_ref()), (201, &b"hi"[..]));
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert!(decode("2.0", b"not json").is_err());
        assert!(decode("1.0", br#"{"body":"x"}"#).is_err());
        assert!(decode("2.0", br#"{"statusCode":99}"#).is_err());
        let r = decode(
            "1.0",
            br#"{"statusCode":200,"body":"x","multiValueHeaders":{"x-a":["1","2"]}}"#,
        )
        .unwrap();
        assert_eq!(r.headers().get_all("x-a").iter().count(), 2);
    }
}
