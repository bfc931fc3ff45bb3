//! Payload format 1.0: the event with `multiValueHeaders`, `requestContext.identity` and
//! capitalised header names, as AWS's recorded 1.0 events show them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

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
