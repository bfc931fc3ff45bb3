//! The restJson1 wire: request-body parsing, query strings, list replies and pagination
//! tokens here; the request and response shapes of each resource (member names and presence
//! exactly as AWS sends them) in its own file.

pub mod apis;
pub mod authorizers;
pub mod deployments;
pub mod domain_names;
pub mod integrations;
pub mod page;
pub mod responses;
pub mod routes;
pub mod stages;
pub mod tags;
pub mod vpc_links;

use serde::de::DeserializeOwned;
use serde::Serialize;

use gatehouse_core::error::{ApiError, ApiResult};

/// How a stored record is rendered on the wire.
pub trait ToWire {
    /// The member listings of it hold their page in (`items`; ListRoutingRules says
    /// `routingRules`).
    const LIST_MEMBER: &'static str = "items";
    /// The wire shape.
    type Out<'a>: Serialize
    where
        Self: 'a;
    /// Renders `self`.
    fn to_wire(&self) -> Self::Out<'_>;
}

/// `skip_serializing_if` for members AWS sends only when true.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// A list response: `{"items": [...], "nextToken": "..."}` (no `nextToken` on the last page).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOut<T: Serialize> {
    /// The page's items.
    pub items: Vec<T>,
    /// Where the next page starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Serializes a response body.
pub fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot encode response: {e}")))
}

/// Parses a JSON request body into `T`. An empty body is `{}`. Errors name the member and
/// what is wrong with it.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "Could not parse request body into json: malformed JSON at line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "Invalid request body: expected a JSON object",
        ));
    }
    let value = strip_nulls(value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = member_path(e.path());
        let message = e.into_inner().to_string();
        ApiError::bad_request(aws_wording(&path, &message))
    })
}

/// The member a decoding failure is in, as `a.b[0].c` (`.` for the body itself): up to an
/// enum's variant (`{"protocolType":{"HTTP":1}}` fails in `protocolType`) or a part serde
/// could not follow.
fn member_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { .. } | Segment::Unknown => break,
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// What AWS calls an enum member in `Invalid {noun} specified. Must be one of [...]`.
const ENUM_NOUNS: &[(&str, &str)] = &[
    ("protocolType", "protocol"),
    ("integrationType", "integration type"),
    ("connectionType", "connection type"),
    ("authorizationType", "authorization type"),
    ("passthroughBehavior", "passthrough behavior"),
    ("contentHandlingStrategy", "content handling strategy"),
    ("loggingLevel", "logging level"),
    ("ipAddressType", "ip address type"),
];

/// Rewords a body decoding failure at member `path` (serde's words) as AWS words its
/// validation failures, so no library wording reaches a client: an unknown enum value is
/// `Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]`, a value of the wrong
/// type `Invalid value for member autoDeploy: expected a boolean`.
fn aws_wording(path: &str, message: &str) -> String {
    let member = path.rsplit('.').next().unwrap_or(path);
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let allowed: Vec<&str> = rest
            .split_once("expected ")
            .map(|(_, list)| list)
            .unwrap_or("")
            .trim_start_matches("one of ")
            .split([',', ' '])
            .filter(|v| *v != "or")
            .map(|v| v.trim_matches('`'))
            .filter(|v| !v.is_empty())
            .collect();
        let noun = ENUM_NOUNS
            .iter()
            .find(|(m, _)| *m == member)
            .map_or(member, |(_, n)| n);
        return format!(
            "Invalid {noun} specified. Must be one of [{}]",
            allowed.join(", ")
        );
    }
    // Only these words reach a client: any other expectation serde states is left out.
    let expected = message
        .split_once("expected ")
        .map(|(_, e)| e.trim_end_matches('.'))
        .and_then(|e| match e {
            "a boolean" | "a string" => Some(e),
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
                Some("an integer")
            }
            "f64" | "f32" => Some("a number"),
            "a sequence" => Some("a list"),
            "a map" | "struct" => Some("an object"),
            other if other.starts_with("struct ") => Some("an object"),
            // An enum member (`protocolType`, `connectionType`, …) given a number, a list
            // or an object.
            "string or map" | "map with a single key" | "unit" => Some("a string"),
            other if other.starts_with("unit variant") => Some("a string"),
            _ => None,
        });
    match (path, expected) {
        (".", Some(e)) => format!("Invalid request body: expected {e}"),
        (".", None) => "Invalid request body".to_string(),
        (_, Some(e)) => format!("Invalid value for member {path}: expected {e}"),
        (_, None) => format!("Invalid value for member {path}"),
    }
}

/// JSON `null` members mean "not sent", as in AWS's parsers.
fn strip_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Parses a raw query string into decoded pairs (`+` is a space).
pub fn parse_query(raw: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .map_err(|_| ApiError::bad_request("Invalid query string: not valid UTF-8"))
            };
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}

/// The first value of query parameter `name`.
pub fn query_param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_the_member() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct T {
            auto_deploy: Option<bool>,
        }
        let e = parse_body::<T>(br#"{"autoDeploy":"yes"}"#).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid value for member autoDeploy: expected a boolean"
        );
        assert!(parse_body::<T>(b"{").is_err());
        assert!(parse_body::<T>(b"[1]").is_err());
        assert!(parse_body::<T>(b"").is_ok());
        assert!(parse_body::<T>(br#"{"autoDeploy":null}"#).is_ok());
    }

    #[test]
    fn an_enum_member_of_the_wrong_type_expects_a_string() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct T {
            protocol_type: Option<gatehouse_core::model::ProtocolType>,
            pair: Option<(u8, u8)>,
        }
        for body in [
            r#"{"protocolType":1}"#,
            r#"{"protocolType":[]}"#,
            r#"{"protocolType":{}}"#,
            r#"{"protocolType":{"HTTP":1}}"#,
        ] {
            let e = parse_body::<T>(body.as_bytes()).unwrap_err();
            assert_eq!(
                e.message, "Invalid value for member protocolType: expected a string",
                "{body}"
            );
        }
        // An expectation in serde's own words is left out.
        let e = parse_body::<T>(br#"{"pair":[1]}"#).unwrap_err();
        assert_eq!(e.message, "Invalid value for member pair");
    }

    #[test]
    fn enum_failures_are_worded_as_aws_words_them() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct T {
            protocol_type: Option<gatehouse_core::model::ProtocolType>,
        }
        let e = parse_body::<T>(br#"{"protocolType":"?"}"#).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]"
        );
    }

    #[test]
    fn queries_decode() {
        let q = parse_query(Some("maxResults=5&nextToken=a%2Bb&tagKeys=x&tagKeys=y")).unwrap();
        assert_eq!(query_param(&q, "maxResults"), Some("5"));
        assert_eq!(query_param(&q, "nextToken"), Some("a+b"));
    }
}
