//! The restJson1 wire: response shapes (member names and presence exactly as AWS sends them),
//! request-body parsing, path labels, query strings and pagination tokens.

pub mod page;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::model::api::{Cors, IpAddressType};
use crate::model::deployment::{Deployment, DeploymentStatus};
use crate::model::integration::Integration;
use crate::model::route::Route;
use crate::model::time::rfc3339;
use crate::model::{AccessLogSettings, Api, ProtocolType, RouteSettings, Stage};

fn is_false(b: &bool) -> bool {
    !*b
}

/// The `Api` shape (CreateApi, GetApi, UpdateApi, GetApis items).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiOut<'a> {
    api_endpoint: String,
    #[serde(skip_serializing_if = "is_false")]
    api_gateway_managed: bool,
    api_id: &'a str,
    api_key_selection_expression: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cors_configuration: Option<&'a Cors>,
    created_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    disable_execute_api_endpoint: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_schema_validation: Option<bool>,
    ip_address_type: IpAddressType,
    name: &'a str,
    protocol_type: ProtocolType,
    route_selection_expression: &'a str,
    tags: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

impl<'a> ApiOut<'a> {
    /// The wire form of `api` as seen from `region`.
    pub fn new(api: &'a Api, region: &str) -> Self {
        ApiOut {
            api_endpoint: api.endpoint(region),
            api_gateway_managed: api.api_gateway_managed,
            api_id: &api.api_id,
            api_key_selection_expression: &api.api_key_selection_expression,
            cors_configuration: api.cors_configuration.as_ref(),
            created_date: rfc3339(api.created),
            description: api.description.as_deref(),
            disable_execute_api_endpoint: api.disable_execute_api_endpoint,
            disable_schema_validation: api.disable_schema_validation,
            ip_address_type: api.ip_address_type,
            name: &api.name,
            protocol_type: api.protocol_type,
            route_selection_expression: &api.route_selection_expression,
            tags: &api.tags,
            version: api.version.as_deref(),
        }
    }
}

/// The `Stage` shape (CreateStage, GetStage, UpdateStage, GetStages items). Members AWS
/// omits until set are omitted; `routeSettings`, `stageVariables` and `tags` are always
/// present; `autoDeploy` and `apiGatewayManaged` appear only when true.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_log_settings: Option<&'a AccessLogSettings>,
    #[serde(skip_serializing_if = "is_false")]
    api_gateway_managed: bool,
    #[serde(skip_serializing_if = "is_false")]
    auto_deploy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_certificate_id: Option<&'a str>,
    created_date: String,
    default_route_settings: &'a RouteSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_deployment_status_message: Option<&'a str>,
    last_updated_date: String,
    route_settings: &'a BTreeMap<String, RouteSettings>,
    stage_name: &'a str,
    stage_variables: &'a BTreeMap<String, String>,
    tags: &'a BTreeMap<String, String>,
}

impl<'a> StageOut<'a> {
    /// The wire form of `stage`.
    pub fn new(stage: &'a Stage) -> Self {
        StageOut {
            access_log_settings: stage.access_log_settings.as_ref(),
            api_gateway_managed: stage.api_gateway_managed,
            auto_deploy: stage.auto_deploy,
            client_certificate_id: stage.client_certificate_id.as_deref(),
            created_date: rfc3339(stage.created),
            default_route_settings: &stage.default_route_settings,
            deployment_id: stage.deployment_id.as_deref(),
            description: stage.description.as_deref(),
            last_deployment_status_message: stage.last_deployment_status_message.as_deref(),
            last_updated_date: rfc3339(stage.last_updated),
            route_settings: &stage.route_settings,
            stage_name: &stage.stage_name,
            stage_variables: &stage.stage_variables,
            tags: &stage.tags,
        }
    }
}

/// The `Deployment` shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOut<'a> {
    auto_deployed: bool,
    created_date: String,
    deployment_id: &'a str,
    deployment_status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl<'a> DeploymentOut<'a> {
    /// The wire form of `d`.
    pub fn new(d: &'a Deployment) -> Self {
        DeploymentOut {
            auto_deployed: d.auto_deployed,
            created_date: rfc3339(d.created),
            deployment_id: &d.deployment_id,
            deployment_status: d.deployment_status,
            deployment_status_message: d.deployment_status_message.as_deref(),
            description: d.description.as_deref(),
        }
    }
}

/// How a stored record is rendered on the wire.
pub trait ToWire {
    /// The wire shape.
    type Out<'a>: Serialize
    where
        Self: 'a;
    /// Renders `self`.
    fn to_wire(&self) -> Self::Out<'_>;
}

impl ToWire for Stage {
    type Out<'a> = StageOut<'a>;
    fn to_wire(&self) -> StageOut<'_> {
        StageOut::new(self)
    }
}

impl ToWire for Deployment {
    type Out<'a> = DeploymentOut<'a>;
    fn to_wire(&self) -> DeploymentOut<'_> {
        DeploymentOut::new(self)
    }
}

impl ToWire for Route {
    type Out<'a> = &'a Route;
    fn to_wire(&self) -> &Route {
        self
    }
}

impl ToWire for Integration {
    type Out<'a> = &'a Integration;
    fn to_wire(&self) -> &Integration {
        self
    }
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
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid request body: malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "Invalid request body: expected a JSON object",
        ));
    }
    let value = strip_nulls(value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        // Say "an integer", not Rust's "i32".
        let inner = e
            .into_inner()
            .to_string()
            .replace("expected i32", "expected an integer")
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        if path == "." {
            ApiError::bad_request(format!("Invalid request body: {inner}"))
        } else {
            ApiError::bad_request(format!("Invalid request body: member {path}: {inner}"))
        }
    })
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

/// Percent-decodes one path label (after the raw path was split on `/`).
pub fn decode_label(raw: &str) -> ApiResult<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("Invalid path: a path label is not valid UTF-8"))
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
        assert!(e.message.contains("autoDeploy"), "{}", e.message);
        assert!(parse_body::<T>(b"{").is_err());
        assert!(parse_body::<T>(b"[1]").is_err());
        assert!(parse_body::<T>(b"").is_ok());
        assert!(parse_body::<T>(br#"{"autoDeploy":null}"#).is_ok());
    }

    #[test]
    fn labels_and_queries_decode() {
        assert_eq!(decode_label("%24default").unwrap(), "$default");
        assert_eq!(decode_label("GET%20%2Fpets").unwrap(), "GET /pets");
        assert!(decode_label("%ff").is_err());
        let q = parse_query(Some("maxResults=5&nextToken=a%2Bb&tagKeys=x&tagKeys=y")).unwrap();
        assert_eq!(query_param(&q, "maxResults"), Some("5"));
        assert_eq!(query_param(&q, "nextToken"), Some("a+b"));
    }
}
