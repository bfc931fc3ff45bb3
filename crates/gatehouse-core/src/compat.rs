//! Compatibility profiles: what gatehouse checks and how it words its answers.
//!
//! The default profile is AWS's. The `moto` profile (`--compat moto`) accepts what moto's
//! server mode accepts where AWS is stricter and answers with moto's texts, so suites written
//! against moto run unchanged. Every difference between the two is one [`Rule`] below (and
//! one row of the table in `docs/fidelity.md`); code asks [`Profile::enforces`] at the place
//! the rule applies and nowhere else decides by profile.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// A compatibility profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Profile {
    /// AWS's rules and texts (the default).
    #[default]
    Aws,
    /// moto 5's rules and texts where they differ from AWS's.
    Moto,
}

/// Defines [`Rule`] and [`RULES`] from one table: each rule AWS enforces and moto does not.
macro_rules! rules {
    ($($rule:ident => $aws:literal, $moto:literal;)*) => {
        /// A rule AWS enforces that the moto profile does not (or words differently).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(#[doc = $aws] $rule,)*
        }

        /// Every rule with what AWS does and what moto does instead.
        pub const RULES: &[(Rule, &str, &str)] = &[$((Rule::$rule, $aws, $moto),)*];
    };
}

rules! {
    NotFoundNamesAccount =>
        "NotFound texts name the record as ACCOUNT:API:ID (`Invalid Route identifier specified 123456789012:a1b2c3:r1s2t3u`)",
        "names the bare id (`Invalid Route identifier specified r1s2t3u`)";
    EmptyApiIdIsUnknownPath =>
        "GetApi with an empty apiId (`GET /v2/apis/`) matches no operation: 404",
        "answers 200 with an empty object";
    WebSocketNeedsSelectionExpression =>
        "a WebSocket API needs a routeSelectionExpression",
        "accepts a WebSocket API without one";
    SelectionExpressions =>
        "an HTTP API's routeSelectionExpression is `$request.method $request.path`; apiKeySelectionExpression is `$request.header.x-api-key` or `$context.authorizer.usageIdentifierKey`",
        "stores any selection expression";
    WebSocketEndpointScheme =>
        "a WebSocket API's apiEndpoint is `wss://{apiId}.execute-api.{region}.amazonaws.com`",
        "`https://…` for every protocol";
    VpcLinkProvisioning =>
        "CreateVpcLink answers PENDING (`VPC link is provisioning ENIs`); reads after it AVAILABLE",
        "AVAILABLE at once";
    HttpProxyIntegrationsOnly =>
        "an HTTP API takes only AWS_PROXY and HTTP_PROXY integrations",
        "accepts any integration type on HTTP APIs";
    IntegrationShape =>
        "integrations need the members their type requires (integrationUri, payloadFormatVersion, integrationMethod) and valid ones",
        "accepts an integration with any members";
    StageSettingsPerProtocol =>
        "execution-log and data-trace settings, client certificates and route-settings keys are checked against the API's protocol and routes",
        "stores stage settings as given";
    AuthorizerShape =>
        "authorizers need the members their type and protocol require (authorizerUri, jwtConfiguration, identitySource of the protocol's form, payload format 1.0 or 2.0)",
        "accepts an authorizer with any members (but still asks HTTP REQUEST authorizers for a payload format version)";
    RouteTargetExists =>
        "a route target is `integrations/{id}` naming an integration of the API",
        "stores any target";
    RouteAuthorizerExists =>
        "a route's authorizerId must name an authorizer of the API matching its authorizationType",
        "stores any authorizerId";
    RouteAuthorizerFollowsType =>
        "UpdateRoute's authorizerId needs an authorizationType in the same request; a NONE or AWS_IAM route keeps no authorizerId",
        "stores an authorizerId whatever the authorization type";
    VpcLinkIdForm =>
        "VPC link subnet and security-group ids must look like EC2 ids (subnet-…, sg-…)",
        "accepts any strings";
    ModelSchemaDraft4 =>
        "a model's schema must be a JSON Schema draft 4 document",
        "stores any schema text";
    WebSocketOnlyResources =>
        "models, route responses and integration responses exist only on WebSocket APIs",
        "accepts them on HTTP APIs too";
    RouteResponseKeyForm =>
        "route response keys are $default or a custom key, as route keys",
        "accepts any key";
    ApiMemberLengths =>
        "an API's version is 1 to 64 characters",
        "accepts an empty version";
    QuickCreateMembersNeedQuickCreate =>
        "UpdateApi's target, routeKey and credentialsArn are refused on an API not made by quick create",
        "ignores them";
    ImportShape =>
        "imported routes carry only the members the definition gives",
        "imported routes show empty authorizationScopes and requestParameters";
    ApiMappingTexts =>
        "CreateApiMapping for a missing API answers `Invalid API identifier specified ACCOUNT:ID`",
        "answers `Invalid API identifier specified The resource specified in the request was not found.`";
    DomainNameConfigurations =>
        "a domain name needs one domainNameConfiguration with a certificate ARN",
        "accepts a domain name without configurations";
    ApiMappingStageExists =>
        "an API mapping's stage must exist on the API (`Invalid stage identifier specified`)",
        "accepts any stage name";
}

/// A resource family that exists only on WebSocket APIs, refused on HTTP APIs in AWS's
/// profile with this text.
pub fn websocket_only(profile: Profile, is_websocket: bool, what: &str) -> Result<(), String> {
    if is_websocket || !profile.enforces(Rule::WebSocketOnlyResources) {
        Ok(())
    } else {
        Err(format!("{what} are supported only for WebSocket APIs."))
    }
}

/// moto's not-found text for a kind whose text is not moto's usual
/// `Invalid {noun} identifier specified {id}`.
pub fn moto_not_found(kind_name: &str) -> Option<&'static str> {
    match kind_name {
        "domainname" => Some("The domain name resource specified in the request was not found."),
        "apimapping" => Some("The api mapping resource specified in the request was not found."),
        _ => None,
    }
}

impl Profile {
    /// Whether this profile enforces `rule`.
    pub fn enforces(self, _rule: Rule) -> bool {
        self == Profile::Aws
    }

    /// Its name in settings.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Aws => "aws",
            Profile::Moto => "moto",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        match s {
            "aws" => Ok(Profile::Aws),
            "moto" => Ok(Profile::Moto),
            other => Err(format!("unknown profile {other:?}: expected aws or moto")),
        }
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_differ_only_by_the_table() {
        assert_eq!("moto".parse::<Profile>().unwrap(), Profile::Moto);
        assert!("localstack".parse::<Profile>().is_err());
        for (rule, aws, moto) in RULES {
            assert!(Profile::Aws.enforces(*rule));
            assert!(!Profile::Moto.enforces(*rule));
            assert!(!aws.is_empty() && !moto.is_empty());
        }
    }

    #[test]
    fn every_rule_is_a_row_of_the_fidelity_table() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/fidelity.md"),
        )
        .unwrap();
        let table = doc
            .split("## Compatibility profiles")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/fidelity.md has the profiles section");
        for (rule, _, _) in RULES {
            assert!(
                table.contains(&format!("| `{rule:?}` |")),
                "docs/fidelity.md's profile table has no row for {rule:?}"
            );
        }
    }
}
