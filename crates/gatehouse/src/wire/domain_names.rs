//! The `DomainName`, `ApiMapping` and `RoutingRule` shapes:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames-domainname.html>.

use std::collections::BTreeMap;

use gatehouse_core::model::domain_name::{
    ApiMapping, DomainName, DomainNameConfiguration, MutualTlsAuthentication,
};
use gatehouse_core::model::routing_rule::RoutingRule;
use serde::Serialize;

use super::ToWire;

/// The `DomainName` shape: every member but the creation time; `tags` as `{}` when there
/// are none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameOut<'a> {
    api_mapping_selection_expression: &'a str,
    domain_name: &'a str,
    domain_name_arn: &'a str,
    domain_name_configurations: &'a [DomainNameConfiguration],
    #[serde(skip_serializing_if = "Option::is_none")]
    mutual_tls_authentication: Option<&'a MutualTlsAuthentication>,
    routing_mode: &'a str,
    tags: &'a BTreeMap<String, String>,
}

impl ToWire for DomainName {
    type Out<'a> = DomainNameOut<'a>;
    fn to_wire(&self) -> DomainNameOut<'_> {
        DomainNameOut {
            api_mapping_selection_expression: &self.api_mapping_selection_expression,
            domain_name: &self.domain_name,
            domain_name_arn: &self.domain_name_arn,
            domain_name_configurations: &self.domain_name_configurations,
            mutual_tls_authentication: self.mutual_tls_authentication.as_ref(),
            routing_mode: &self.routing_mode,
            tags: &self.tags,
        }
    }
}

impl ToWire for ApiMapping {
    type Out<'a> = &'a ApiMapping;
    fn to_wire(&self) -> &ApiMapping {
        self
    }
}

impl ToWire for RoutingRule {
    const LIST_MEMBER: &'static str = "routingRules";
    type Out<'a> = &'a RoutingRule;
    fn to_wire(&self) -> &RoutingRule {
        self
    }
}
