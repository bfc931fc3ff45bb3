//! Typed path parameters: one struct per set of path labels in the model, each field a
//! percent-decoded label. Handlers receive these, never label positions.

use gatehouse_core::error::{ApiError, ApiResult};

/// A set of path labels an operation's URI template fills.
pub trait PathParams: Sized + Send {
    /// The labels' names in the model, in path order.
    const NAMES: &'static [&'static str];
    /// Decodes the raw (percent-encoded) labels, in path order.
    fn from_raw(raw: &[&str]) -> ApiResult<Self>;
    /// The first label: the id of the root (API, domain name, …) the path is under.
    fn root_id(&self) -> &str;
    /// The last label: the key of the record the path names.
    fn key(&self) -> &str;
}

/// Operations without path labels.
impl PathParams for () {
    const NAMES: &'static [&'static str] = &[];
    fn from_raw(_: &[&str]) -> ApiResult<()> {
        Ok(())
    }
    fn root_id(&self) -> &str {
        ""
    }
    fn key(&self) -> &str {
        ""
    }
}

/// Percent-decodes one path label (after the raw path was split on `/`).
pub fn decode_label(raw: &str) -> ApiResult<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("Invalid path: a path label is not valid UTF-8"))
}

/// Defines the path structs: `Name { field: "modelLabel", ... }`.
macro_rules! paths {
    ($($(#[$doc:meta])* $name:ident { $first:ident: $first_label:literal $(, $field:ident: $label:literal)* })*) => {
        $($(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            #[doc = concat!("`{", $first_label, "}`")]
            pub $first: String,
            $(#[doc = concat!("`{", $label, "}`")] pub $field: String,)*
        }

        impl PathParams for $name {
            const NAMES: &'static [&'static str] = &[$first_label $(, $label)*];
            fn from_raw(raw: &[&str]) -> ApiResult<Self> {
                let mut labels = raw.iter();
                let mut next = || decode_label(labels.next().copied().unwrap_or_default());
                Ok($name {
                    $first: next()?,
                    $($field: next()?,)*
                })
            }
            fn root_id(&self) -> &str {
                &self.$first
            }
            fn key(&self) -> &str {
                [&self.$first $(, &self.$field)*].last().map_or("", |s| s.as_str())
            }
        })*
    };
}

paths! {
    /// `/v2/apis/{apiId}`
    ApiPath { api_id: "apiId" }
    /// `…/stages/{stageName}`
    StagePath { api_id: "apiId", stage_name: "stageName" }
    /// `…/stages/{stageName}/routesettings/{routeKey}`
    RouteSettingsPath { api_id: "apiId", stage_name: "stageName", route_key: "routeKey" }
    /// `…/routes/{routeId}`
    RoutePath { api_id: "apiId", route_id: "routeId" }
    /// `…/routes/{routeId}/requestparameters/{requestParameterKey}`
    RequestParameterPath { api_id: "apiId", route_id: "routeId", request_parameter_key: "requestParameterKey" }
    /// `…/routes/{routeId}/routeresponses/{routeResponseId}`
    RouteResponsePath { api_id: "apiId", route_id: "routeId", route_response_id: "routeResponseId" }
    /// `…/integrations/{integrationId}`
    IntegrationPath { api_id: "apiId", integration_id: "integrationId" }
    /// `…/integrations/{integrationId}/integrationresponses/{integrationResponseId}`
    IntegrationResponsePath { api_id: "apiId", integration_id: "integrationId", integration_response_id: "integrationResponseId" }
    /// `…/deployments/{deploymentId}`
    DeploymentPath { api_id: "apiId", deployment_id: "deploymentId" }
    /// `…/authorizers/{authorizerId}`
    AuthorizerPath { api_id: "apiId", authorizer_id: "authorizerId" }
    /// `…/models/{modelId}`
    ModelPath { api_id: "apiId", model_id: "modelId" }
    /// `…/exports/{specification}`
    ExportPath { api_id: "apiId", specification: "specification" }
    /// `/v2/domainnames/{domainName}`
    DomainNamePath { domain_name: "domainName" }
    /// `…/apimappings/{apiMappingId}`
    ApiMappingPath { domain_name: "domainName", api_mapping_id: "apiMappingId" }
    /// `…/routingrules/{routingRuleId}`
    RoutingRulePath { domain_name: "domainName", routing_rule_id: "routingRuleId" }
    /// `/v2/vpclinks/{vpcLinkId}`
    VpcLinkPath { vpc_link_id: "vpcLinkId" }
    /// `/v2/tags/{resource-arn}`
    ResourceArnPath { resource_arn: "resource-arn" }
    /// `/v2/portals/{portalId}`
    PortalPath { portal_id: "portalId" }
    /// `/v2/portalproducts/{portalProductId}`
    PortalProductPath { portal_product_id: "portalProductId" }
    /// `…/productpages/{productPageId}`
    ProductPagePath { portal_product_id: "portalProductId", product_page_id: "productPageId" }
    /// `…/productrestendpointpages/{productRestEndpointPageId}`
    ProductRestEndpointPagePath { portal_product_id: "portalProductId", product_rest_endpoint_page_id: "productRestEndpointPageId" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_decode_after_routing() {
        assert_eq!(decode_label("%24default").unwrap(), "$default");
        assert_eq!(decode_label("GET%20%2Fpets").unwrap(), "GET /pets");
        assert!(decode_label("%ff").is_err());
    }
}
