//! Deployments: frozen snapshots of an API's routes and integrations, and auto-deploy:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html>.

use serde::{Deserialize, Serialize};

use super::api::Cors;
use super::authorizer::Authorizer;
use super::integration::Integration;
use super::responses::RouteResponse;
use super::route::Route;

/// `DeploymentStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentStatus {
    /// `PENDING`.
    #[serde(rename = "PENDING")]
    Pending,
    /// `FAILED`.
    #[serde(rename = "FAILED")]
    Failed,
    /// `DEPLOYED`.
    #[serde(rename = "DEPLOYED")]
    Deployed,
}

/// A deployment's metadata as stored (its snapshot is stored beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// 6 lowercase letters and digits.
    pub deployment_id: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Created by auto-deploy.
    pub auto_deployed: bool,
    /// `deploymentStatus`.
    pub deployment_status: DeploymentStatus,
    /// `deploymentStatusMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status_message: Option<String>,
}

/// What a deployment froze: the API's routes, integrations and authorizers (and its CORS
/// configuration) at that moment. Whatever serves a stage's traffic reads only this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The routes.
    pub routes: Vec<Route>,
    /// The integrations.
    pub integrations: Vec<Integration>,
    /// The authorizers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorizers: Vec<Authorizer>,
    /// The API's `corsConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
    /// The route responses (WebSocket APIs: a route with one answers its sender).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_responses: Vec<RouteResponse>,
}

/// The description AWS gives automatic deployments.
pub const AUTO_DEPLOY_DESCRIPTION: &str =
    "Automatic deployment triggered by changes to the Api configuration";

/// `lastDeploymentStatusMessage` after a successful auto-deploy.
pub fn deployed_message(deployment_id: &str) -> String {
    format!("Successfully deployed stage with deployment ID '{deployment_id}'")
}

/// Why an HTTP API with no routes cannot be deployed.
pub const NO_ROUTES_HTTP: &str = "Unable to deploy API because no routes exist in this API";
/// Why a WebSocket API with no routes cannot be deployed.
pub const NO_ROUTES_WEBSOCKET: &str = "At least one route is required before deploying the Api";
