//! Integrations:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::api::ProtocolType;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// `IntegrationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegrationType {
    /// `AWS` (WebSocket only).
    #[serde(rename = "AWS")]
    Aws,
    /// `HTTP` (WebSocket only).
    #[serde(rename = "HTTP")]
    Http,
    /// `MOCK` (WebSocket only).
    #[serde(rename = "MOCK")]
    Mock,
    /// `HTTP_PROXY`.
    #[serde(rename = "HTTP_PROXY")]
    HttpProxy,
    /// `AWS_PROXY` (Lambda proxy).
    #[serde(rename = "AWS_PROXY")]
    AwsProxy,
}

/// `ConnectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ConnectionType {
    /// Over the internet.
    #[default]
    #[serde(rename = "INTERNET")]
    Internet,
    /// Through a VPC link.
    #[serde(rename = "VPC_LINK")]
    VpcLink,
}

/// `PassthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PassthroughBehavior {
    /// `WHEN_NO_MATCH`.
    #[serde(rename = "WHEN_NO_MATCH")]
    WhenNoMatch,
    /// `NEVER`.
    #[serde(rename = "NEVER")]
    Never,
    /// `WHEN_NO_TEMPLATES`.
    #[serde(rename = "WHEN_NO_TEMPLATES")]
    WhenNoTemplates,
}

/// `ContentHandlingStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentHandlingStrategy {
    /// `CONVERT_TO_BINARY`.
    #[serde(rename = "CONVERT_TO_BINARY")]
    ConvertToBinary,
    /// `CONVERT_TO_TEXT`.
    #[serde(rename = "CONVERT_TO_TEXT")]
    ConvertToText,
}

/// `TlsConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// `serverNameToVerify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name_to_verify: Option<String>,
}

/// An integration as stored (and, member for member, as sent on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// Created by quick create.
    #[serde(default, skip_serializing_if = "is_false")]
    pub api_gateway_managed: bool,
    /// `connectionId` (VPC link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// `connectionType`.
    #[serde(default)]
    pub connection_type: ConnectionType,
    /// `contentHandlingStrategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_handling_strategy: Option<ContentHandlingStrategy>,
    /// `credentialsArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_arn: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 7 lowercase letters and digits.
    pub integration_id: String,
    /// `integrationMethod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    /// `integrationResponseSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_response_selection_expression: Option<String>,
    /// `integrationSubtype`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_subtype: Option<String>,
    /// `integrationType`.
    pub integration_type: IntegrationType,
    /// `integrationUri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    /// `passthroughBehavior`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough_behavior: Option<PassthroughBehavior>,
    /// `payloadFormatVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    /// `requestParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<BTreeMap<String, String>>,
    /// `requestTemplates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_templates: Option<BTreeMap<String, String>>,
    /// `responseParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
    /// `templateSelectionExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_selection_expression: Option<String>,
    /// `timeoutInMillis`, 50 to 30000.
    pub timeout_in_millis: i32,
    /// `tlsConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The members CreateIntegration and UpdateIntegration accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationInput {
    /// `connectionId`.
    pub connection_id: Option<String>,
    /// `connectionType`.
    pub connection_type: Option<ConnectionType>,
    /// `contentHandlingStrategy`.
    pub content_handling_strategy: Option<ContentHandlingStrategy>,
    /// `credentialsArn`.
    pub credentials_arn: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `integrationMethod`.
    pub integration_method: Option<String>,
    /// `integrationSubtype`.
    pub integration_subtype: Option<String>,
    /// `integrationType`.
    pub integration_type: Option<IntegrationType>,
    /// `integrationUri`.
    pub integration_uri: Option<String>,
    /// `passthroughBehavior`.
    pub passthrough_behavior: Option<PassthroughBehavior>,
    /// `payloadFormatVersion`.
    pub payload_format_version: Option<String>,
    /// `requestParameters`.
    pub request_parameters: Option<BTreeMap<String, String>>,
    /// `requestTemplates`.
    pub request_templates: Option<BTreeMap<String, String>>,
    /// `responseParameters`.
    pub response_parameters: Option<BTreeMap<String, BTreeMap<String, String>>>,
    /// `templateSelectionExpression`.
    pub template_selection_expression: Option<String>,
    /// `timeoutInMillis`.
    pub timeout_in_millis: Option<i32>,
    /// `tlsConfig`.
    pub tls_config: Option<TlsConfig>,
}

/// AWS's default timeout for HTTP API integrations.
pub const HTTP_API_TIMEOUT: i32 = 30_000;
/// AWS's answer to a non-proxy integration on an HTTP API.
pub const NON_PROXY_ON_HTTP: &str = "Currently, an API with a protocol type of HTTP may only be associated with proxy integrations (AWS_PROXY, HTTP_PROXY)";

/// AWS's default timeout for WebSocket API integrations.
pub const WEBSOCKET_TIMEOUT: i32 = 29_000;

impl Integration {
    /// A new integration from CreateIntegration's input, with AWS's defaults for `protocol`.
    pub fn create(
        integration_id: String,
        input: IntegrationInput,
        protocol: ProtocolType,
        profile: Profile,
    ) -> ApiResult<Integration> {
        let integration_type = input
            .integration_type
            .ok_or_else(|| ApiError::bad_request("Invalid input: integrationType is required"))?;
        let websocket = protocol == ProtocolType::WebSocket;
        let non_proxy = matches!(
            integration_type,
            IntegrationType::Aws | IntegrationType::Http | IntegrationType::Mock
        );
        let mut integration = Integration {
            api_gateway_managed: false,
            connection_id: None,
            connection_type: ConnectionType::Internet,
            content_handling_strategy: None,
            credentials_arn: None,
            description: None,
            integration_id,
            integration_method: match (protocol, integration_type) {
                (ProtocolType::Http, IntegrationType::AwsProxy) => Some("POST".into()),
                _ => None,
            },
            integration_response_selection_expression: ((websocket
                || !profile.enforces(Rule::HttpProxyIntegrationsOnly))
                && non_proxy)
                .then(|| "${integration.response.statuscode}".to_string()),
            integration_subtype: None,
            integration_type,
            integration_uri: None,
            passthrough_behavior: (websocket && non_proxy)
                .then_some(PassthroughBehavior::WhenNoMatch),
            payload_format_version: Some("1.0".into()),
            request_parameters: None,
            request_templates: None,
            response_parameters: None,
            template_selection_expression: None,
            timeout_in_millis: if websocket {
                WEBSOCKET_TIMEOUT
            } else {
                HTTP_API_TIMEOUT
            },
            tls_config: None,
        };
        integration.apply(input, protocol, profile)?;
        Ok(integration)
    }

    /// Applies the members present in `input` and checks the result for `protocol`.
    /// Parameter mappings merge into the current ones, as in AWS: a request parameter with
    /// an empty value is removed, a status code's response parameters are replaced.
    pub fn apply(
        &mut self,
        input: IntegrationInput,
        protocol: ProtocolType,
        profile: Profile,
    ) -> ApiResult<()> {
        if let Some(new) = &input.request_parameters {
            let mut merged = self.request_parameters.take().unwrap_or_default();
            for (k, v) in new {
                if v.is_empty() {
                    merged.remove(k);
                } else {
                    merged.insert(k.clone(), v.clone());
                }
            }
            self.request_parameters = Some(merged);
        }
        if let Some(new) = &input.response_parameters {
            let mut merged = self.response_parameters.take().unwrap_or_default();
            merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.response_parameters = Some(merged);
        }
        if let Some(v) = input.integration_type {
            self.integration_type = v;
        }
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = input.$field {
                    self.$field = Some(v);
                }
            )*};
        }
        set!(
            connection_id,
            content_handling_strategy,
            credentials_arn,
            description,
            integration_method,
            integration_subtype,
            integration_uri,
            passthrough_behavior,
            payload_format_version,
            request_templates,
            template_selection_expression,
            tls_config
        );
        if let Some(v) = input.connection_type {
            self.connection_type = v;
        }
        if let Some(v) = input.timeout_in_millis {
            self.timeout_in_millis = v;
        }
        self.validate(protocol, profile)
    }

    fn validate(&self, protocol: ProtocolType, profile: Profile) -> ApiResult<()> {
        let t = self.integration_type;
        if protocol == ProtocolType::Http
            && !matches!(t, IntegrationType::AwsProxy | IntegrationType::HttpProxy)
            && profile.enforces(Rule::HttpProxyIntegrationsOnly)
        {
            return Err(ApiError::bad_request(NON_PROXY_ON_HTTP));
        }
        if !profile.enforces(Rule::IntegrationShape) {
            return Ok(());
        }
        if !(50..=30_000).contains(&self.timeout_in_millis) {
            return Err(ApiError::bad_request(
                "Invalid timeoutInMillis: must be between 50 and 30000",
            ));
        }
        if let Some(v) = &self.payload_format_version {
            let ok = match (protocol, t) {
                (ProtocolType::Http, IntegrationType::AwsProxy) => v == "1.0" || v == "2.0",
                _ => v == "1.0",
            };
            if !ok {
                return Err(ApiError::bad_request(format!(
                    "Invalid payloadFormatVersion: {v}. Supported values are 1.0 (all integrations) and 2.0 (AWS_PROXY integrations of HTTP APIs)"
                )));
            }
        }
        if t != IntegrationType::Mock && self.integration_uri.is_none() {
            return Err(ApiError::bad_request(format!(
                "An integrationUri is required for integration type {}",
                type_name(t)
            )));
        }
        if let Some(d) = &self.description {
            if d.chars().count() > 1024 {
                return Err(ApiError::bad_request(
                    "Invalid description: must be at most 1024 characters",
                ));
            }
        }
        if let Some(uri) = &self.integration_uri {
            if uri.is_empty() || uri.len() > 2048 {
                return Err(ApiError::bad_request(
                    "Invalid integrationUri: must be between 1 and 2048 characters",
                ));
            }
            if t == IntegrationType::HttpProxy
                && self.connection_type == ConnectionType::Internet
                && !(uri.starts_with("http://") || uri.starts_with("https://"))
            {
                return Err(ApiError::bad_request(format!(
                    "Invalid integrationUri: {uri}. HTTP_PROXY integrations over the internet need an http:// or https:// URL"
                )));
            }
        }
        if self.connection_type == ConnectionType::VpcLink && self.connection_id.is_none() {
            return Err(ApiError::bad_request(
                "A connectionId is required for connection type VPC_LINK",
            ));
        }
        Ok(())
    }
}

fn type_name(t: IntegrationType) -> &'static str {
    match t {
        IntegrationType::Aws => "AWS",
        IntegrationType::Http => "HTTP",
        IntegrationType::Mock => "MOCK",
        IntegrationType::HttpProxy => "HTTP_PROXY",
        IntegrationType::AwsProxy => "AWS_PROXY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: IntegrationType, uri: Option<&str>) -> IntegrationInput {
        IntegrationInput {
            integration_type: Some(t),
            integration_uri: uri.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_per_protocol() {
        let ws = Integration::create(
            "abcdefg".into(),
            input(IntegrationType::Mock, None),
            ProtocolType::WebSocket,
            Profile::Aws,
        )
        .unwrap();
        assert_eq!(ws.timeout_in_millis, 29_000);
        assert_eq!(
            ws.passthrough_behavior,
            Some(PassthroughBehavior::WhenNoMatch)
        );
        assert_eq!(
            ws.integration_response_selection_expression.as_deref(),
            Some("${integration.response.statuscode}")
        );
        let lambda = "arn:aws:lambda:us-east-1:123456789012:function:f";
        let http = Integration::create(
            "abcdefg".into(),
            input(IntegrationType::AwsProxy, Some(lambda)),
            ProtocolType::Http,
            Profile::Aws,
        )
        .unwrap();
        assert_eq!(http.timeout_in_millis, 30_000);
        assert_eq!(http.integration_method.as_deref(), Some("POST"));
        assert_eq!(http.passthrough_behavior, None);
    }

    #[test]
    fn http_apis_take_only_proxy_integrations() {
        assert!(Integration::create(
            "a".into(),
            input(IntegrationType::Mock, None),
            ProtocolType::Http,
            Profile::Aws
        )
        .is_err());
        let mut bad_timeout = input(IntegrationType::HttpProxy, Some("https://example.com"));
        bad_timeout.timeout_in_millis = Some(49);
        assert!(
            Integration::create("a".into(), bad_timeout, ProtocolType::Http, Profile::Aws).is_err()
        );
    }
}
