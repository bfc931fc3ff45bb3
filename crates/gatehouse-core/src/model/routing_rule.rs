//! Routing rules of a custom domain name: which API stage serves requests whose base path or
//! headers match, by priority:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames-domainname-routingrules.html>.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// A routing rule's action: invoke an API's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InvokeApi {
    /// `apiId`.
    #[serde(default)]
    pub api_id: String,
    /// `stage`.
    #[serde(default)]
    pub stage: String,
    /// `stripBasePath`.
    #[serde(default)]
    pub strip_base_path: bool,
}

/// `RoutingRuleAction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRuleAction {
    /// `invokeApi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_api: Option<InvokeApi>,
}

/// `RoutingRuleMatchHeaderValue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MatchHeaderValue {
    /// `header`.
    #[serde(default)]
    pub header: String,
    /// `valueGlob`.
    #[serde(default)]
    pub value_glob: String,
}

/// `RoutingRuleMatchBasePaths`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MatchBasePaths {
    /// `anyOf`.
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// `RoutingRuleMatchHeaders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MatchHeaders {
    /// `anyOf`.
    #[serde(default)]
    pub any_of: Vec<MatchHeaderValue>,
}

/// `RoutingRuleCondition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRuleCondition {
    /// `matchBasePaths`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_base_paths: Option<MatchBasePaths>,
    /// `matchHeaders`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_headers: Option<MatchHeaders>,
}

/// A routing rule of a domain name, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRule {
    /// `actions`.
    pub actions: Vec<RoutingRuleAction>,
    /// `conditions`.
    pub conditions: Vec<RoutingRuleCondition>,
    /// `priority`.
    pub priority: i32,
    /// `routingRuleArn`.
    pub routing_rule_arn: String,
    /// `routingRuleId`.
    pub routing_rule_id: String,
}

/// The members CreateRoutingRule and PutRoutingRule accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRuleInput {
    /// `actions`.
    pub actions: Option<Vec<RoutingRuleAction>>,
    /// `conditions`.
    pub conditions: Option<Vec<RoutingRuleCondition>>,
    /// `priority`.
    pub priority: Option<i32>,
}

impl RoutingRule {
    /// A routing rule from CreateRoutingRule's or PutRoutingRule's input (both replace
    /// every member).
    pub fn build(id: String, arn: String, input: RoutingRuleInput) -> ApiResult<RoutingRule> {
        let bad = |m: &str| Err(ApiError::bad_request(m));
        let (Some(actions), Some(conditions), Some(priority)) =
            (input.actions, input.conditions, input.priority)
        else {
            return bad("Actions, Conditions and Priority are required parameters");
        };
        if !(1..=1_000_000).contains(&priority) {
            return bad("Priority must be between 1 and 1000000");
        }
        if actions.len() != 1 || actions[0].invoke_api.is_none() {
            return bad("A routing rule takes exactly one action, invokeApi");
        }
        if conditions.len() > 3 {
            return bad("A routing rule takes at most three conditions");
        }
        for c in &conditions {
            if c.match_base_paths.is_some() == c.match_headers.is_some() {
                return bad("Each condition takes exactly one of matchBasePaths and matchHeaders");
            }
            if let Some(p) = &c.match_base_paths {
                if p.any_of.len() != 1 {
                    return bad("matchBasePaths.anyOf takes exactly one base path");
                }
            }
            if let Some(h) = &c.match_headers {
                if h.any_of.len() != 1 || h.any_of[0].header.is_empty() {
                    return bad("matchHeaders.anyOf takes exactly one header and value");
                }
            }
        }
        Ok(RoutingRule {
            actions,
            conditions,
            priority,
            routing_rule_arn: arn,
            routing_rule_id: id,
        })
    }
}
