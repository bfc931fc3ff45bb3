//! The Stage record and its rules:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::ProtocolType;
use super::tags;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// Execution log level (WebSocket APIs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoggingLevel {
    /// `ERROR`.
    #[serde(rename = "ERROR")]
    Error,
    /// `INFO`.
    #[serde(rename = "INFO")]
    Info,
    /// `OFF`.
    #[serde(rename = "OFF")]
    Off,
}

/// `RouteSettings`: used for `defaultRouteSettings` and each `routeSettings` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RouteSettings {
    /// `dataTraceEnabled` (WebSocket only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_trace_enabled: Option<bool>,
    /// `detailedMetricsEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detailed_metrics_enabled: Option<bool>,
    /// `loggingLevel` (WebSocket only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    /// `throttlingBurstLimit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_burst_limit: Option<i32>,
    /// `throttlingRateLimit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_rate_limit: Option<f64>,
}

impl RouteSettings {
    /// What AWS returns as `defaultRouteSettings` on a stage that never set any.
    pub fn defaults_for(protocol: ProtocolType) -> RouteSettings {
        match protocol {
            ProtocolType::Http => RouteSettings {
                detailed_metrics_enabled: Some(false),
                ..Default::default()
            },
            ProtocolType::WebSocket => RouteSettings {
                data_trace_enabled: Some(false),
                detailed_metrics_enabled: Some(false),
                logging_level: Some(LoggingLevel::Off),
                ..Default::default()
            },
        }
    }

    /// Overlays the members present in `other`.
    pub fn merge(&mut self, other: RouteSettings) {
        if other.data_trace_enabled.is_some() {
            self.data_trace_enabled = other.data_trace_enabled;
        }
        if other.detailed_metrics_enabled.is_some() {
            self.detailed_metrics_enabled = other.detailed_metrics_enabled;
        }
        if other.logging_level.is_some() {
            self.logging_level = other.logging_level;
        }
        if other.throttling_burst_limit.is_some() {
            self.throttling_burst_limit = other.throttling_burst_limit;
        }
        if other.throttling_rate_limit.is_some() {
            self.throttling_rate_limit = other.throttling_rate_limit;
        }
    }

    /// Checks these settings as sent by a client for an API of `protocol`.
    fn validate_input(&self, protocol: ProtocolType, strict: bool) -> ApiResult<()> {
        if strict
            && protocol == ProtocolType::Http
            && (self.logging_level.is_some() || self.data_trace_enabled.is_some())
        {
            return Err(ApiError::bad_request(
                "Execution logs are not supported on protocolType HTTP",
            ));
        }
        if let Some(b) = self.throttling_burst_limit {
            if b < 0 {
                return Err(ApiError::bad_request(
                    "Invalid throttlingBurstLimit: must be greater than or equal to 0",
                ));
            }
        }
        if let Some(r) = self.throttling_rate_limit {
            if !r.is_finite() || r < 0.0 {
                return Err(ApiError::bad_request(
                    "Invalid throttlingRateLimit: must be greater than or equal to 0",
                ));
            }
        }
        Ok(())
    }
}

/// `AccessLogSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSettings {
    /// CloudWatch Logs log group ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
    /// The log line template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Longest access log format, in bytes (AWS quota: 3 KB).
pub const MAX_ACCESS_LOG_FORMAT: usize = 3 * 1024;
/// Most stage variables on one stage (AWS quota).
pub const MAX_STAGE_VARIABLES: usize = 100;
/// Longest stage variable name (AWS quota).
pub const MAX_STAGE_VARIABLE_NAME: usize = 64;
/// Longest stage variable value (AWS quota).
pub const MAX_STAGE_VARIABLE_VALUE: usize = 512;

/// AWS's answer to access log settings without one of their two members.
pub const ACCESS_LOG_MEMBERS: &str = "Exactly one of [destinationArn, format] must be specified.";

impl AccessLogSettings {
    fn validate(&self) -> ApiResult<()> {
        let arn = self
            .destination_arn
            .as_deref()
            .ok_or_else(|| ApiError::bad_request(ACCESS_LOG_MEMBERS))?;
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 6 || parts[0] != "arn" || !matches!(parts[2], "logs" | "firehose") {
            return Err(ApiError::bad_request(format!(
                "Invalid access log settings: destinationArn {arn} is not a CloudWatch Logs log group ARN"
            )));
        }
        let format = self
            .format
            .as_deref()
            .ok_or_else(|| ApiError::bad_request(ACCESS_LOG_MEMBERS))?;
        if format.is_empty() || format.len() > MAX_ACCESS_LOG_FORMAT {
            return Err(ApiError::bad_request(format!(
                "Invalid access log settings: format must be between 1 and {MAX_ACCESS_LOG_FORMAT} bytes"
            )));
        }
        if !format.contains("$context.requestId") && !format.contains("$context.extendedRequestId")
        {
            return Err(ApiError::bad_request(
                "Invalid access log settings: format must include $context.requestId or $context.extendedRequestId",
            ));
        }
        Ok(())
    }
}

/// A stage as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// `stageName`.
    pub stage_name: String,
    /// `accessLogSettings`, omitted until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    /// `apiGatewayManaged`: created by quick create.
    #[serde(default)]
    pub api_gateway_managed: bool,
    /// `autoDeploy`.
    #[serde(default)]
    pub auto_deploy: bool,
    /// `clientCertificateId` (WebSocket only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_id: Option<String>,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// Last change, seconds since the epoch.
    pub last_updated: i64,
    /// `defaultRouteSettings`, always present.
    pub default_route_settings: RouteSettings,
    /// `deploymentId`, omitted until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `lastDeploymentStatusMessage` (auto-deploy stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_deployment_status_message: Option<String>,
    /// `routeSettings`, by route key.
    #[serde(default)]
    pub route_settings: BTreeMap<String, RouteSettings>,
    /// `stageVariables`.
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    /// `tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The members CreateStage and UpdateStage accept (UpdateStage takes neither `stageName`
/// from the body nor `tags`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageInput {
    /// `stageName` (CreateStage).
    pub stage_name: Option<String>,
    /// `accessLogSettings`.
    pub access_log_settings: Option<AccessLogSettings>,
    /// `autoDeploy`.
    pub auto_deploy: Option<bool>,
    /// `clientCertificateId`.
    pub client_certificate_id: Option<String>,
    /// `defaultRouteSettings`.
    pub default_route_settings: Option<RouteSettings>,
    /// `deploymentId`.
    pub deployment_id: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `routeSettings`.
    pub route_settings: Option<BTreeMap<String, RouteSettings>>,
    /// `stageVariables`.
    pub stage_variables: Option<BTreeMap<String, String>>,
    /// `tags` (CreateStage).
    pub tags: Option<BTreeMap<String, String>>,
}

/// Stage names: letters, digits, `-` and `_`, 1 to 128 characters, or exactly `$default`.
pub fn validate_stage_name(name: &str) -> ApiResult<()> {
    let ok = name == "$default"
        || (!name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid stage name: {name}. Stage names can contain only alphanumeric characters, hyphens and underscores, or be $default, and must be at most 128 characters"
        )))
    }
}

fn validate_stage_variable(name: &str, value: &str) -> ApiResult<()> {
    if name.is_empty()
        || name.len() > MAX_STAGE_VARIABLE_NAME
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ApiError::bad_request(format!(
            "Invalid stage variable name: {name}. Stage variable names can contain only alphanumeric characters and underscores and must be at most {MAX_STAGE_VARIABLE_NAME} characters"
        )));
    }
    let value_ok = !value.is_empty()
        && value.len() <= MAX_STAGE_VARIABLE_VALUE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#&=,".contains(&b));
    if !value_ok {
        return Err(ApiError::bad_request(format!(
            "Invalid stage variable value: {value}. Please use values with alphanumeric characters and the symbols '-', '.', '_', '~', ':', '/', '?', '#', '&', '=', and ','; values must be at most {MAX_STAGE_VARIABLE_VALUE} characters"
        )));
    }
    Ok(())
}

/// What a stage change is checked against: the API's protocol and how to name the stage in
/// messages (`{accountId}:{apiId}:{stageName}`).
#[derive(Debug, Clone)]
pub struct StageRules {
    /// The owning API's protocol.
    pub protocol: ProtocolType,
    /// `{accountId}:{apiId}`, used in messages.
    pub api_label: String,
    /// The route keys of the API (routeSettings keys must name one).
    pub route_keys: Vec<String>,
    /// The compatibility profile.
    pub profile: Profile,
}

impl StageRules {
    /// Rules for a stage of an API of `protocol` with routes `route_keys`, AWS's profile.
    pub fn new(protocol: ProtocolType, api_label: String, route_keys: Vec<String>) -> StageRules {
        StageRules {
            protocol,
            api_label,
            route_keys,
            profile: Profile::Aws,
        }
    }

    /// Checks the stage's (merged) routeSettings keys: each must be the exact key of a route
    /// of the API, except the predefined `$default` (and `$connect`, `$disconnect` on
    /// WebSocket APIs). 404 with AWS's text, first offending key.
    fn check_route_settings_keys<'k>(
        &self,
        keys: impl Iterator<Item = &'k String>,
    ) -> ApiResult<()> {
        if !self.profile.enforces(Rule::StageSettingsPerProtocol) {
            return Ok(());
        }
        for key in keys {
            let predefined = match self.protocol {
                ProtocolType::Http => key == "$default",
                ProtocolType::WebSocket => {
                    matches!(key.as_str(), "$default" | "$connect" | "$disconnect")
                }
            };
            if !predefined && !self.route_keys.iter().any(|k| k == key) {
                return Err(ApiError::not_found(format!(
                    "Unable to find Route by key {key} within the provided RouteSettings"
                )));
            }
        }
        Ok(())
    }
}

impl Stage {
    /// Builds a new stage from CreateStage's input.
    pub fn create(input: StageInput, rules: &StageRules, now: i64) -> ApiResult<Stage> {
        let stage_name = input
            .stage_name
            .clone()
            .ok_or_else(|| ApiError::bad_request("Invalid input: stageName is required"))?;
        validate_stage_name(&stage_name)?;
        if let Some(vars) = &input.stage_variables {
            for (k, v) in vars {
                validate_stage_variable(k, v)?;
            }
        }
        let tags = input.tags.clone().unwrap_or_default();
        tags::validate(&tags)?;
        let mut stage = Stage {
            stage_name,
            access_log_settings: None,
            api_gateway_managed: false,
            auto_deploy: false,
            client_certificate_id: None,
            created: now,
            last_updated: now,
            default_route_settings: if rules.profile.enforces(Rule::StageSettingsPerProtocol)
                || input.default_route_settings.is_none()
            {
                RouteSettings::defaults_for(rules.protocol)
            } else {
                RouteSettings::default()
            },
            deployment_id: None,
            description: None,
            last_deployment_status_message: None,
            route_settings: BTreeMap::new(),
            stage_variables: BTreeMap::new(),
            tags,
        };
        stage.apply(input, rules, now)?;
        Ok(stage)
    }

    /// Applies CreateStage's or UpdateStage's members with merge semantics: only members
    /// present change; a stage variable sent as `""` is removed; route settings merge per
    /// route key and member. On error `self` may be partly changed: apply to a copy.
    pub fn apply(&mut self, input: StageInput, rules: &StageRules, now: i64) -> ApiResult<()> {
        let http = rules.protocol == ProtocolType::Http;
        if let Some(d) = &input.description {
            if d.chars().count() > 1024 {
                return Err(ApiError::bad_request(
                    "Invalid description: must be at most 1024 characters",
                ));
            }
        }
        let strict = rules.profile.enforces(Rule::StageSettingsPerProtocol);
        if let Some(id) = &input.client_certificate_id {
            if http && strict {
                return Err(ApiError::bad_request(
                    "Client certificates are not supported on protocolType HTTP",
                ));
            }
            if id.is_empty() {
                return Err(ApiError::bad_request(
                    "Invalid clientCertificateId: must not be empty",
                ));
            }
        }
        if let Some(rs) = &input.default_route_settings {
            rs.validate_input(rules.protocol, strict)?;
        }
        if let Some(map) = &input.route_settings {
            for (key, rs) in map {
                if key.is_empty() {
                    return Err(ApiError::bad_request(
                        "Invalid routeSettings: route keys must not be empty",
                    ));
                }
                rs.validate_input(rules.protocol, strict)?;
            }
        }
        if let Some(id) = &input.deployment_id {
            if id.is_empty() || id.len() > 64 {
                return Err(ApiError::bad_request("Invalid deploymentId"));
            }
        }

        if let Some(v) = input.auto_deploy {
            self.auto_deploy = v;
        }
        if input.deployment_id.is_some() && self.auto_deploy {
            return Err(ApiError::bad_request(format!(
                "Deployment ID cannot be set on this stage {}:{} because AutoDeploy is enabled.",
                rules.api_label, self.stage_name
            )));
        }
        if let Some(id) = input.deployment_id {
            self.deployment_id = Some(id);
        }
        if let Some(d) = input.description {
            self.description = Some(d);
        }
        if let Some(id) = input.client_certificate_id {
            self.client_certificate_id = Some(id);
        }
        if let Some(rs) = input.default_route_settings {
            self.default_route_settings.merge(rs);
        }
        if let Some(map) = input.route_settings {
            for (key, rs) in map {
                self.route_settings.entry(key).or_default().merge(rs);
            }
            rules.check_route_settings_keys(self.route_settings.keys())?;
        }
        if let Some(als) = input.access_log_settings {
            let mut merged = self.access_log_settings.clone().unwrap_or_default();
            if als.destination_arn.is_some() {
                merged.destination_arn = als.destination_arn;
            }
            if als.format.is_some() {
                merged.format = als.format;
            }
            if strict {
                merged.validate()?;
            }
            self.access_log_settings = Some(merged);
        }
        if let Some(vars) = input.stage_variables {
            for (k, v) in vars {
                if v.is_empty() {
                    self.stage_variables.remove(&k);
                } else {
                    validate_stage_variable(&k, &v)?;
                    self.stage_variables.insert(k, v);
                }
            }
            if self.stage_variables.len() > MAX_STAGE_VARIABLES {
                return Err(ApiError::bad_request(format!(
                    "Too many stage variables: a stage can have at most {MAX_STAGE_VARIABLES}"
                )));
            }
        }
        self.last_updated = now.max(self.created);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> StageRules {
        StageRules::new(
            ProtocolType::Http,
            "123456789012:abcdefghij".into(),
            vec!["GET /pets".into()],
        )
    }

    #[test]
    fn stage_names() {
        for ok in ["$default", "prod", "a-b_C9", &"x".repeat(128)] {
            assert!(validate_stage_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "$prod",
            "a b",
            "a/b",
            "é",
            &"x".repeat(129),
            "$default2",
        ] {
            assert!(validate_stage_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_rejects_execution_logs() {
        let input = StageInput {
            stage_name: Some("dev".into()),
            default_route_settings: Some(RouteSettings {
                logging_level: Some(LoggingLevel::Info),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = Stage::create(input, &http(), 1).unwrap_err();
        assert_eq!(
            err.message,
            "Execution logs are not supported on protocolType HTTP"
        );
    }

    #[test]
    fn update_merges_and_removes_variables() {
        let input = StageInput {
            stage_name: Some("dev".into()),
            stage_variables: Some(BTreeMap::from([
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
            ])),
            ..Default::default()
        };
        let mut s = Stage::create(input, &http(), 1).unwrap();
        let patch = StageInput {
            stage_variables: Some(BTreeMap::from([
                ("a".into(), "".into()),
                ("c".into(), "3".into()),
            ])),
            ..Default::default()
        };
        s.apply(patch, &http(), 5).unwrap();
        assert_eq!(
            s.stage_variables,
            BTreeMap::from([("b".into(), "2".into()), ("c".into(), "3".into())])
        );
        assert_eq!((s.created, s.last_updated), (1, 5));
    }
}
