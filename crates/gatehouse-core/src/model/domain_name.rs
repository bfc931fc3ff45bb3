//! Custom domain names and their API mappings, as stored:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html>.
//!
//! A domain name is a root of its own (not under an API): it and its API mappings change in
//! one transaction. The records hold what the store needs today; the operations that create
//! and serve them add their members.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A custom domain name as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainName {
    /// The name itself (`api.example.com`): its key.
    pub domain_name: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// `tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
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

/// A domain name with its API mappings: one unit of change.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainNameTree {
    /// The domain name.
    pub domain: DomainName,
    /// Its API mappings, in creation order.
    pub api_mappings: Vec<ApiMapping>,
}

impl DomainNameTree {
    /// Rules across records (state-file checks): one mapping per key.
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
        Ok(())
    }
}
