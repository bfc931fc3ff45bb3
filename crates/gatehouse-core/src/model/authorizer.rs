//! Authorizers:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html>.
//!
//! JWT authorizers (HTTP APIs) and REQUEST (Lambda) authorizers (HTTP and WebSocket). The
//! members each type and protocol needs are checked on the merged record, so CreateAuthorizer
//! and UpdateAuthorizer apply one rule set.

use serde::{Deserialize, Serialize};

use super::api::ProtocolType;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// `AuthorizerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizerType {
    /// A Lambda authorizer.
    #[serde(rename = "REQUEST")]
    Request,
    /// A JWT authorizer (HTTP APIs).
    #[serde(rename = "JWT")]
    Jwt,
}

/// `JWTConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct JwtConfiguration {
    /// `audience`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// `issuer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// An authorizer as stored (and, member for member, as sent on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    /// `authorizerCredentialsArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials_arn: Option<String>,
    /// 6 lowercase letters and digits.
    pub authorizer_id: String,
    /// `authorizerPayloadFormatVersion` (HTTP REQUEST authorizers: `1.0` or `2.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<String>,
    /// `authorizerResultTtlInSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<i32>,
    /// `authorizerType`.
    pub authorizer_type: AuthorizerType,
    /// `authorizerUri`: the Lambda invocation URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    /// `enableSimpleResponses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    /// `identitySource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_source: Option<Vec<String>>,
    /// `identityValidationExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_validation_expression: Option<String>,
    /// `jwtConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<JwtConfiguration>,
    /// `name`.
    pub name: String,
}

/// The members CreateAuthorizer and UpdateAuthorizer accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerInput {
    /// `authorizerCredentialsArn`.
    pub authorizer_credentials_arn: Option<String>,
    /// `authorizerPayloadFormatVersion`.
    pub authorizer_payload_format_version: Option<String>,
    /// `authorizerResultTtlInSeconds`.
    pub authorizer_result_ttl_in_seconds: Option<i32>,
    /// `authorizerType`.
    pub authorizer_type: Option<String>,
    /// `authorizerUri`.
    pub authorizer_uri: Option<String>,
    /// `enableSimpleResponses`.
    pub enable_simple_responses: Option<bool>,
    /// `identitySource`.
    pub identity_source: Option<Vec<String>>,
    /// `identityValidationExpression`.
    pub identity_validation_expression: Option<String>,
    /// `jwtConfiguration`.
    pub jwt_configuration: Option<JwtConfiguration>,
    /// `name`.
    pub name: Option<String>,
}

fn parse_type(s: &str) -> ApiResult<AuthorizerType> {
    match s {
        "REQUEST" => Ok(AuthorizerType::Request),
        "JWT" => Ok(AuthorizerType::Jwt),
        other => Err(ApiError::bad_request(format!(
            "Invalid authorizer type specified: {other}. Must be one of [REQUEST, JWT]"
        ))),
    }
}

/// Whether `source` is a selection expression with one of `prefixes` and a name after it.
fn has_prefix(source: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| source.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

impl Authorizer {
    /// A new authorizer from CreateAuthorizer's input, checked for an API of `protocol`.
    pub fn create(
        authorizer_id: String,
        input: AuthorizerInput,
        protocol: ProtocolType,
        profile: Profile,
    ) -> ApiResult<Authorizer> {
        let name = input
            .name
            .clone()
            .ok_or_else(|| ApiError::bad_request("Name is a required parameter"))?;
        let authorizer_type = parse_type(
            input
                .authorizer_type
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("AuthorizerType is a required parameter"))?,
        )?;
        let http_request =
            protocol == ProtocolType::Http && authorizer_type == AuthorizerType::Request;
        let mut authorizer = Authorizer {
            authorizer_credentials_arn: None,
            authorizer_id,
            authorizer_payload_format_version: None,
            // AWS reports a TTL of 0 and simple responses off for HTTP Lambda authorizers
            // that do not set them.
            authorizer_result_ttl_in_seconds: http_request.then_some(0),
            authorizer_type,
            authorizer_uri: None,
            enable_simple_responses: http_request.then_some(false),
            identity_source: None,
            identity_validation_expression: None,
            jwt_configuration: None,
            name,
        };
        authorizer.apply(input, protocol, profile)?;
        Ok(authorizer)
    }

    /// Applies the members present in `input` and checks the result as a whole.
    pub fn apply(
        &mut self,
        input: AuthorizerInput,
        protocol: ProtocolType,
        profile: Profile,
    ) -> ApiResult<()> {
        if let Some(t) = input.authorizer_type.as_deref() {
            self.authorizer_type = parse_type(t)?;
        }
        if let Some(v) = input.name {
            self.name = v;
        }
        if let Some(v) = input.authorizer_credentials_arn {
            self.authorizer_credentials_arn = Some(v);
        }
        if let Some(v) = input.authorizer_payload_format_version {
            self.authorizer_payload_format_version = Some(v);
        }
        if let Some(v) = input.authorizer_result_ttl_in_seconds {
            self.authorizer_result_ttl_in_seconds = Some(v);
        }
        if let Some(v) = input.authorizer_uri {
            self.authorizer_uri = Some(v);
        }
        if let Some(v) = input.enable_simple_responses {
            self.enable_simple_responses = Some(v);
        }
        if let Some(v) = input.identity_source {
            self.identity_source = Some(v);
        }
        if let Some(v) = input.identity_validation_expression {
            self.identity_validation_expression = Some(v);
        }
        if let Some(v) = input.jwt_configuration {
            self.jwt_configuration = Some(v);
        }
        self.check(protocol, profile)
    }

    /// AWS's rules for the record as it would be stored.
    fn check(&self, protocol: ProtocolType, profile: Profile) -> ApiResult<()> {
        let http_request =
            protocol == ProtocolType::Http && self.authorizer_type == AuthorizerType::Request;
        if http_request && self.authorizer_payload_format_version.is_none() {
            return bad(
                "AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer",
            );
        }
        if !profile.enforces(Rule::AuthorizerShape) {
            return Ok(());
        }
        let n = self.name.chars().count();
        if !(1..=128).contains(&n) {
            return bad("Invalid authorizer name: must be between 1 and 128 characters");
        }
        match (self.authorizer_type, protocol) {
            (AuthorizerType::Jwt, ProtocolType::WebSocket) => {
                bad("JWT authorizers are supported only for HTTP APIs")
            }
            (AuthorizerType::Jwt, ProtocolType::Http) => self.check_jwt(),
            (AuthorizerType::Request, _) => self.check_request(),
        }?;
        match protocol {
            ProtocolType::Http if http_request => self.check_http_request(),
            ProtocolType::Http => Ok(()),
            ProtocolType::WebSocket => self.check_websocket(),
        }
    }

    /// The identity sources, as stored.
    fn sources(&self) -> &[String] {
        self.identity_source.as_deref().unwrap_or_default()
    }

    /// A JWT authorizer's configuration: an issuer, one header or query-string source, and
    /// none of a REQUEST authorizer's members.
    fn check_jwt(&self) -> ApiResult<()> {
        let sources = self.sources();
        let issuer = self
            .jwt_configuration
            .as_ref()
            .and_then(|j| j.issuer.as_deref());
        if self.jwt_configuration.is_none() {
            return bad("JwtConfiguration is a required parameter for JWT authorizer");
        }
        if issuer.is_none_or(str::is_empty) {
            return bad("Issuer is a required parameter for JWT authorizer");
        }
        if sources.len() != 1
            || !has_prefix(&sources[0], &["$request.header.", "$request.querystring."])
        {
            return bad("Identity source for a JWT authorizer must be a single header ($request.header.name) or query string ($request.querystring.name)");
        }
        if self.authorizer_uri.is_some()
            || self.authorizer_payload_format_version.is_some()
            || self.enable_simple_responses.is_some()
        {
            return bad("AuthorizerUri, AuthorizerPayloadFormatVersion and EnableSimpleResponses are supported only for REQUEST authorizers");
        }
        Ok(())
    }

    /// A REQUEST authorizer has a function and no JWT configuration.
    fn check_request(&self) -> ApiResult<()> {
        if self.authorizer_uri.as_deref().is_none_or(str::is_empty) {
            return bad("AuthorizerUri is a required parameter for REQUEST authorizer");
        }
        if self.jwt_configuration.is_some() {
            return bad("JwtConfiguration is supported only for JWT authorizers");
        }
        Ok(())
    }

    /// An HTTP API's REQUEST authorizer: its payload format, simple responses, caching and
    /// identity sources.
    fn check_http_request(&self) -> ApiResult<()> {
        let sources = self.sources();
        let version = self.authorizer_payload_format_version.as_deref();
        if !matches!(version, Some("1.0" | "2.0")) {
            return bad("Invalid AuthorizerPayloadFormatVersion: must be 1.0 or 2.0");
        }
        if self.enable_simple_responses == Some(true) && version != Some("2.0") {
            return bad(
                "EnableSimpleResponses is supported only for authorizer payload format version 2.0",
            );
        }
        let ttl = self.authorizer_result_ttl_in_seconds.unwrap_or(0);
        if !(0..=3600).contains(&ttl) {
            return bad("Invalid AuthorizerResultTtlInSeconds: must be between 0 and 3600");
        }
        if ttl > 0 && sources.is_empty() {
            return bad("IdentitySource is required when authorizer caching is enabled (AuthorizerResultTtlInSeconds greater than 0)");
        }
        self.check_sources(
            &[
                "$request.header.",
                "$request.querystring.",
                "$context.",
                "$stageVariables.",
            ],
            "$request.header.name, $request.querystring.name, $context.name or $stageVariables.name",
        )
    }

    /// A WebSocket API's authorizer: none of the HTTP-only members, and WebSocket identity
    /// sources.
    fn check_websocket(&self) -> ApiResult<()> {
        if self.authorizer_payload_format_version.is_some()
            || self.enable_simple_responses.is_some()
            || self.authorizer_result_ttl_in_seconds.is_some()
        {
            return bad("AuthorizerPayloadFormatVersion, EnableSimpleResponses and AuthorizerResultTtlInSeconds are supported only for HTTP APIs");
        }
        self.check_sources(
            &[
                "route.request.header.",
                "route.request.querystring.",
                "context.",
                "stageVariables.",
            ],
            "route.request.header.name, route.request.querystring.name, context.name or stageVariables.name",
        )
    }

    /// Every identity source starts with one of `kinds` (`named` in the refusal).
    fn check_sources(&self, kinds: &[&str], named: &str) -> ApiResult<()> {
        match self.sources().iter().find(|s| !has_prefix(s, kinds)) {
            Some(s) => Err(ApiError::bad_request(format!(
                "Invalid identity source: {s}. Identity sources are {named}"
            ))),
            None => Ok(()),
        }
    }
}

/// A 400 with `message`.
fn bad(message: &str) -> ApiResult<()> {
    Err(ApiError::bad_request(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(sources: &[&str]) -> AuthorizerInput {
        AuthorizerInput {
            name: Some("jwt".into()),
            authorizer_type: Some("JWT".into()),
            identity_source: Some(sources.iter().map(|s| s.to_string()).collect()),
            jwt_configuration: Some(JwtConfiguration {
                audience: Some(vec!["app".into()]),
                issuer: Some("https://issuer.example.com".into()),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn jwt_authorizers_need_an_issuer_and_one_source() {
        let aws = Profile::Aws;
        let ok = Authorizer::create(
            "a".into(),
            jwt(&["$request.header.Authorization"]),
            ProtocolType::Http,
            aws,
        )
        .unwrap();
        assert_eq!(ok.authorizer_result_ttl_in_seconds, None);
        for bad in [
            &[][..],
            &["Authorization"][..],
            &["$request.header.A", "$request.header.B"][..],
        ] {
            assert!(Authorizer::create("a".into(), jwt(bad), ProtocolType::Http, aws).is_err());
        }
        assert!(Authorizer::create(
            "a".into(),
            jwt(&["$request.header.Authorization"]),
            ProtocolType::WebSocket,
            aws
        )
        .is_err());
    }

    #[test]
    fn request_authorizers_follow_their_protocol() {
        let http = AuthorizerInput {
            name: Some("lambda".into()),
            authorizer_type: Some("REQUEST".into()),
            authorizer_uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations".into()),
            authorizer_payload_format_version: Some("2.0".into()),
            identity_source: Some(vec!["$request.header.Authorization".into()]),
            ..Default::default()
        };
        let a =
            Authorizer::create("a".into(), http.clone(), ProtocolType::Http, Profile::Aws).unwrap();
        assert_eq!(a.authorizer_result_ttl_in_seconds, Some(0));
        assert_eq!(a.enable_simple_responses, Some(false));
        let no_version = AuthorizerInput {
            authorizer_payload_format_version: None,
            ..http.clone()
        };
        for profile in [Profile::Aws, Profile::Moto] {
            let e = Authorizer::create("a".into(), no_version.clone(), ProtocolType::Http, profile)
                .unwrap_err();
            assert!(e.message.contains("AuthorizerPayloadFormatVersion"));
        }
        let ws = AuthorizerInput {
            authorizer_payload_format_version: None,
            identity_source: Some(vec!["route.request.header.Auth".into()]),
            ..http.clone()
        };
        assert!(Authorizer::create(
            "a".into(),
            ws.clone(),
            ProtocolType::WebSocket,
            Profile::Aws
        )
        .is_ok());
        assert!(
            Authorizer::create("a".into(), http, ProtocolType::WebSocket, Profile::Aws).is_err()
        );
        let bare = AuthorizerInput {
            name: Some("x".into()),
            authorizer_type: Some("REQUEST".into()),
            ..Default::default()
        };
        assert!(Authorizer::create(
            "a".into(),
            bare.clone(),
            ProtocolType::WebSocket,
            Profile::Aws
        )
        .is_err());
        assert!(
            Authorizer::create("a".into(), bare, ProtocolType::WebSocket, Profile::Moto).is_ok()
        );
    }
}
