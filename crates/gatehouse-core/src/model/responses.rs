//! Route responses and integration responses (WebSocket APIs):
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes-routeid-routeresponses.html>,
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations-integrationid-integrationresponses.html>.
//!
//! Each belongs to one route or integration; they are stored as children of the API keyed by
//! their own id, with the id of the record they belong to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::integration::ContentHandlingStrategy;
use super::route::ParameterConstraints;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// A route response as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponse {
    /// The route it belongs to (not on the wire).
    pub route_id: String,
    /// `modelSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_selection_expression: Option<String>,
    /// `responseModels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_models: Option<BTreeMap<String, String>>,
    /// `responseParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    /// 6 lowercase letters and digits.
    pub route_response_id: String,
    /// `routeResponseKey`.
    pub route_response_key: String,
}

/// The members CreateRouteResponse and UpdateRouteResponse accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponseInput {
    /// `modelSelectionExpression`.
    pub model_selection_expression: Option<String>,
    /// `responseModels`.
    pub response_models: Option<BTreeMap<String, String>>,
    /// `responseParameters`.
    pub response_parameters: Option<BTreeMap<String, ParameterConstraints>>,
    /// `routeResponseKey`.
    pub route_response_key: Option<String>,
}

/// Checks a route response key: WebSocket routes have one response, `$default`.
fn check_route_response_key(key: &str, profile: Profile) -> ApiResult<()> {
    if key != "$default" && profile.enforces(Rule::RouteResponseKeyForm) {
        return Err(ApiError::bad_request(format!(
            "Invalid route response key: {key}. Only $default is supported as a route response key"
        )));
    }
    Ok(())
}

impl RouteResponse {
    /// A new route response of route `route_id` from CreateRouteResponse's input.
    pub fn create(
        route_id: String,
        route_response_id: String,
        input: RouteResponseInput,
        profile: Profile,
    ) -> ApiResult<RouteResponse> {
        let key = input
            .route_response_key
            .clone()
            .ok_or_else(|| ApiError::bad_request("RouteResponseKey is a required parameter"))?;
        let mut rr = RouteResponse {
            route_id,
            model_selection_expression: None,
            response_models: None,
            response_parameters: None,
            route_response_id,
            route_response_key: key,
        };
        rr.apply(input, profile)?;
        Ok(rr)
    }

    /// Applies the members present in `input`.
    pub fn apply(&mut self, input: RouteResponseInput, profile: Profile) -> ApiResult<()> {
        if let Some(k) = input.route_response_key {
            self.route_response_key = k;
        }
        check_route_response_key(&self.route_response_key, profile)?;
        if let Some(v) = input.model_selection_expression {
            self.model_selection_expression = Some(v);
        }
        if let Some(v) = input.response_models {
            self.response_models = Some(v);
        }
        if let Some(v) = input.response_parameters {
            self.response_parameters = Some(v);
        }
        Ok(())
    }
}

/// An integration response as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponse {
    /// The integration it belongs to (not on the wire).
    pub integration_id: String,
    /// `contentHandlingStrategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<ContentHandlingStrategy>,
    /// 6 lowercase letters and digits.
    pub integration_response_id: String,
    /// `integrationResponseKey`: `$default` or a `/regex/` of status codes.
    pub integration_response_key: String,
    /// `responseParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, String>>,
    /// `responseTemplates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_templates: Option<BTreeMap<String, String>>,
    /// `templateSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
}

/// The members CreateIntegrationResponse and UpdateIntegrationResponse accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponseInput {
    /// `contentHandlingStrategy`.
    pub content_handling_strategy: Option<String>,
    /// `integrationResponseKey`.
    pub integration_response_key: Option<String>,
    /// `responseParameters`.
    pub response_parameters: Option<BTreeMap<String, String>>,
    /// `responseTemplates`.
    pub response_templates: Option<BTreeMap<String, String>>,
    /// `templateSelectionExpression`.
    pub template_selection_expression: Option<String>,
}

/// Checks an integration response key: `$default`, or a status-code pattern between slashes
/// (`/4\d\d/`).
fn check_integration_response_key(key: &str, profile: Profile) -> ApiResult<()> {
    let ok = key == "$default"
        || (key.len() > 2
            && key.starts_with('/')
            && key.ends_with('/')
            && regex_lite::Regex::new(&key[1..key.len() - 1]).is_ok());
    if !ok && profile.enforces(Rule::RouteResponseKeyForm) {
        return Err(ApiError::bad_request(format!(
            "Invalid integration response key: {key}. Integration response keys are $default or a regular expression between slashes matching status codes, such as /4\\d\\d/"
        )));
    }
    Ok(())
}

/// Parses `contentHandlingStrategy`.
pub fn parse_content_handling(s: &str) -> ApiResult<ContentHandlingStrategy> {
    match s {
        "CONVERT_TO_BINARY" => Ok(ContentHandlingStrategy::ConvertToBinary),
        "CONVERT_TO_TEXT" => Ok(ContentHandlingStrategy::ConvertToText),
        other => Err(ApiError::bad_request(format!(
            "Invalid content handling strategy specified: {other}. Must be one of [CONVERT_TO_BINARY, CONVERT_TO_TEXT]"
        ))),
    }
}

impl IntegrationResponse {
    /// A new integration response of integration `integration_id`.
    pub fn create(
        integration_id: String,
        integration_response_id: String,
        input: IntegrationResponseInput,
        profile: Profile,
    ) -> ApiResult<IntegrationResponse> {
        let key = input.integration_response_key.clone().ok_or_else(|| {
            ApiError::bad_request("IntegrationResponseKey is a required parameter")
        })?;
        let mut ir = IntegrationResponse {
            integration_id,
            content_handling_strategy: None,
            integration_response_id,
            integration_response_key: key,
            response_parameters: None,
            response_templates: None,
            template_selection_expression: None,
        };
        ir.apply(input, profile)?;
        Ok(ir)
    }

    /// Applies the members present in `input`.
    pub fn apply(&mut self, input: IntegrationResponseInput, profile: Profile) -> ApiResult<()> {
        if let Some(k) = input.integration_response_key {
            self.integration_response_key = k;
        }
        check_integration_response_key(&self.integration_response_key, profile)?;
        if let Some(v) = input.content_handling_strategy {
            self.content_handling_strategy = Some(parse_content_handling(&v)?);
        }
        if let Some(v) = input.response_parameters {
            self.response_parameters = Some(v);
        }
        if let Some(v) = input.response_templates {
            self.response_templates = Some(v);
        }
        if let Some(v) = input.template_selection_expression {
            self.template_selection_expression = Some(v);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_keys() {
        let rr = |k: &str, p| {
            RouteResponse::create(
                "r".into(),
                "x".into(),
                RouteResponseInput {
                    route_response_key: Some(k.into()),
                    ..Default::default()
                },
                p,
            )
        };
        assert!(rr("$default", Profile::Aws).is_ok());
        assert!(rr("other", Profile::Aws).is_err());
        assert!(rr("other", Profile::Moto).is_ok());
        let ir = |k: &str| {
            IntegrationResponse::create(
                "i".into(),
                "x".into(),
                IntegrationResponseInput {
                    integration_response_key: Some(k.into()),
                    ..Default::default()
                },
                Profile::Aws,
            )
        };
        assert!(ir("$default").is_ok());
        assert!(ir("/4\\d\\d/").is_ok());
        assert!(ir("404").is_err());
        assert!(ir("/(/").is_err());
    }
}
