//! The `RouteResponse` and `IntegrationResponse` shapes: the stored records without the id of
//! the route or integration they belong to (which the path names).

use std::collections::BTreeMap;

use gatehouse_core::model::integration::ContentHandlingStrategy;
use gatehouse_core::model::responses::{IntegrationResponse, RouteResponse};
use gatehouse_core::model::route::ParameterConstraints;
use serde::Serialize;

use super::ToWire;

/// The `RouteResponse` shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteResponseOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    model_selection_expression: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_models: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_parameters: Option<&'a BTreeMap<String, ParameterConstraints>>,
    route_response_id: &'a str,
    route_response_key: &'a str,
}

impl ToWire for RouteResponse {
    type Out<'a> = RouteResponseOut<'a>;
    fn to_wire(&self) -> RouteResponseOut<'_> {
        RouteResponseOut {
            model_selection_expression: self.model_selection_expression.as_deref(),
            response_models: self.response_models.as_ref(),
            response_parameters: self.response_parameters.as_ref(),
            route_response_id: &self.route_response_id,
            route_response_key: &self.route_response_key,
        }
    }
}

/// The `IntegrationResponse` shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationResponseOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    content_handling_strategy: Option<ContentHandlingStrategy>,
    integration_response_id: &'a str,
    integration_response_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_parameters: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_templates: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_selection_expression: Option<&'a str>,
}

impl ToWire for IntegrationResponse {
    type Out<'a> = IntegrationResponseOut<'a>;
    fn to_wire(&self) -> IntegrationResponseOut<'_> {
        IntegrationResponseOut {
            content_handling_strategy: self.content_handling_strategy,
            integration_response_id: &self.integration_response_id,
            integration_response_key: &self.integration_response_key,
            response_parameters: self.response_parameters.as_ref(),
            response_templates: self.response_templates.as_ref(),
            template_selection_expression: self.template_selection_expression.as_deref(),
        }
    }
}
