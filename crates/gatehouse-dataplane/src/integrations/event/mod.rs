//! The Lambda events AWS_PROXY integrations (and Lambda authorizers) send: payload format
//! 1.0 (`v1.rs`) or 2.0 (`v2.rs`) built from the request, serialized with their members in the
//! order AWS's documentation shows them; what both formats share is here.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::context::{query_pairs, Authorized, Facts, Incoming, Routed};

mod v1;
mod v2;

pub use v1::{event_v1, EventV1};
pub use v2::{event_v2, EventV2};

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

fn as_object<K: AsRef<str>, V: serde::Serialize, S: serde::Serializer>(
    pairs: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Object(pairs), s)
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

    /// A request from 127.0.0.1 over HTTP/1.1.
    fn incoming(
        method: http::Method,
        path: &str,
        uri: &'static str,
        headers: http::HeaderMap,
        body: Bytes,
    ) -> Incoming {
        Incoming {
            method,
            path: path.into(),
            uri: http::Uri::from_static(uri),
            headers,
            body,
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
            header_names: Vec::new(),
        }
    }

    #[test]
    fn events_list_their_members_in_awss_order() {
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("cookie", HeaderValue::from_static("a=1"));
        let incoming = incoming(
            http::Method::POST,
            "/prod/pets/7",
            "/prod/pets/7?q=1",
            headers,
            Bytes::from_static(b"{}"),
        );
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
        let incoming = incoming(
            http::Method::GET,
            "/files/a%20b%40c.txt",
            "/files/a%20b%40c.txt?q=a%20b",
            http::HeaderMap::new(),
            Bytes::new(),
        );
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
        let incoming = incoming(
            http::Method::GET,
            "/pets/7",
            "/v1/pets/7",
            http::HeaderMap::new(),
            Bytes::new(),
        );
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
