//! The Lambda events AWS_PROXY integrations (and Lambda authorizers) send: payload format
//! 1.0 or 2.0 built from the request, serialized with their members in the order AWS's
//! documentation shows them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::context::{query_pairs, Authorized, Facts, Incoming, Routed};

/// The Lambda event of payload format `version` for a request (and what its authorizer
/// passed on), encoded. Out of line: only AWS_PROXY routes build one.
#[inline(never)]
pub fn encode(
    version: &str,
    request: &Routed<'_>,
    authorized: Option<&Authorized>,
) -> serde_json::Result<Vec<u8>> {
    let input = EventInput {
        request: *request,
        authorizer: authorized.map(|a| a.event_context(version)),
    };
    // Room for the event around the body (most are 1-2 KB), so that it is not copied as it
    // grows.
    let mut event = Vec::with_capacity(2048 + request.incoming().body.len() * 4 / 3);
    if version == "2.0" {
        serde_json::to_writer(&mut event, &event_v2(&input))?;
    } else {
        serde_json::to_writer(&mut event, &event_v1(&input))?;
    }
    Ok(event)
}

/// Everything an event is built from.
pub struct EventInput<'a> {
    /// The request, as its route sees it.
    pub request: Routed<'a>,
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

/// Header names AWS writes in lower case in 1.0 events (whatever case the client used).
const LOWER_IN_V1: [&str; 2] = ["accept", "accept-encoding"];

/// A header's name as a 1.0 event writes it: capitalised at each word (`Content-Length`,
/// `User-Agent`, `X-Forwarded-For`), but `accept` and `accept-encoding`, as AWS's recorded
/// 1.0 events of HTTP APIs show them (a curl request over HTTP/2, where every name arrives in
/// lower case, and a Postman request over HTTP/1.1).
fn v1_name(lower: &str) -> String {
    if LOWER_IN_V1.contains(&lower) {
        return lower.to_string();
    }
    let mut name = String::with_capacity(lower.len());
    let mut start = true;
    for c in lower.chars() {
        name.push(if start { c.to_ascii_uppercase() } else { c });
        start = c == '-';
    }
    name
}

/// Headers API Gateway adds to what the function sees.
fn added_headers(incoming: &Incoming, facts: &Facts, groups: &mut BTreeMap<String, Vec<String>>) {
    let forwarded_for = match groups.get("x-forwarded-for") {
        Some(v) => format!("{}, {}", v.join(", "), incoming.source_ip),
        None => incoming.source_ip.to_string(),
    };
    groups.insert("x-forwarded-for".into(), vec![forwarded_for]);
    groups.insert("x-forwarded-port".into(), vec!["443".into()]);
    groups.insert("x-forwarded-proto".into(), vec!["https".into()]);
    groups
        .entry("x-amzn-trace-id".into())
        .or_insert_with(|| vec![trace_id(facts)]);
    if lacks_length(incoming) {
        groups.insert("content-length".into(), vec!["0".into()]);
    }
}

/// Whether the request has no body and said nothing of its length: AWS's events then carry
/// `content-length: 0` all the same (every recorded event of a GET shows it).
fn lacks_length(incoming: &Incoming) -> bool {
    incoming.body.is_empty()
        && !incoming.headers.contains_key(http::header::CONTENT_LENGTH)
        && !incoming
            .headers
            .contains_key(http::header::TRANSFER_ENCODING)
}

/// An X-Ray trace id for `facts`'s request.
fn trace_id(facts: &Facts) -> String {
    trace_id_at(facts.time)
}

/// An X-Ray trace id at `time` (seconds since the epoch): `Root=1-{time hex}-{24 hex}`.
pub fn trace_id_at(time: i64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let random: [u8; 12] = rand::random();
    let mut id = String::with_capacity(40);
    id.push_str("Root=1-");
    let time = time as u32;
    for shift in (0..8).rev() {
        id.push(char::from(HEX[(time >> (shift * 4)) as usize & 0xf]));
    }
    id.push('-');
    for b in random {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    id
}

/// The 2.0 event's `headers`: each name once (lower case), its values joined by commas,
/// with the headers API Gateway adds; sorted by name.
fn headers_v2<'a>(inc: &'a Incoming, facts: &Facts) -> Vec<(&'a str, Cow<'a, str>)> {
    let mut out: Vec<(&'a str, Cow<'a, str>)> = Vec::with_capacity(inc.headers.keys_len() + 4);
    let mut forwarded_for = None;
    let mut traced = false;
    for key in inc.headers.keys() {
        let name = key.as_str();
        let mut values = inc
            .headers
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let Some(first) = values.next() else { continue };
        let joined = match values.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut all = format!("{first},{second}");
                for v in values {
                    all.push(',');
                    all.push_str(v);
                }
                Cow::Owned(all)
            }
        };
        match name {
            "cookie" | "x-forwarded-port" | "x-forwarded-proto" => {}
            "x-forwarded-for" => {
                let all: Vec<&str> = inc
                    .headers
                    .get_all(key)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                forwarded_for = Some(all.join(", "));
            }
            _ => {
                traced |= name == "x-amzn-trace-id";
                out.push((name, joined));
            }
        }
    }
    let forwarded_for = match forwarded_for {
        Some(v) => Cow::Owned(format!("{v}, {}", inc.source_ip)),
        None => Cow::Borrowed(&*inc.source_ip),
    };
    out.push(("x-forwarded-for", forwarded_for));
    out.push(("x-forwarded-port", Cow::Borrowed("443")));
    out.push(("x-forwarded-proto", Cow::Borrowed("https")));
    if !traced {
        out.push(("x-amzn-trace-id", Cow::Owned(trace_id(facts))));
    }
    if lacks_length(inc) {
        out.push(("content-length", Cow::Borrowed("0")));
    }
    out.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out
}

/// Pairs written as a JSON object, in their order.
struct Object<'s, K, V>(&'s [(K, V)]);

impl<K: AsRef<str>, V: serde::Serialize> serde::Serialize for Object<'_, K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

/// A path as the events carry it: percent-decoded (`/files/a%20b` → `/files/a b`), as AWS
/// decodes 2.0's `rawPath` and `requestContext.http.path` and 1.0's `path`; the query string
/// stays as sent.
fn decoded(path: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy()
}

/// The payload format 2.0 event: serialized with its members in the order AWS's
/// documentation shows them.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventV2<'a> {
    version: &'static str,
    route_key: &'a str,
    raw_path: Cow<'a, str>,
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<&'a str>,
    #[serde(serialize_with = "as_object")]
    headers: Vec<(&'a str, Cow<'a, str>)>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_object")]
    query_string_parameters: Vec<(String, String)>,
    request_context: RequestContextV2<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty", serialize_with = "as_object")]
    path_parameters: &'a [(String, String)],
    is_base64_encoded: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    stage_variables: &'a BTreeMap<String, String>,
}

fn as_object<K: AsRef<str>, V: serde::Serialize, S: serde::Serializer>(
    pairs: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Object(pairs), s)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContextV2<'a> {
    account_id: &'a str,
    api_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<&'a Value>,
    domain_name: &'a str,
    domain_prefix: &'a str,
    http: HttpV2<'a>,
    request_id: &'a str,
    route_key: &'a str,
    stage: &'a str,
    time: String,
    time_epoch: i64,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpV2<'a> {
    method: &'a str,
    path: Cow<'a, str>,
    protocol: &'a str,
    source_ip: &'a str,
    user_agent: &'a str,
}

/// The request body as the event carries it: text for textual content types (when it is
/// UTF-8), else base64 (`isBase64Encoded`).
fn event_body(incoming: &Incoming) -> (Option<Cow<'_, str>>, bool) {
    if incoming.body.is_empty() {
        return (None, false);
    }
    if is_text(incoming.header("content-type")) {
        if let Ok(text) = std::str::from_utf8(&incoming.body) {
            return (Some(Cow::Borrowed(text)), false);
        }
    }
    (Some(Cow::Owned(STANDARD.encode(&incoming.body))), true)
}

/// The payload format 2.0 event.
pub fn event_v2<'a>(input: &'a EventInput<'a>) -> EventV2<'a> {
    let inc = input.request.incoming();
    let facts = input.request.facts();
    let cookies: Vec<&str> = inc
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';').map(str::trim))
        .filter(|p| !p.is_empty())
        .collect();
    // Repeated query parameters are joined by commas, in their order.
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in query_pairs(inc.query()) {
        match query.iter_mut().find(|(name, _)| *name == k) {
            Some((_, e)) => {
                e.push(',');
                e.push_str(&v);
            }
            None => query.push((k, v)),
        }
    }
    query.sort_by(|a, b| a.0.cmp(&b.0));
    let (body, base64) = event_body(inc);
    let route_key = facts.route_key.as_deref().unwrap_or_default();
    let path = decoded(&inc.path);
    EventV2 {
        version: "2.0",
        route_key,
        raw_path: path.clone(),
        raw_query_string: inc.query().unwrap_or_default(),
        cookies,
        headers: headers_v2(inc, facts),
        query_string_parameters: query,
        request_context: RequestContextV2 {
            account_id: &facts.account_id,
            api_id: &facts.api_id,
            authorizer: input.authorizer.as_ref(),
            domain_name: &facts.domain_name,
            domain_prefix: facts.domain_prefix(),
            http: HttpV2 {
                method: inc.method.as_str(),
                path,
                protocol: inc.protocol,
                source_ip: &inc.source_ip,
                user_agent: inc.user_agent(),
            },
            request_id: facts.request_id(),
            route_key,
            stage: &facts.stage,
            time: gatehouse_core::model::time::clf(facts.time),
            time_epoch: facts.time_epoch_ms,
        },
        body,
        path_parameters: input.request.params,
        is_base64_encoded: base64,
        stage_variables: input.request.stage_variables,
    }
}

/// The payload format 1.0 event (REST-compatible), its members in the order AWS's
/// documentation shows them; members with nothing in them are `null`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventV1<'a> {
    version: &'static str,
    resource: &'a str,
    path: Cow<'a, str>,
    http_method: &'a str,
    headers: BTreeMap<String, String>,
    multi_value_headers: BTreeMap<String, Vec<String>>,
    query_string_parameters: Option<BTreeMap<String, String>>,
    multi_value_query_string_parameters: Option<BTreeMap<String, Vec<String>>>,
    request_context: RequestContextV1<'a>,
    #[serde(serialize_with = "as_object_or_null")]
    path_parameters: &'a [(String, String)],
    stage_variables: Option<&'a BTreeMap<String, String>>,
    body: Option<Cow<'a, str>>,
    is_base64_encoded: bool,
}

fn as_object_or_null<S: serde::Serializer>(
    pairs: &[(String, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    if pairs.is_empty() {
        s.serialize_none()
    } else {
        as_object(pairs, s)
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContextV1<'a> {
    account_id: &'a str,
    api_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<&'a Value>,
    domain_name: &'a str,
    domain_prefix: &'a str,
    extended_request_id: &'a str,
    http_method: &'a str,
    identity: IdentityV1<'a>,
    path: Cow<'a, str>,
    protocol: &'a str,
    request_id: &'a str,
    request_time: String,
    request_time_epoch: i64,
    resource_id: &'a str,
    resource_path: &'a str,
    stage: &'a str,
}

/// `requestContext.identity`: only the caller's address and agent are known.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityV1<'a> {
    access_key: Option<&'a str>,
    account_id: Option<&'a str>,
    caller: Option<&'a str>,
    cognito_amr: Option<&'a str>,
    cognito_authentication_provider: Option<&'a str>,
    cognito_authentication_type: Option<&'a str>,
    cognito_identity_id: Option<&'a str>,
    cognito_identity_pool_id: Option<&'a str>,
    principal_org_id: Option<&'a str>,
    source_ip: &'a str,
    user: Option<&'a str>,
    user_agent: &'a str,
    user_arn: Option<&'a str>,
}

/// The payload format 1.0 event (REST-compatible).
pub fn event_v1<'a>(input: &'a EventInput<'a>) -> EventV1<'a> {
    let inc = input.request.incoming();
    let facts = input.request.facts();
    let mut groups = header_groups(inc);
    added_headers(inc, facts, &mut groups);
    let groups: BTreeMap<String, Vec<String>> = groups
        .into_iter()
        .map(|(name, values)| (v1_name(&name), values))
        .collect();
    let headers: BTreeMap<String, String> = groups
        .iter()
        .filter_map(|(k, v)| v.last().map(|last| (k.clone(), last.clone())))
        .collect();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in query_pairs(inc.query()) {
        multi_query.entry(k).or_default().push(v);
    }
    let query: BTreeMap<String, String> = multi_query
        .iter()
        .filter_map(|(k, v)| v.last().map(|last| (k.clone(), last.clone())))
        .collect();
    let (body, base64) = event_body(inc);
    let route_key = facts.route_key.as_deref().unwrap_or_default();
    let resource = if input.request.template.is_empty() {
        route_key
    } else {
        input.request.template
    };
    // Through a custom domain, 1.0's path keeps the API mapping's key (2.0's rawPath does not).
    let path = decoded(if facts.custom_domain {
        inc.uri_path()
    } else {
        inc.path.as_str()
    });
    EventV1 {
        version: "1.0",
        resource,
        path: path.clone(),
        http_method: inc.method.as_str(),
        headers,
        multi_value_headers: groups,
        query_string_parameters: (!query.is_empty()).then_some(query),
        multi_value_query_string_parameters: (!multi_query.is_empty()).then_some(multi_query),
        request_context: RequestContextV1 {
            account_id: &facts.account_id,
            api_id: &facts.api_id,
            // Only when an authorizer ran: AWS's recorded 1.0 events of open routes have none
            // (its documentation's example shows null claims and scopes).
            authorizer: input.authorizer.as_ref(),
            domain_name: &facts.domain_name,
            domain_prefix: facts.domain_prefix(),
            extended_request_id: facts.request_id(),
            http_method: inc.method.as_str(),
            identity: IdentityV1 {
                access_key: None,
                account_id: None,
                caller: None,
                cognito_amr: None,
                cognito_authentication_provider: None,
                cognito_authentication_type: None,
                cognito_identity_id: None,
                cognito_identity_pool_id: None,
                principal_org_id: None,
                source_ip: &inc.source_ip,
                user: None,
                user_agent: inc.user_agent(),
                user_arn: None,
            },
            path,
            protocol: inc.protocol,
            request_id: facts.request_id(),
            request_time: gatehouse_core::model::time::clf(facts.time),
            request_time_epoch: facts.time_epoch_ms,
            resource_id: route_key,
            resource_path: resource,
            stage: &facts.stage,
        },
        path_parameters: input.request.params,
        stage_variables: (!input.request.stage_variables.is_empty())
            .then_some(input.request.stage_variables),
        body,
        is_base64_encoded: base64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Invocation;
    use bytes::Bytes;
    use http::HeaderValue;
    use serde_json::json;

    /// The top-level keys of a serialized event, in order.
    fn keys(bytes: &[u8]) -> Vec<String> {
        let v: serde_json::Map<String, Value> = serde_json::from_slice(bytes).unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut found: Vec<(usize, String)> = v
            .keys()
            .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
            .collect();
        found.sort();
        found.into_iter().map(|(_, k)| k).collect()
    }

    #[test]
    fn events_list_their_members_in_awss_order() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("cookie", HeaderValue::from_static("a=1"));
        let incoming = Incoming {
            method: http::Method::POST,
            path: "/prod/pets/7".into(),
            uri: http::Uri::from_static("/prod/pets/7?q=1"),
            headers,
            body: Bytes::from_static(b"{}"),
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
            header_names: Vec::new(),
        };
        let mut inv = Invocation::new(incoming, HeaderValue::from_static(""), 0, false);
        inv.facts.route_key = Some("POST /pets/{id}".into());
        inv.after_stage_segment();
        let params = vec![("id".to_string(), "7".to_string())];
        let vars = BTreeMap::from([("v".to_string(), "1".to_string())]);
        let input = EventInput {
            request: Routed {
                inv: &inv,
                template: "/pets/{id}",
                params: &params,
                stage_variables: &vars,
            },
            authorizer: None,
        };
        let v2 = serde_json::to_vec(&event_v2(&input)).unwrap();
        assert_eq!(
            keys(&v2),
            [
                "version",
                "routeKey",
                "rawPath",
                "rawQueryString",
                "cookies",
                "headers",
                "queryStringParameters",
                "requestContext",
                "body",
                "pathParameters",
                "isBase64Encoded",
                "stageVariables"
            ]
        );
        let v1 = serde_json::to_vec(&event_v1(&input)).unwrap();
        assert_eq!(
            keys(&v1),
            [
                "version",
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "requestContext",
                "pathParameters",
                "stageVariables",
                "body",
                "isBase64Encoded"
            ]
        );
        let v1: Value = serde_json::from_slice(&v1).unwrap();
        assert!(v1["requestContext"].get("authorizer").is_none());
        assert_eq!(v1["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert!(v1["requestContext"]["identity"]["user"].is_null());
    }

    /// Paths reach the function percent-decoded, in both formats; the query string as sent
    /// (honojs/hono#2156, wakujs/waku#458, orpc's standard-server checked against live
    /// captures, aws/aws-lambda-dotnet#1901).
    #[test]
    fn paths_are_percent_decoded_and_the_query_is_not() {
        let incoming = Incoming {
            method: http::Method::GET,
            path: "/files/a%20b%40c.txt".into(),
            uri: http::Uri::from_static("/files/a%20b%40c.txt?q=a%20b"),
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
            header_names: Vec::new(),
        };
        let inv = Invocation::new(incoming, HeaderValue::from_static(""), 0, false);
        let vars = BTreeMap::new();
        let input = EventInput {
            request: Routed {
                inv: &inv,
                template: "/files/{name}",
                params: &[],
                stage_variables: &vars,
            },
            authorizer: None,
        };
        let v2: Value = serde_json::to_value(event_v2(&input)).unwrap();
        assert_eq!(v2["rawPath"], "/files/a b@c.txt");
        assert_eq!(v2["requestContext"]["http"]["path"], "/files/a b@c.txt");
        assert_eq!(v2["rawQueryString"], "q=a%20b");
        let v1: Value = serde_json::to_value(event_v1(&input)).unwrap();
        assert_eq!(v1["path"], "/files/a b@c.txt");
        assert_eq!(v1["requestContext"]["path"], "/files/a b@c.txt");
        // A GET that said nothing of its length: `content-length: 0` all the same, as in
        // every recorded event of a GET (aws-lambda-go's apigw-v2-request fixtures,
        // aws-lambda-rust-runtime's example-apigw-v2 fixtures, aws-lambda-java-libs#240).
        assert_eq!(v2["headers"]["content-length"], "0");
        assert_eq!(v1["headers"]["Content-Length"], "0");
        assert_eq!(v1["multiValueHeaders"]["Content-Length"], json!(["0"]));
    }

    #[test]
    fn through_a_custom_domain_1_0_keeps_the_mapping_key_and_2_0_does_not() {
        let incoming = Incoming {
            method: http::Method::GET,
            path: "/pets/7".into(),
            uri: http::Uri::from_static("/v1/pets/7"),
            headers: http::HeaderMap::new(),
            body: Bytes::new(),
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
            header_names: Vec::new(),
        };
        let inv = Invocation::new(incoming, HeaderValue::from_static(""), 0, true);
        let vars = BTreeMap::new();
        let input = EventInput {
            request: Routed {
                inv: &inv,
                template: "/pets/{id}",
                params: &[],
                stage_variables: &vars,
            },
            authorizer: None,
        };
        let v1: Value = serde_json::to_value(event_v1(&input)).unwrap();
        let v2: Value = serde_json::to_value(event_v2(&input)).unwrap();
        assert_eq!(
            (v1["path"].as_str(), v1["requestContext"]["path"].as_str()),
            (Some("/v1/pets/7"), Some("/v1/pets/7"))
        );
        assert_eq!(v2["rawPath"], "/pets/7");
    }
}
