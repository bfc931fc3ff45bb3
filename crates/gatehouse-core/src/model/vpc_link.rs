//! VPC links: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html>.
//!
//! A VPC link is a root of its own (not under an API). gatehouse has no VPC to provision
//! network interfaces in: CreateVpcLink answers `PENDING` ("VPC link is provisioning
//! ENIs") as AWS does, and the link is `AVAILABLE` from the next read on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tags;
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// `VpcLinkStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VpcLinkStatus {
    /// `PENDING`.
    Pending,
    /// `AVAILABLE`.
    Available,
    /// `DELETING`.
    Deleting,
    /// `FAILED`.
    Failed,
    /// `INACTIVE`.
    Inactive,
}

/// The status message of an available VPC link, as AWS words it.
pub const AVAILABLE_MESSAGE: &str = "VPC link is ready to route traffic";
/// The status message of a VPC link being created, as AWS words it.
pub const PENDING_MESSAGE: &str = "VPC link is provisioning ENIs";

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
    /// `securityGroupIds`.
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// `subnetIds`.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// `tags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `vpcLinkStatus`.
    #[serde(default = "available")]
    pub vpc_link_status: VpcLinkStatus,
    /// `vpcLinkStatusMessage`.
    #[serde(default = "available_message")]
    pub vpc_link_status_message: String,
}

fn available() -> VpcLinkStatus {
    VpcLinkStatus::Available
}

fn available_message() -> String {
    AVAILABLE_MESSAGE.into()
}

/// The members CreateVpcLink and UpdateVpcLink accept.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkInput {
    /// `name`.
    pub name: Option<String>,
    /// `securityGroupIds` (CreateVpcLink only).
    pub security_group_ids: Option<Vec<String>>,
    /// `subnetIds` (CreateVpcLink only).
    pub subnet_ids: Option<Vec<String>>,
    /// `tags` (CreateVpcLink only).
    pub tags: Option<BTreeMap<String, String>>,
}

/// Whether `id` looks like an EC2 id with `prefix` (`subnet-0a1b2c3d`).
fn is_ec2_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 32
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn check_ids(ids: &[String], member: &str, prefix: &str, what: &str) -> ApiResult<()> {
    match ids.iter().find(|id| !is_ec2_id(id, prefix)) {
        Some(bad) => Err(ApiError::bad_request(format!(
            "Invalid {member}: {bad:?} is not {what} id ({prefix}…)"
        ))),
        None => Ok(()),
    }
}

fn check_name(name: &str) -> ApiResult<()> {
    let n = name.chars().count();
    if (1..=128).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Invalid VPC link name: must be between 1 and 128 characters",
        ))
    }
}

impl VpcLink {
    /// A new VPC link from CreateVpcLink's input.
    pub fn create(
        vpc_link_id: String,
        input: VpcLinkInput,
        now: i64,
        profile: Profile,
    ) -> ApiResult<VpcLink> {
        let name = input
            .name
            .ok_or_else(|| ApiError::bad_request("Invalid input: name is required"))?;
        check_name(&name)?;
        let subnet_ids = input
            .subnet_ids
            .ok_or_else(|| ApiError::bad_request("Invalid input: subnetIds is required"))?;
        let strict = profile.enforces(Rule::VpcLinkIdForm);
        if subnet_ids.is_empty() && strict {
            return Err(ApiError::bad_request(
                "Invalid subnetIds: at least one subnet id is required",
            ));
        }
        let security_group_ids = input.security_group_ids.unwrap_or_default();
        if strict {
            check_ids(&subnet_ids, "subnetIds", "subnet-", "a subnet")?;
            check_ids(
                &security_group_ids,
                "securityGroupIds",
                "sg-",
                "a security group",
            )?;
        }
        let tags = input.tags.unwrap_or_default();
        tags::validate(&tags)?;
        Ok(VpcLink {
            vpc_link_id,
            name,
            created: now,
            security_group_ids,
            subnet_ids,
            tags,
            vpc_link_status: VpcLinkStatus::Available,
            vpc_link_status_message: AVAILABLE_MESSAGE.into(),
        })
    }

    /// Applies UpdateVpcLink's input (only the name changes; AWS does not let a VPC link's
    /// subnets or security groups change).
    pub fn apply(&mut self, input: VpcLinkInput) -> ApiResult<()> {
        if let Some(name) = input.name {
            check_name(&name)?;
            self.name = name;
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(subnets: &[&str], groups: &[&str]) -> VpcLinkInput {
        VpcLinkInput {
            name: Some("link".into()),
            subnet_ids: Some(subnets.iter().map(|s| s.to_string()).collect()),
            security_group_ids: Some(groups.iter().map(|s| s.to_string()).collect()),
            tags: None,
        }
    }

    #[test]
    fn ids_must_look_like_ec2_ids() {
        let ok = VpcLink::create(
            "abc123".into(),
            input(
                &["subnet-0a1b2c3d", "subnet-0123456789abcdef0"],
                &["sg-1234abcd"],
            ),
            1,
            Profile::Aws,
        )
        .unwrap();
        assert_eq!(ok.vpc_link_status, VpcLinkStatus::Available);
        for (subnets, groups, says) in [
            (&["sid1"][..], &[][..], "subnetIds"),
            (&["subnet-"][..], &[][..], "subnetIds"),
            (&[][..], &[][..], "at least one"),
            (
                &["subnet-0a1b2c3d"][..],
                &["subnet-0a1b2c3d"][..],
                "securityGroupIds",
            ),
            (&["subnet-0A1B"][..], &[][..], "subnetIds"),
        ] {
            let err =
                VpcLink::create("x".into(), input(subnets, groups), 1, Profile::Aws).unwrap_err();
            assert!(
                err.message.contains(says),
                "{subnets:?} {groups:?}: {}",
                err.message
            );
        }
    }
}
