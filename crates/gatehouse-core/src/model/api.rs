//! The Api record: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tags;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// `HTTP` or `WEBSOCKET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolType {
    /// An HTTP API.
    #[serde(rename = "HTTP")]
    Http,
    /// A WebSocket API.
    #[serde(rename = "WEBSOCKET")]
    WebSocket,
}

/// `ipv4` or `dualstack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum IpAddressType {
    /// IPv4 only (AWS's default).
    #[default]
    #[serde(rename = "ipv4")]
    Ipv4,
    /// IPv4 and IPv6.
    #[serde(rename = "dualstack")]
    Dualstack,
}

/// The CORS configuration of an HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    /// `allowCredentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// `allowHeaders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    /// `allowMethods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    /// `allowOrigins`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    /// `exposeHeaders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    /// `maxAge`, -1 to 86400 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i32>,
}

/// The methods a CORS configuration may allow (`*` allows them all).
const CORS_METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*",
];

impl Cors {
    /// AWS's rules for an HTTP API's CORS configuration.
    pub fn validate(&self) -> ApiResult<()> {
        if self.allow_credentials == Some(true)
            && self.allow_origins.iter().flatten().any(|o| o == "*")
        {
            return Err(ApiError::bad_request(
                "allow-credentials is not supported if 'allow-origin' is *",
            ));
        }
        if let Some(m) = self
            .allow_methods
            .iter()
            .flatten()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "Method {m} is not supported"
            )));
        }
        if let Some(age) = self.max_age {
            if !(-1..=86_400).contains(&age) {
                return Err(ApiError::bad_request(
                    "Invalid CORS maxAge: must be between -1 and 86400",
                ));
            }
        }
        Ok(())
    }
}

/// An API as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    /// 10 lowercase letters and digits.
    pub api_id: String,
    /// The API's name.
    pub name: String,
    /// HTTP or WEBSOCKET; never changes.
    pub protocol_type: ProtocolType,
    /// `apiKeySelectionExpression`.
    pub api_key_selection_expression: String,
    /// `routeSelectionExpression`.
    pub route_selection_expression: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `corsConfiguration` (HTTP APIs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
    /// `disableSchemaValidation` (WebSocket APIs), omitted until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// `disableExecuteApiEndpoint`.
    #[serde(default)]
    pub disable_execute_api_endpoint: bool,
    /// `ipAddressType`.
    #[serde(default)]
    pub ip_address_type: IpAddressType,
    /// Created by quick create.
    #[serde(default)]
    pub api_gateway_managed: bool,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// The API's tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The members CreateApi and UpdateApi accept (UpdateApi ignores `protocolType` and `tags`,
/// which the model does not list for it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiInput {
    /// `name`.
    pub name: Option<String>,
    /// `protocolType`.
    pub protocol_type: Option<ProtocolType>,
    /// `apiKeySelectionExpression`.
    pub api_key_selection_expression: Option<String>,
    /// `routeSelectionExpression`.
    pub route_selection_expression: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `corsConfiguration`.
    pub cors_configuration: Option<Cors>,
    /// `disableSchemaValidation`.
    pub disable_schema_validation: Option<bool>,
    /// `disableExecuteApiEndpoint`.
    pub disable_execute_api_endpoint: Option<bool>,
    /// `ipAddressType`.
    pub ip_address_type: Option<IpAddressType>,
    /// `tags` (CreateApi only).
    pub tags: Option<BTreeMap<String, String>>,
    /// Quick create: `target`.
    pub target: Option<String>,
    /// Quick create: `routeKey`.
    pub route_key: Option<String>,
    /// Quick create: `credentialsArn`.
    pub credentials_arn: Option<String>,
}

/// AWS's default API key selection expression.
pub const DEFAULT_API_KEY_SELECTION: &str = "$request.header.x-api-key";
/// The route selection expression every HTTP API uses.
pub const HTTP_ROUTE_SELECTION: &str = "$request.method $request.path";

impl Api {
    /// Builds a new API from CreateApi's input, applying AWS's defaults.
    pub fn create(api_id: String, input: ApiInput, now: i64, profile: Profile) -> ApiResult<Api> {
        let name = input
            .name
            .clone()
            .ok_or_else(|| ApiError::bad_request("Invalid input: name is required"))?;
        let protocol_type = input
            .protocol_type
            .ok_or_else(|| ApiError::bad_request("Invalid input: protocolType is required"))?;
        let route_selection_expression = match (protocol_type, &input.route_selection_expression) {
            (ProtocolType::WebSocket, None)
                if !profile.enforces(Rule::WebSocketNeedsSelectionExpression) =>
            {
                HTTP_ROUTE_SELECTION.to_string()
            }
            (ProtocolType::WebSocket, None) => {
                return Err(ApiError::bad_request(
                    "RouteSelectionExpression is required for WEBSOCKET APIs",
                ))
            }
            (ProtocolType::WebSocket, Some(e)) => e.clone(),
            (ProtocolType::Http, _) => HTTP_ROUTE_SELECTION.to_string(),
        };
        let tags = input.tags.clone().unwrap_or_default();
        tags::validate(&tags)?;
        let mut api = Api {
            api_id,
            name,
            protocol_type,
            api_key_selection_expression: DEFAULT_API_KEY_SELECTION.to_string(),
            route_selection_expression,
            description: None,
            version: None,
            cors_configuration: None,
            disable_schema_validation: None,
            disable_execute_api_endpoint: false,
            ip_address_type: IpAddressType::default(),
            api_gateway_managed: false,
            created: now,
            tags,
        };
        api.apply(input, profile)?;
        Ok(api)
    }

    /// Applies CreateApi's or UpdateApi's members: only members present change. Validates
    /// the result; on error `self` may be partly changed, so callers apply to a copy.
    /// The quick-create members (`target`, `routeKey`, `credentialsArn`) are not API
    /// settings; callers handle them (see [`super::quick`]).
    pub fn apply(&mut self, input: ApiInput, profile: Profile) -> ApiResult<()> {
        if let Some(name) = input.name {
            let len = name.chars().count();
            if !(1..=128).contains(&len) {
                return Err(ApiError::bad_request(
                    "Invalid API name: must be between 1 and 128 characters",
                ));
            }
            self.name = name;
        }
        if let Some(e) = input.route_selection_expression {
            self.route_selection_expression = if profile.enforces(Rule::SelectionExpressions) {
                validate_route_selection(self.protocol_type, &e)?;
                match self.protocol_type {
                    ProtocolType::Http => HTTP_ROUTE_SELECTION.to_string(),
                    ProtocolType::WebSocket => e,
                }
            } else {
                e
            };
        }
        if let Some(e) = input.api_key_selection_expression {
            if profile.enforces(Rule::SelectionExpressions)
                && e != "$request.header.x-api-key"
                && e != "$context.authorizer.usageIdentifierKey"
            {
                return Err(ApiError::bad_request(format!(
                    "Invalid API key selection expression: {e}. Supported values are $request.header.x-api-key and $context.authorizer.usageIdentifierKey"
                )));
            }
            self.api_key_selection_expression = e;
        }
        if let Some(d) = input.description {
            if d.chars().count() > 1024 {
                return Err(ApiError::bad_request(
                    "Invalid description: must be at most 1024 characters",
                ));
            }
            self.description = Some(d);
        }
        if let Some(v) = input.version {
            let len = v.chars().count();
            let min = usize::from(profile.enforces(Rule::ApiMemberLengths));
            if !(min..=64).contains(&len) {
                return Err(ApiError::bad_request(
                    "Invalid version: must be between 1 and 64 characters",
                ));
            }
            self.version = Some(v);
        }
        if let Some(cors) = input.cors_configuration {
            if self.protocol_type == ProtocolType::WebSocket {
                return Err(ApiError::bad_request(
                    "CORS configuration is supported only for HTTP APIs",
                ));
            }
            cors.validate()?;
            self.cors_configuration = Some(cors);
        }
        if let Some(v) = input.disable_schema_validation {
            self.disable_schema_validation = Some(v);
        }
        if let Some(v) = input.disable_execute_api_endpoint {
            self.disable_execute_api_endpoint = v;
        }
        if let Some(v) = input.ip_address_type {
            self.ip_address_type = v;
        }
        Ok(())
    }

    /// `apiEndpoint` as AWS derives it from the id, protocol and region.
    pub fn endpoint(&self, region: &str, profile: Profile) -> String {
        let scheme = match self.protocol_type {
            ProtocolType::WebSocket if profile.enforces(Rule::WebSocketEndpointScheme) => "wss",
            _ => "https",
        };
        format!(
            "{scheme}://{}.execute-api.{region}.amazonaws.com",
            self.api_id
        )
    }
}

fn validate_route_selection(protocol: ProtocolType, e: &str) -> ApiResult<()> {
    match protocol {
        ProtocolType::Http => {
            if e == HTTP_ROUTE_SELECTION || e == "${request.method} ${request.path}" {
                Ok(())
            } else {
                Err(ApiError::bad_request(format!(
                    "Unsupported route selection expression for HTTP APIs: {e}. Supported value is {HTTP_ROUTE_SELECTION}"
                )))
            }
        }
        ProtocolType::WebSocket => {
            if e.starts_with('$') && e.len() > 1 && e.len() <= 1024 {
                Ok(())
            } else {
                Err(ApiError::bad_request(format!(
                    "Invalid route selection expression: {e}"
                )))
            }
        }
    }
}
