//! Routes: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::ProtocolType;
use crate::error::{ApiError, ApiResult};

/// `AuthorizationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AuthorizationType {
    /// Open access.
    #[default]
    #[serde(rename = "NONE")]
    None,
    /// IAM.
    #[serde(rename = "AWS_IAM")]
    AwsIam,
    /// Lambda authorizer.
    #[serde(rename = "CUSTOM")]
    Custom,
    /// JWT authorizer (HTTP APIs).
    #[serde(rename = "JWT")]
    Jwt,
}

/// `ParameterConstraints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParameterConstraints {
    /// Whether the parameter is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
}

/// A route as stored (and, member for member, as sent on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// Created by quick create.
    #[serde(default, skip_serializing_if = "is_false")]
    pub api_gateway_managed: bool,
    /// `apiKeyRequired`.
    #[serde(default)]
    pub api_key_required: bool,
    /// `authorizationScopes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_scopes: Option<Vec<String>>,
    /// `authorizationType`.
    #[serde(default)]
    pub authorization_type: AuthorizationType,
    /// `authorizerId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// `modelSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    /// `operationName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// `requestModels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_models: Option<BTreeMap<String, String>>,
    /// `requestParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    /// 7 lowercase letters and digits.
    pub route_id: String,
    /// `routeKey`.
    pub route_key: String,
    /// `routeResponseSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<String>,
    /// `target`: `integrations/{integrationId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The members CreateRoute and UpdateRoute accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteInput {
    /// `apiKeyRequired`.
    pub api_key_required: Option<bool>,
    /// `authorizationScopes`.
    pub authorization_scopes: Option<Vec<String>>,
    /// `authorizationType`.
    pub authorization_type: Option<AuthorizationType>,
    /// `authorizerId`.
    pub authorizer_id: Option<String>,
    /// `modelSelectionExpression`.
    pub model_selection_expression: Option<String>,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// `requestModels`.
    pub request_models: Option<BTreeMap<String, String>>,
    /// `requestParameters`.
    pub request_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    /// `routeKey`.
    pub route_key: Option<String>,
    /// `routeResponseSelectionExpression`.
    pub route_response_selection_expression: Option<String>,
    /// `target`.
    pub target: Option<String>,
}

const HTTP_METHODS: &[&str] = &[
    "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// Checks a route key for an API of `protocol`.
///
/// HTTP: `$default` or `METHOD /path`, where METHOD is ANY or an HTTP method and each path
/// segment is a literal, `{param}`, or (last only) `{proxy+}`. WebSocket: `$connect`,
/// `$disconnect`, `$default`, or a custom key that does not start with `$`.
pub fn validate_route_key(protocol: ProtocolType, key: &str) -> ApiResult<()> {
    let bad = |why: &str| {
        Err(ApiError::bad_request(format!(
            "Invalid route key: {key}. {why}"
        )))
    };
    if key == "$default" {
        return Ok(());
    }
    if key.is_empty() || key.chars().count() > 128 {
        return bad("Route keys must be between 1 and 128 characters.");
    }
    match protocol {
        ProtocolType::WebSocket => {
            if key == "$connect" || key == "$disconnect" {
                Ok(())
            } else if key.starts_with('$') {
                bad("The only route keys starting with $ are $connect, $disconnect and $default.")
            } else {
                Ok(())
            }
        }
        ProtocolType::Http => {
            let Some((method, path)) = key.split_once(' ') else {
                return bad("HTTP route keys are $default or 'METHOD /path'.");
            };
            if !HTTP_METHODS.contains(&method) {
                return bad(
                    "The method must be ANY, GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.",
                );
            }
            if !path.starts_with('/') {
                return bad("The path must start with '/'.");
            }
            if path == "/" {
                return Ok(());
            }
            let segments: Vec<&str> = path[1..].split('/').collect();
            for (i, seg) in segments.iter().enumerate() {
                let last = i + 1 == segments.len();
                if seg.is_empty() {
                    if last {
                        return bad("The path must not end with '/'.");
                    }
                    return bad("The path must not contain empty segments.");
                }
                if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    let name = match inner.strip_suffix('+') {
                        Some(name) if last => name,
                        Some(_) => {
                            return bad("A greedy path variable {name+} must be the last segment.")
                        }
                        None => inner,
                    };
                    if name.is_empty()
                        || !name.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
                        })
                    {
                        return bad(
                            "Path variables are {name} with letters, digits, '_', '-' or '.'.",
                        );
                    }
                } else if seg.contains(['{', '}', ' ']) {
                    return bad("Path segments must be literals, {param} or a final {proxy+}.");
                }
            }
            Ok(())
        }
    }
}

/// The integration id a route target names (`integrations/{id}`), or an error.
pub fn target_integration(target: &str) -> ApiResult<&str> {
    match target.strip_prefix("integrations/") {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(id),
        _ => Err(ApiError::bad_request(format!(
            "Invalid target: {target}. A route target must be of the form integrations/{{integrationId}}"
        ))),
    }
}

impl Route {
    /// A new route from CreateRoute's input (route key checked by the caller).
    pub fn create(route_id: String, input: RouteInput) -> ApiResult<Route> {
        let route_key = input
            .route_key
            .clone()
            .ok_or_else(|| ApiError::bad_request("Invalid input: routeKey is required"))?;
        let mut route = Route {
            api_gateway_managed: false,
            api_key_required: false,
            authorization_scopes: None,
            authorization_type: AuthorizationType::None,
            authorizer_id: None,
            model_selection_expression: None,
            operation_name: None,
            request_models: None,
            request_parameters: None,
            route_id,
            route_key,
            route_response_selection_expression: None,
            target: None,
        };
        route.apply(input)?;
        Ok(route)
    }

    /// Applies the members present in `input`.
    pub fn apply(&mut self, input: RouteInput) -> ApiResult<()> {
        if let Some(key) = input.route_key {
            self.route_key = key;
        }
        if let Some(v) = input.api_key_required {
            self.api_key_required = v;
        }
        if let Some(v) = input.authorization_scopes {
            self.authorization_scopes = Some(v);
        }
        if let Some(v) = input.authorization_type {
            self.authorization_type = v;
        }
        if let Some(v) = input.authorizer_id {
            self.authorizer_id = Some(v);
        }
        if let Some(v) = input.model_selection_expression {
            self.model_selection_expression = Some(v);
        }
        if let Some(v) = input.operation_name {
            if v.is_empty() || v.chars().count() > 64 {
                return Err(ApiError::bad_request(
                    "Invalid operationName: must be between 1 and 64 characters",
                ));
            }
            self.operation_name = Some(v);
        }
        if let Some(v) = input.request_models {
            self.request_models = Some(v);
        }
        if let Some(v) = input.request_parameters {
            self.request_parameters = Some(v);
        }
        if let Some(v) = input.route_response_selection_expression {
            self.route_response_selection_expression = Some(v);
        }
        if let Some(t) = input.target {
            target_integration(&t)?;
            self.target = Some(t);
        }
        if matches!(
            self.authorization_type,
            AuthorizationType::Custom | AuthorizationType::Jwt
        ) && self.authorizer_id.is_none()
        {
            return Err(ApiError::bad_request(
                "An authorizerId is required for authorization type CUSTOM or JWT",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_route_keys() {
        for ok in [
            "$default",
            "GET /",
            "GET /pets",
            "ANY /pets/{id}",
            "POST /a/{b}/c/{proxy+}",
            "DELETE /x.y/z-1",
        ] {
            assert!(validate_route_key(ProtocolType::Http, ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "GET",
            "get /pets",
            "FETCH /pets",
            "GET pets",
            "GET /pets/",
            "GET //pets",
            "GET /{proxy+}/x",
            "GET /{}",
            "$connect",
        ] {
            assert!(
                validate_route_key(ProtocolType::Http, bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn websocket_route_keys() {
        for ok in ["$connect", "$disconnect", "$default", "sendMessage"] {
            assert!(
                validate_route_key(ProtocolType::WebSocket, ok).is_ok(),
                "{ok}"
            );
        }
        for bad in ["", "$other"] {
            assert!(
                validate_route_key(ProtocolType::WebSocket, bad).is_err(),
                "{bad}"
            );
        }
    }
}
