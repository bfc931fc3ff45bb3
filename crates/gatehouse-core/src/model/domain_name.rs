//! Custom domain names, their API mappings and routing rules:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html>.
//!
//! A domain name is a root of its own (not under an API): it, its API mappings and its
//! routing rules change in one transaction. gatehouse has no DNS or certificates to
//! provision: a domain name is `AVAILABLE` at once, with the `apiGatewayDomainName` and
//! Route 53 `hostedZoneId` AWS would give it in its region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::routing_rule::RoutingRule;
use super::{ids, tags};
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// `DomainNameConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameConfiguration {
    /// `apiGatewayDomainName`: `d-{10}.execute-api.{region}.amazonaws.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_gateway_domain_name: Option<String>,
    /// `certificateArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_arn: Option<String>,
    /// `certificateName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    /// `domainNameStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status: Option<String>,
    /// `domainNameStatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name_status_message: Option<String>,
    /// `endpointType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<String>,
    /// `hostedZoneId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
    /// `ipAddressType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
    /// `securityPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
    /// `ownershipVerificationCertificateArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_verification_certificate_arn: Option<String>,
}

/// `MutualTlsAuthentication`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MutualTlsAuthentication {
    /// `truststoreUri`: `s3://bucket/key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_uri: Option<String>,
    /// `truststoreVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truststore_version: Option<String>,
}

/// A custom domain name as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    /// The name itself (`api.example.com`): its key.
    pub domain_name: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// `apiMappingSelectionExpression` (always `$request.basepath`).
    #[serde(default = "basepath")]
    pub api_mapping_selection_expression: String,
    /// `domainNameArn`.
    #[serde(default)]
    pub domain_name_arn: String,
    /// `domainNameConfigurations`.
    #[serde(default)]
    pub domain_name_configurations: Vec<DomainNameConfiguration>,
    /// `mutualTlsAuthentication`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    /// `routingMode`.
    #[serde(default = "api_mapping_only")]
    pub routing_mode: String,
    /// `tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn basepath() -> String {
    "$request.basepath".into()
}

fn api_mapping_only() -> String {
    "API_MAPPING_ONLY".into()
}

/// The members CreateDomainName and UpdateDomainName accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainNameInput {
    /// `domainName` (CreateDomainName only).
    pub domain_name: Option<String>,
    /// `domainNameConfigurations`.
    pub domain_name_configurations: Option<Vec<DomainNameConfiguration>>,
    /// `mutualTlsAuthentication`.
    pub mutual_tls_authentication: Option<MutualTlsAuthentication>,
    /// `routingMode`.
    pub routing_mode: Option<String>,
    /// `tags` (CreateDomainName only).
    pub tags: Option<BTreeMap<String, String>>,
}

/// The Route 53 hosted zone of API Gateway's regional endpoints, per region
/// (<https://docs.aws.amazon.com/general/latest/gr/apigateway.html>).
const HOSTED_ZONES: &[(&str, &str)] = &[
    ("us-east-1", "Z1UJRXOUMOOFQ8"),
    ("us-east-2", "ZOJJZC49E0EPZ"),
    ("us-west-1", "Z2MUQ32089INYE"),
    ("us-west-2", "Z2OJLYMUO9EFXC"),
    ("ap-south-1", "Z3VO1THU9YC4UR"),
    ("ap-northeast-1", "Z1YSHQZHG15GKL"),
    ("ap-northeast-2", "Z20JF4UZKIW1U8"),
    ("ap-northeast-3", "Z2YQB5RD63NC85"),
    ("ap-southeast-1", "ZL327KTPIQFUL"),
    ("ap-southeast-2", "Z2RPCDW04V8134"),
    ("ca-central-1", "Z19DQILCV0OWEC"),
    ("eu-central-1", "Z1U9ULNL0V5AJ3"),
    ("eu-west-1", "ZLY8HYME6SFDD"),
    ("eu-west-2", "ZJ5UAJN8Y3Z2Q"),
    ("eu-west-3", "Z3KY65QIEKYHQQ"),
    ("eu-north-1", "Z3UWIKFBOOGXPP"),
    ("sa-east-1", "ZCMLWB8V5SYIT"),
];

/// The hosted zone id of API Gateway's regional endpoints in `region` (us-east-1's for a
/// region the table does not know).
pub fn hosted_zone_id(region: &str) -> &'static str {
    HOSTED_ZONES
        .iter()
        .find(|(r, _)| *r == region)
        .map_or(HOSTED_ZONES[0].1, |(_, z)| z)
}

/// AWS's answer to an EDGE configuration on the V2 API.
pub const EDGE_REFUSED: &str = "Only REGIONAL domain names can be managed through the API Gateway V2 API. For EDGE domain names, please use the API Gateway V1 API. Also note that only REST APIs can be attached to EDGE domain names.";

/// The text for a domain name that exists already.
pub const DOMAIN_EXISTS: &str = "The domain name resource already exists.";

fn check_domain(name: &str) -> ApiResult<()> {
    let labels_ok = name.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
    });
    if name.is_empty() || name.len() > 253 || !labels_ok {
        return Err(ApiError::bad_request(format!(
            "Invalid domain name: {name}"
        )));
    }
    Ok(())
}

fn fill_configuration(
    c: &mut DomainNameConfiguration,
    region: &str,
    profile: Profile,
) -> ApiResult<()> {
    let endpoint = c.endpoint_type.get_or_insert_with(|| "REGIONAL".into());
    match endpoint.as_str() {
        "REGIONAL" => {}
        "EDGE" => return Err(ApiError::bad_request(EDGE_REFUSED)),
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid endpoint type specified: {other}. Must be one of [REGIONAL, EDGE]"
            )))
        }
    }
    if profile.enforces(Rule::DomainNameConfigurations)
        && c.certificate_arn
            .as_deref()
            .is_none_or(|a| !a.starts_with("arn:"))
    {
        return Err(ApiError::bad_request(
            "A certificate ARN is required for a REGIONAL domain name: domainNameConfigurations[0].certificateArn",
        ));
    }
    let policy = c.security_policy.get_or_insert_with(|| "TLS_1_2".into());
    if !matches!(policy.as_str(), "TLS_1_0" | "TLS_1_2") {
        return Err(ApiError::bad_request(format!(
            "Invalid security policy specified: {policy}. Must be one of [TLS_1_0, TLS_1_2]"
        )));
    }
    let ip = c.ip_address_type.get_or_insert_with(|| "ipv4".into());
    if !matches!(ip.as_str(), "ipv4" | "dualstack") {
        return Err(ApiError::bad_request(format!(
            "Invalid IP address type specified: {ip}. Must be one of [ipv4, dualstack]"
        )));
    }
    if c.api_gateway_domain_name.is_none() {
        c.api_gateway_domain_name = Some(format!(
            "d-{}.execute-api.{region}.amazonaws.com",
            ids::random_id(10)
        ));
    }
    c.hosted_zone_id = Some(hosted_zone_id(region).into());
    c.domain_name_status = Some("AVAILABLE".into());
    c.domain_name_status_message = None;
    Ok(())
}

fn check_mtls(m: &MutualTlsAuthentication) -> ApiResult<()> {
    match m.truststore_uri.as_deref() {
        Some(uri) if uri.strip_prefix("s3://").is_some_and(|r| r.contains('/')) => Ok(()),
        Some(uri) => Err(ApiError::bad_request(format!(
            "Invalid truststore URI: {uri}. The truststore must be an S3 URI (s3://bucket-name/key-name)"
        ))),
        None => Err(ApiError::bad_request(
            "TruststoreUri is a required parameter for mutual TLS authentication",
        )),
    }
}

fn check_routing_mode(mode: &str) -> ApiResult<()> {
    if matches!(
        mode,
        "API_MAPPING_ONLY" | "ROUTING_RULE_ONLY" | "ROUTING_RULE_THEN_API_MAPPING"
    ) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid routing mode specified: {mode}. Must be one of [API_MAPPING_ONLY, ROUTING_RULE_ONLY, ROUTING_RULE_THEN_API_MAPPING]"
        )))
    }
}

impl DomainName {
    /// A new domain name from CreateDomainName's input, in `region`.
    pub fn create(
        input: DomainNameInput,
        region: &str,
        now: i64,
        profile: Profile,
    ) -> ApiResult<DomainName> {
        let name = input
            .domain_name
            .clone()
            .ok_or_else(|| ApiError::bad_request("DomainName is a required parameter"))?;
        check_domain(&name)?;
        let configurations = input.domain_name_configurations.clone().unwrap_or_default();
        if profile.enforces(Rule::DomainNameConfigurations) && configurations.len() != 1 {
            return Err(ApiError::bad_request(
                "Exactly one domainNameConfiguration is required for a REGIONAL domain name",
            ));
        }
        let tags = input.tags.clone().unwrap_or_default();
        tags::validate(&tags)?;
        let mut domain = DomainName {
            domain_name_arn: format!("arn:aws:apigateway:{region}::/domainnames/{name}"),
            domain_name: name,
            created: now,
            api_mapping_selection_expression: basepath(),
            domain_name_configurations: Vec::new(),
            // moto shows an empty mutualTlsAuthentication on every domain name.
            mutual_tls_authentication: (!profile.enforces(Rule::DomainNameConfigurations))
                .then(MutualTlsAuthentication::default),
            routing_mode: api_mapping_only(),
            tags,
        };
        domain.apply(
            DomainNameInput {
                domain_name_configurations: Some(configurations),
                ..input
            },
            region,
            profile,
        )?;
        Ok(domain)
    }

    /// Applies UpdateDomainName's input.
    pub fn apply(
        &mut self,
        input: DomainNameInput,
        region: &str,
        profile: Profile,
    ) -> ApiResult<()> {
        if let Some(mut configs) = input.domain_name_configurations {
            for (i, c) in configs.iter_mut().enumerate() {
                // Keep the generated endpoint of the configuration being replaced.
                if let Some(old) = self.domain_name_configurations.get(i) {
                    if c.api_gateway_domain_name.is_none() {
                        c.api_gateway_domain_name = old.api_gateway_domain_name.clone();
                    }
                }
                fill_configuration(c, region, profile)?;
            }
            self.domain_name_configurations = configs;
        }
        if let Some(m) = input.mutual_tls_authentication {
            if profile.enforces(Rule::DomainNameConfigurations) {
                check_mtls(&m)?;
            }
            self.mutual_tls_authentication = Some(m);
        }
        if let Some(mode) = input.routing_mode {
            check_routing_mode(&mode)?;
            self.routing_mode = mode;
        }
        Ok(())
    }
}

/// An API mapping: which API stage serves a path of the domain name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMapping {
    /// `apiMappingId`.
    pub api_mapping_id: String,
    /// `apiId`.
    pub api_id: String,
    /// `stage`.
    pub stage: String,
    /// `apiMappingKey`: the path under the domain name (empty: the root).
    #[serde(default)]
    pub api_mapping_key: String,
}

/// The members CreateApiMapping and UpdateApiMapping accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMappingInput {
    /// `apiId`.
    pub api_id: Option<String>,
    /// `apiMappingKey`.
    pub api_mapping_key: Option<String>,
    /// `stage`.
    pub stage: Option<String>,
}

/// Checks an API mapping key (AWS's texts).
pub fn check_mapping_key(key: &str) -> ApiResult<()> {
    if key.starts_with('/') || key.contains("//") {
        return Err(ApiError::bad_request(
            "API mapping key should not start with a '/' or have consecutive '/'s.",
        ));
    }
    if key.ends_with('/') {
        return Err(ApiError::bad_request(
            "API mapping key should not end with a '/'.",
        ));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'$'))
    {
        return Err(ApiError::bad_request(format!(
            "Invalid API mapping key: {key}"
        )));
    }
    Ok(())
}

/// A domain name with its API mappings and routing rules: one unit of change.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainNameTree {
    /// The domain name.
    pub domain: DomainName,
    /// Its API mappings, in creation order.
    pub api_mappings: Vec<ApiMapping>,
    /// Its routing rules, in creation order.
    pub routing_rules: Vec<RoutingRule>,
}

impl DomainNameTree {
    /// Rules across records (state-file checks): one mapping per key, one rule per priority.
    pub fn check_rules(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for m in &self.api_mappings {
            if !keys.insert(m.api_mapping_key.as_str()) {
                return Err(format!(
                    "apiMappingKey {:?} appears twice",
                    m.api_mapping_key
                ));
            }
        }
        let mut priorities = std::collections::HashSet::new();
        for r in &self.routing_rules {
            if !priorities.insert(r.priority) {
                return Err(format!(
                    "routing rule priority {} appears twice",
                    r.priority
                ));
            }
        }
        Ok(())
    }

    /// An id no mapping or rule of this domain name uses.
    pub fn fresh_id(&self) -> String {
        loop {
            let id = ids::random_id(6);
            if !self.api_mappings.iter().any(|m| m.api_mapping_id == id)
                && !self.routing_rules.iter().any(|r| r.routing_rule_id == id)
            {
                return id;
            }
        }
    }

    /// Refuses a mapping key another mapping of this domain name has.
    pub fn check_key_free(&self, key: &str, except: Option<&str>) -> ApiResult<()> {
        if self
            .api_mappings
            .iter()
            .any(|m| m.api_mapping_key == key && Some(m.api_mapping_id.as_str()) != except)
        {
            return Err(ApiError::conflict(format!(
                "ApiMapping with key '{key}' already exists for domain name {}",
                self.domain.domain_name
            )));
        }
        Ok(())
    }

    /// Refuses a priority another rule of this domain name has.
    pub fn check_priority_free(&self, priority: i32, except: Option<&str>) -> ApiResult<()> {
        if self
            .routing_rules
            .iter()
            .any(|r| r.priority == priority && Some(r.routing_rule_id.as_str()) != except)
        {
            return Err(ApiError::conflict(format!(
                "A routing rule with priority {priority} already exists for domain name {}",
                self.domain.domain_name
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(arn: Option<&str>, endpoint: Option<&str>) -> DomainNameInput {
        DomainNameInput {
            domain_name: Some("api.example.com".into()),
            domain_name_configurations: Some(vec![DomainNameConfiguration {
                certificate_arn: arn.map(String::from),
                endpoint_type: endpoint.map(String::from),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn domain_names_get_regional_endpoints() {
        let arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc";
        let d = DomainName::create(config(Some(arn), None), "eu-west-1", 1, Profile::Aws).unwrap();
        let c = &d.domain_name_configurations[0];
        assert_eq!(c.hosted_zone_id.as_deref(), Some("ZLY8HYME6SFDD"));
        assert!(c
            .api_gateway_domain_name
            .as_deref()
            .unwrap()
            .ends_with(".execute-api.eu-west-1.amazonaws.com"));
        assert_eq!(c.security_policy.as_deref(), Some("TLS_1_2"));
        assert_eq!(
            DomainName::create(
                config(Some(arn), Some("EDGE")),
                "eu-west-1",
                1,
                Profile::Aws
            )
            .unwrap_err()
            .message,
            EDGE_REFUSED
        );
        assert!(DomainName::create(config(None, None), "eu-west-1", 1, Profile::Aws).is_err());
        let bare = DomainNameInput {
            domain_name: Some("dev".into()),
            ..Default::default()
        };
        assert!(DomainName::create(bare.clone(), "us-east-1", 1, Profile::Aws).is_err());
        let m = DomainName::create(bare, "us-east-1", 1, Profile::Moto).unwrap();
        assert_eq!(m.mutual_tls_authentication, Some(Default::default()));
    }

    #[test]
    fn mapping_keys() {
        for ok in ["", "v1", "v1/api", "orders-v2"] {
            assert!(check_mapping_key(ok).is_ok(), "{ok}");
        }
        for bad in ["/api", "v1//api", "api/", "a b"] {
            assert!(check_mapping_key(bad).is_err(), "{bad}");
        }
    }
}
