//! The `VpcLink` shape: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks-vpclinkid.html>.

use std::collections::BTreeMap;

use gatehouse_core::model::time::rfc3339;
use gatehouse_core::model::vpc_link::{VpcLink, VpcLinkStatus, PENDING_MESSAGE};
use serde::Serialize;

use super::ToWire;

/// The `VpcLink` shape (CreateVpcLink, GetVpcLink, UpdateVpcLink, GetVpcLinks items); every
/// member is always present, `tags` as `{}` when there are none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLinkOut<'a> {
    created_date: String,
    name: &'a str,
    security_group_ids: &'a [String],
    subnet_ids: &'a [String],
    tags: &'a BTreeMap<String, String>,
    vpc_link_id: &'a str,
    vpc_link_status: VpcLinkStatus,
    vpc_link_status_message: &'a str,
    vpc_link_version: &'static str,
}

impl<'a> VpcLinkOut<'a> {
    /// The wire form of `link`.
    pub fn new(link: &'a VpcLink) -> Self {
        VpcLinkOut {
            created_date: rfc3339(link.created),
            name: &link.name,
            security_group_ids: &link.security_group_ids,
            subnet_ids: &link.subnet_ids,
            tags: &link.tags,
            vpc_link_id: &link.vpc_link_id,
            vpc_link_status: link.vpc_link_status,
            vpc_link_status_message: &link.vpc_link_status_message,
            vpc_link_version: "V2",
        }
    }

    /// CreateVpcLink's answer: the link as it is while AWS provisions its network
    /// interfaces (`PENDING`).
    pub fn just_created(link: &'a VpcLink) -> Self {
        VpcLinkOut {
            vpc_link_status: VpcLinkStatus::Pending,
            vpc_link_status_message: PENDING_MESSAGE,
            ..Self::new(link)
        }
    }
}

impl ToWire for VpcLink {
    type Out<'a> = VpcLinkOut<'a>;
    fn to_wire(&self) -> VpcLinkOut<'_> {
        VpcLinkOut::new(self)
    }
}
