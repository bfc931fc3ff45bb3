//! Payload format 2.0: the event with `rawPath`, `rawQueryString`, `cookies` and
//! `requestContext.http`, as AWS's recorded 2.0 events show them.

use std::borrow::Cow;

use super::*;

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
