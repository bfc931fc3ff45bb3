//! Routes: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::ProtocolType;
use super::authorizer::AuthorizerType;
use crate::compat::{Profile, Rule};
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

impl AuthorizationType {
    /// Whether a route of authorization type `route` may use an authorizer of type `kind`
    /// (JWT routes JWT authorizers, CUSTOM routes Lambda ones; the others use none).
    pub fn accepts(route: AuthorizationType, kind: AuthorizerType) -> bool {
        match route {
            AuthorizationType::Jwt => kind == AuthorizerType::Jwt,
            AuthorizationType::Custom => kind == AuthorizerType::Request,
            AuthorizationType::None | AuthorizationType::AwsIam => true,
        }
    }

    /// AWS's answer when a route of this type names no authorizer of the type it needs.
    pub fn needs_authorizer(self) -> Option<&'static str> {
        match self {
            AuthorizationType::Jwt => Some("Invalid authorizer ID specified. Setting the authorization type to JWT requires a valid JWT authorizer."),
            AuthorizationType::Custom => Some("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer."),
            AuthorizationType::None | AuthorizationType::AwsIam => None,
        }
    }
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

/// AWS's answer to a route key path whose parts are not literals, `{param}` or `{proxy+}`.
pub const INVALID_PATH_PARTS: &str = "One or more path parts appear to be invalid";
/// AWS's answer to a missing or empty route key.
pub const ROUTE_KEY_REQUIRED: &str = "Route key is required";
/// AWS's answer to a WebSocket route key starting with `$` other than the predefined ones.
pub const ROUTE_KEY_MALFORMED: &str = "The provided route key is not formatted properly";

/// Whether `part` is a valid path part: a literal of `[a-zA-Z0-9.:_-]`, `{name}` or (last
/// only, checked by the caller) `{name+}`, names of word characters, `.`, `:` and `-` (the
/// pattern AWS's own HTTP API routing emulator validates with).
fn valid_part(part: &str) -> bool {
    let literal = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'_' | b'-'))
    };
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => {
            let name = inner.strip_suffix('+').unwrap_or(inner);
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
        }
        None => literal(part),
    }
}

/// Checks a route key for an API of `protocol`.
///
/// HTTP: `$default` or `METHOD /path`, where METHOD is ANY or an HTTP method and each path
/// part is a literal, `{param}`, or (last only) `{proxy+}`. WebSocket: `$connect`,
/// `$disconnect`, `$default`, or a custom key that does not start with `$`.
pub fn validate_route_key(protocol: ProtocolType, key: &str) -> ApiResult<()> {
    let bad = |why: &str| {
        Err(ApiError::bad_request(format!(
            "Invalid route key: {key}. {why}"
        )))
    };
    if key.is_empty() {
        return Err(ApiError::bad_request(ROUTE_KEY_REQUIRED));
    }
    if key == "$default" {
        return Ok(());
    }
    if key.chars().count() > 128 {
        return bad("Route keys must be between 1 and 128 characters.");
    }
    match protocol {
        ProtocolType::WebSocket => {
            if key.starts_with('$') && key != "$connect" && key != "$disconnect" {
                Err(ApiError::bad_request(ROUTE_KEY_MALFORMED))
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
            let parts: Vec<&str> = path[1..].split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                let greedy_not_last = part.ends_with("+}") && i + 1 != parts.len();
                if !valid_part(part) || greedy_not_last {
                    return Err(ApiError::bad_request(INVALID_PATH_PARTS));
                }
            }
            Ok(())
        }
    }
}

/// The path variable a path part declares (`{id}` → `id`, `{proxy+}` → `proxy+`).
fn variable(part: &str) -> Option<&str> {
    part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
}

/// Whether HTTP route keys `a` and `b` declare differently named variables at the same
/// level of the same path (`/orgs/{orgId}` and `/orgs/{id}`), which AWS refuses (409).
pub fn conflicting_variables(a: &str, b: &str) -> bool {
    let path = |k: &str| k.split_once(' ').map(|(_, p)| p.to_string());
    let (Some(a), Some(b)) = (path(a), path(b)) else {
        return false;
    };
    for (x, y) in a.split('/').zip(b.split('/')) {
        match (variable(x), variable(y)) {
            (Some(vx), Some(vy)) if vx == vy => continue,
            (Some(vx), Some(vy)) => return vx.ends_with('+') == vy.ends_with('+'),
            (None, None) if x == y => continue,
            _ => return false,
        }
    }
    false
}

/// AWS's refusal of an UpdateRoute that names an authorizer without its authorization type.
pub fn check_authorizer_update(input: &RouteInput, profile: Profile) -> ApiResult<()> {
    if input.authorizer_id.is_some()
        && input.authorization_type.is_none()
        && profile.enforces(Rule::RouteAuthorizerFollowsType)
    {
        return Err(ApiError::bad_request(
            "Unable to update route. Authorizer type is invalid or null.",
        ));
    }
    Ok(())
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
            .ok_or_else(|| ApiError::bad_request(ROUTE_KEY_REQUIRED))?;
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

    /// Drops the authorizer of a route whose authorization type uses none (NONE, AWS_IAM):
    /// AWS keeps an `authorizerId` only beside JWT or CUSTOM.
    pub fn forget_unused_authorizer(&mut self, profile: Profile) {
        if profile.enforces(Rule::RouteAuthorizerFollowsType)
            && self.authorization_type.needs_authorizer().is_none()
        {
            self.authorizer_id = None;
        }
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
            self.target = Some(t);
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
            "GET /voice/*",
            "GET /a@b",
            "$connect",
        ] {
            assert!(
                validate_route_key(ProtocolType::Http, bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn variables_at_one_level_must_share_a_name() {
        assert!(conflicting_variables(
            "GET /public/orgs/{orgId}/stages/{stageId}/questions",
            "GET /public/orgs/{orgId}/stages/{stage_id}/questions"
        ));
        assert!(conflicting_variables(
            "GET /pets/{id}",
            "DELETE /pets/{petId}"
        ));
        assert!(!conflicting_variables(
            "GET /pets/{id}",
            "GET /pets/{id}/toys"
        ));
        assert!(!conflicting_variables(
            "GET /pets/{id}",
            "GET /cats/{catId}"
        ));
        assert!(!conflicting_variables("GET /{proxy+}", "GET /{id}"));
        assert!(!conflicting_variables("$default", "GET /{id}"));
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
