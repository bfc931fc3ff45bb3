//! VPC links, as stored: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html>.
//!
//! A VPC link is a root of its own (not under an API). The record holds what the store needs
//! today; the operations that create it add their members.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A VPC link as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    /// `vpcLinkId`: its key.
    pub vpc_link_id: String,
    /// `name`.
    pub name: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// `tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A VPC link alone: one unit of change.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcLinkTree {
    /// The VPC link.
    pub vpc_link: VpcLink,
}

impl VpcLinkTree {
    /// Rules across records (state-file checks): none beyond the record's own.
    pub fn check_rules(&self) -> Result<(), String> {
        Ok(())
    }
}
