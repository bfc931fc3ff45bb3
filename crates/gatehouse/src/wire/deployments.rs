//! The `Deployment` shapes: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html>.

use gatehouse_core::model::deployment::{Deployment, DeploymentStatus};
use gatehouse_core::model::time::rfc3339;
use serde::{Deserialize, Serialize};

use super::ToWire;

/// The members CreateDeployment and UpdateDeployment accept.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInput {
    /// `description`.
    pub description: Option<String>,
    /// `stageName` (CreateDeployment only).
    pub stage_name: Option<String>,
}

/// The `Deployment` shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOut<'a> {
    auto_deployed: bool,
    created_date: String,
    deployment_id: &'a str,
    deployment_status: DeploymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_status_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl<'a> DeploymentOut<'a> {
    /// The wire form of `d`.
    pub fn new(d: &'a Deployment) -> Self {
        DeploymentOut {
            auto_deployed: d.auto_deployed,
            created_date: rfc3339(d.created),
            deployment_id: &d.deployment_id,
            deployment_status: d.deployment_status,
            deployment_status_message: d.deployment_status_message.as_deref(),
            description: d.description.as_deref(),
        }
    }
}

impl ToWire for Deployment {
    type Out<'a> = DeploymentOut<'a>;
    fn to_wire(&self) -> DeploymentOut<'_> {
        DeploymentOut::new(self)
    }
}
