//! The `Api` shape: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid.html>.

use std::collections::BTreeMap;

use gatehouse_core::compat::{Profile, Rule};
use gatehouse_core::model::api::{Cors, IpAddressType};
use gatehouse_core::model::time::rfc3339;
use gatehouse_core::model::{Api, ProtocolType};
use serde::Serialize;

use super::is_false;

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

/// `apiEndpoint` from `--api-endpoint-template`: `{apiId}` and `{region}` filled in, and for
/// a WebSocket API the scheme made a WebSocket one (`http://` → `ws://`, `https://` →
/// `wss://`), as AWS's own `wss://` endpoints are.
fn templated(template: &str, api: &Api, region: &str, profile: Profile) -> String {
    let url = template
        .replace("{apiId}", &api.api_id)
        .replace("{region}", region);
    let websocket = api.protocol_type == ProtocolType::WebSocket
        && profile.enforces(Rule::WebSocketEndpointScheme);
    match (websocket, url.split_once("://")) {
        (true, Some(("http", rest))) => format!("ws://{rest}"),
        (true, Some(("https", rest))) => format!("wss://{rest}"),
        _ => url,
    }
}

impl<'a> ApiOut<'a> {
    /// The wire form of `api` as seen from `region`.
    pub fn new(api: &'a Api, region: &str, profile: Profile, template: Option<&str>) -> Self {
        ApiOut {
            api_endpoint: match template {
                Some(t) => templated(t, api, region, profile),
                None => api.endpoint(region, profile),
            },
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
