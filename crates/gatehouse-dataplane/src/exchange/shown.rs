//! A trace's exchange as the inspector shows it: headers as name → value with secrets
//! (`Authorization`, `Proxy-Authorization`, `X-Amz-Security-Token`) masked, in headers and
//! in Lambda events; bodies as text or base64 with their length; what was passed on
//! unchanged worked out from what the trace holds.

use std::borrow::Cow;

use base64::Engine;
use gatehouse_http::framing;
use http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Map, Value};

use super::{Answer, Exchange, Recorded, SentHeaders, Url, INVOKE_HEADERS};

/// The header every answer carries its request id in.
const APIGW_REQUESTID: &str = "apigw-requestid";

/// Headers whose values are secrets: shown masked.
const SECRET_HEADERS: [&str; 3] = [
    "authorization",
    "proxy-authorization",
    "x-amz-security-token",
];

/// Headers as (name, value) pairs.
type Pairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

impl Exchange {
    /// As the inspector shows it (secrets masked), with the client's `request` headers and
    /// the request id.
    pub fn shown(&self, request: &HeaderMap, request_id: &HeaderValue) -> Map<String, Value> {
        let lambda = self.sent.as_ref().is_some_and(|s| s.kind == "AWS_PROXY");
        let body = &self.request_body;
        let mut m = Map::new();
        m.insert(
            "request".into(),
            part(None, map_pairs(request), body, false),
        );
        m.insert(
            "throttle".into(),
            json!(self
                .throttled
                .map(|t| if t { "refused" } else { "admitted" })),
        );
        m.insert(
            "authorization".into(),
            self.authorization.as_ref().map_or(Value::Null, |a| {
                json!({"type": a.kind, "authorizer": a.name, "cached": a.cached,
                       "decision": if a.allowed { "allowed" } else { "refused" }})
            }),
        );
        m.insert(
            "integrationRequest".into(),
            self.sent_json(request, body, lambda),
        );
        // (An HTTP backend's answer's body is the response's.)
        let response_body = self.response.as_ref().map_or(&Recorded::None, |r| &r.body);
        let answer_headers = self.answer.as_ref().and_then(|a| a.headers.as_ref());
        let shown = |a: &Option<Answer>, theirs: &Recorded| {
            a.as_ref().map_or(Value::Null, |a| {
                let headers: Pairs = match (&a.headers, answer_headers) {
                    (Some(h), _) => h.pairs().collect(),
                    (None, passed) => {
                        let mut h: Pairs = passed.map(|p| p.pairs().collect()).unwrap_or_default();
                        let id = String::from_utf8_lossy(request_id.as_bytes());
                        h.push((APIGW_REQUESTID.into(), id));
                        h
                    }
                };
                part(
                    Some(a.status),
                    headers,
                    passed(&a.body, theirs, lambda),
                    false,
                )
            })
        };
        m.insert(
            "integrationResponse".into(),
            shown(&self.answer, response_body),
        );
        m.insert("response".into(), shown(&self.response, &Recorded::None));
        let steps: Vec<Value> = self
            .step_times()
            .map(|(name, us)| json!({"step": name, "micros": us}))
            .collect();
        m.insert("steps".into(), Value::Array(steps));
        m
    }

    /// The integration request, as shown (an HTTP backend gets the client's body).
    fn sent_json(&self, request: &HeaderMap, body: &Recorded, lambda: bool) -> Value {
        let Some(s) = &self.sent else {
            return Value::Null;
        };
        let url = match &s.url {
            Url::Whole(u) => u.clone(),
            Url::Backend(scheme, authority, target) => format!("{scheme}://{authority}{target}"),
        };
        let headers = match (&s.headers, &s.url) {
            (SentHeaders::Own(h), _) => h.pairs().collect(),
            (SentHeaders::Invoke, _) => {
                let pairs = INVOKE_HEADERS.iter();
                pairs.map(|(n, v)| (Cow::from(*n), Cow::from(*v))).collect()
            }
            (SentHeaders::Client { forwarded }, Url::Backend(_, authority, _)) => {
                passed_on(request, Some(authority.as_str()), forwarded.as_ref())
            }
            (SentHeaders::Client { forwarded }, Url::Whole(_)) => {
                passed_on(request, None, forwarded.as_ref())
            }
        };
        let mut v = part(None, headers, passed(&s.body, body, lambda), lambda);
        if let Value::Object(o) = &mut v {
            o.insert("type".into(), json!(s.kind));
            o.insert("method".into(), json!(s.method.as_str()));
            o.insert("url".into(), json!(url));
        }
        v
    }
}

/// The headers a backend gets from a client: the client's, less those of its connection,
/// with the backend's `Host` and the gateway's `Forwarded` in place of any it sent.
pub fn passed_on<'a>(
    headers: &'a HeaderMap,
    host: Option<&'a str>,
    forwarded: Option<&'a HeaderValue>,
) -> Pairs<'a> {
    let trimmed = framing::without_named(headers);
    let kept = trimmed.as_ref().unwrap_or(headers);
    let mut sent: Pairs = kept
        .iter()
        .filter(|(name, _)| !framing::is_connection_header(name) && *name != header::FORWARDED)
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (Cow::Owned(name.as_str().to_string()), Cow::Owned(value))
        })
        .collect();
    if let Some(host) = host {
        sent.push(("host".into(), host.into()));
    }
    if let Some(f) = forwarded {
        sent.push(("forwarded".into(), String::from_utf8_lossy(f.as_bytes())));
    }
    sent
}

/// A header map's pairs.
fn map_pairs(headers: &HeaderMap) -> Pairs<'_> {
    let pairs = headers.iter();
    pairs
        .map(|(n, v)| (n.as_str().into(), String::from_utf8_lossy(v.as_bytes())))
        .collect()
}

/// Headers, body and (for an answer) status, as shown.
fn part(status: Option<u16>, headers: Pairs<'_>, body: &Recorded, event: bool) -> Value {
    let mut m = Map::new();
    if let Some(s) = status {
        m.insert("status".into(), json!(s));
    }
    m.insert("headers".into(), headers_json(headers));
    m.insert("body".into(), body_json(body, event));
    Value::Object(m)
}

/// Headers as name → value (several values joined by `, `), secrets masked.
fn headers_json(pairs: Pairs<'_>) -> Value {
    let mut m = Map::new();
    for (name, value) in pairs {
        let text = match SECRET_HEADERS.contains(&&*name) {
            true => mask(&value),
            false => value.into_owned(),
        };
        match m.get_mut(&*name) {
            Some(Value::String(held)) => {
                held.push_str(", ");
                held.push_str(&text);
            }
            _ => {
                m.insert(name.into_owned(), Value::String(text));
            }
        }
    }
    Value::Object(m)
}

/// A request's headers as shown (secrets masked), for a trace that holds no exchange.
pub fn request_headers(headers: &HeaderMap) -> Value {
    headers_json(map_pairs(headers))
}

/// The body shown for one side of an HTTP_PROXY integration: its `own` when it has one,
/// else the one it passes on (`theirs`: the client's request body, the response's).
fn passed<'b>(own: &'b Recorded, theirs: &'b Recorded, lambda: bool) -> &'b Recorded {
    match (own, lambda) {
        (Recorded::None, false) => theirs,
        _ => own,
    }
}

/// A body as shown: its text (a Lambda event's secrets masked) or base64, its length, and
/// whether it was cut; null when it was not kept.
fn body_json(body: &Recorded, event: bool) -> Value {
    let Some(c) = body.captured() else {
        return Value::Null;
    };
    let truncated = c.head.len() < c.total;
    match std::str::from_utf8(&c.head) {
        Ok(text) => {
            let text = match (event, truncated) {
                (true, false) => masked_event(text).unwrap_or_else(|| text.to_string()),
                _ => text.to_string(),
            };
            json!({"text": text, "length": c.total, "truncated": truncated})
        }
        Err(_) => json!({
            "base64": base64::engine::general_purpose::STANDARD.encode(&c.head),
            "length": c.total,
            "truncated": truncated,
        }),
    }
}

/// A Lambda event with the values of its secret headers masked (in `headers` and
/// `multiValueHeaders`, whatever their case).
pub fn masked_event(text: &str) -> Option<String> {
    let mut event: Value = serde_json::from_str(text).ok()?;
    for key in ["headers", "multiValueHeaders"] {
        let Some(Value::Object(headers)) = event.get_mut(key) else {
            continue;
        };
        for (name, value) in headers.iter_mut() {
            if !SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            match value {
                Value::String(s) => *s = mask(s),
                Value::Array(values) => {
                    for v in values.iter_mut() {
                        if let Value::String(s) = v {
                            *s = mask(s);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    serde_json::to_string(&event).ok()
}

/// A secret's value masked: its scheme (`Bearer`, `AWS4-HMAC-SHA256`) kept, the rest not.
pub fn mask(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ****"),
        None => "****".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn secrets_are_masked_in_headers_and_events() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer eyJhbGciOi.x.y".parse().unwrap());
        h.insert("x-amz-security-token", "FwoGZX".parse().unwrap());
        h.insert("accept", "*/*".parse().unwrap());
        assert_eq!(
            request_headers(&h),
            json!({"authorization": "Bearer ****", "x-amz-security-token": "****", "accept": "*/*"})
        );
        let event = r#"{"headers":{"Authorization":"Bearer abc","Host":"x"},"multiValueHeaders":{"authorization":["AWS4-HMAC-SHA256 Credential=AKIA/…"]}}"#;
        let masked: Value = serde_json::from_str(&masked_event(event).unwrap()).unwrap();
        assert_eq!(masked["headers"]["Authorization"], "Bearer ****");
        assert_eq!(masked["headers"]["Host"], "x");
        assert_eq!(
            masked["multiValueHeaders"]["authorization"][0],
            "AWS4-HMAC-SHA256 ****"
        );
    }

    #[test]
    fn bodies_are_cut_at_the_limit() {
        let x = Exchange::new(Instant::now(), 4);
        let shown = body_json(&x.keep(b"hello"), false);
        assert_eq!(
            shown,
            json!({"text": "hell", "length": 5, "truncated": true})
        );
        let none = Exchange::new(Instant::now(), 0);
        assert_eq!(body_json(&none.keep(b"hello"), false), Value::Null);
    }
}
