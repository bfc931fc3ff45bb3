//! An API with everything under it, as one unit of change. Every write under an API runs as
//! a function on an [`ApiTree`] inside one store transaction, so cross-resource rules (stage
//! quota, unique names and route keys, targets that exist, deployments in use, auto-deploy)
//! hold atomically, on every backend.

use super::deployment::{
    deployed_message, Deployment, DeploymentStatus, Snapshot, AUTO_DEPLOY_DESCRIPTION,
    NO_ROUTES_HTTP, NO_ROUTES_WEBSOCKET,
};
use super::ids;
use super::integration::Integration;
use super::route::Route;
use super::{Api, ProtocolType, Stage};
use crate::error::{ApiError, ApiResult};

/// An API and its stages, routes, integrations and deployment metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTree {
    /// The API.
    pub api: Api,
    /// Its stages, in creation order.
    pub stages: Vec<Stage>,
    /// Its routes, in creation order.
    pub routes: Vec<Route>,
    /// Its integrations, in creation order.
    pub integrations: Vec<Integration>,
    /// Its deployments' metadata, in creation order.
    pub deployments: Vec<Deployment>,
    /// Snapshots of the deployments created by this change (stored once, never changed).
    pub new_snapshots: Vec<(String, Snapshot)>,
}

impl ApiTree {
    /// A tree holding only `api`.
    pub fn new(api: Api) -> ApiTree {
        ApiTree {
            api,
            stages: Vec::new(),
            routes: Vec::new(),
            integrations: Vec::new(),
            deployments: Vec::new(),
            new_snapshots: Vec::new(),
        }
    }

    /// The stage named `name`.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.stage_name == name)
    }

    /// The stage named `name`, mutably.
    pub fn stage_mut(&mut self, name: &str) -> Option<&mut Stage> {
        self.stages.iter_mut().find(|s| s.stage_name == name)
    }

    /// The route with id `id`.
    pub fn route_mut(&mut self, id: &str) -> Option<&mut Route> {
        self.routes.iter_mut().find(|r| r.route_id == id)
    }

    /// The integration with id `id`.
    pub fn integration(&self, id: &str) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.integration_id == id)
    }

    /// The integration with id `id`, mutably.
    pub fn integration_mut(&mut self, id: &str) -> Option<&mut Integration> {
        self.integrations
            .iter_mut()
            .find(|i| i.integration_id == id)
    }

    /// The deployment with id `id`.
    pub fn deployment_mut(&mut self, id: &str) -> Option<&mut Deployment> {
        self.deployments.iter_mut().find(|d| d.deployment_id == id)
    }

    /// Whether a deployment `id` exists.
    pub fn has_deployment(&self, id: &str) -> bool {
        self.deployments.iter().any(|d| d.deployment_id == id)
    }

    /// The API's routes and integrations as they are now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            routes: self.routes.clone(),
            integrations: self.integrations.clone(),
        }
    }

    /// Why this API cannot be deployed now, if it cannot.
    pub fn undeployable(&self) -> Option<&'static str> {
        if self.routes.is_empty() {
            Some(match self.api.protocol_type {
                ProtocolType::Http => NO_ROUTES_HTTP,
                ProtocolType::WebSocket => NO_ROUTES_WEBSOCKET,
            })
        } else {
            None
        }
    }

    fn fresh_id(&self, len: usize, taken: impl Fn(&str) -> bool) -> String {
        loop {
            let id = ids::random_id(len);
            if !taken(&id) {
                return id;
            }
        }
    }

    /// A route id not used in this API.
    pub fn fresh_route_id(&self) -> String {
        self.fresh_id(7, |id| self.routes.iter().any(|r| r.route_id == id))
    }

    /// An integration id not used in this API.
    pub fn fresh_integration_id(&self) -> String {
        self.fresh_id(7, |id| self.integration(id).is_some())
    }

    /// Records a deployment of the current routes and integrations and returns its id.
    /// Fails (changing nothing) when there is nothing to deploy.
    pub fn deploy(
        &mut self,
        description: Option<String>,
        auto_deployed: bool,
        now: i64,
    ) -> ApiResult<String> {
        if let Some(why) = self.undeployable() {
            return Err(ApiError::bad_request(why));
        }
        let id = self.fresh_id(6, |id| self.has_deployment(id));
        self.deployments.push(Deployment {
            deployment_id: id.clone(),
            created: now,
            description,
            auto_deployed,
            deployment_status: DeploymentStatus::Deployed,
            deployment_status_message: None,
        });
        self.new_snapshots.push((id.clone(), self.snapshot()));
        Ok(id)
    }

    /// Deploys stage `name` automatically. With `report_failure`, a failure is written to the
    /// stage's `lastDeploymentStatusMessage` as AWS does; without it (a stage that just turned
    /// auto-deploy on with nothing to deploy) the stage is left as it is.
    pub fn auto_deploy_stage(&mut self, name: &str, now: i64, report_failure: bool) {
        let outcome = self.deploy(Some(AUTO_DEPLOY_DESCRIPTION.to_string()), true, now);
        let Some(stage) = self.stage_mut(name) else {
            return;
        };
        match outcome {
            Ok(id) => {
                stage.last_deployment_status_message = Some(deployed_message(&id));
                stage.deployment_id = Some(id);
                stage.last_updated = now.max(stage.created);
            }
            Err(e) if report_failure => {
                stage.last_deployment_status_message =
                    Some(format!("Deployment attempt failed: {}", e.message));
                stage.last_updated = now.max(stage.created);
            }
            Err(_) => {}
        }
    }

    /// After a change to the API's routes, integrations or settings: redeploys every
    /// auto-deploy stage, synchronously.
    pub fn redeploy_auto_stages(&mut self, now: i64) {
        let names: Vec<String> = self
            .stages
            .iter()
            .filter(|s| s.auto_deploy)
            .map(|s| s.stage_name.clone())
            .collect();
        for name in names {
            self.auto_deploy_stage(&name, now, true);
        }
    }

    /// Refuses to remove integration `id` while a route targets it.
    pub fn check_integration_unused(&self, id: &str) -> ApiResult<()> {
        let target = format!("integrations/{id}");
        if let Some(r) = self
            .routes
            .iter()
            .find(|r| r.target.as_deref() == Some(target.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "Integration {id} cannot be deleted because route {} ({}) targets it",
                r.route_id, r.route_key
            )));
        }
        Ok(())
    }

    /// Checks that a route target names an integration of this API.
    pub fn check_target(&self, target: Option<&str>) -> ApiResult<()> {
        if let Some(t) = target {
            let id = super::route::target_integration(t)?;
            if self.integration(id).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid integration identifier specified in target {t}: the integration does not exist in this API"
                )));
            }
        }
        Ok(())
    }

    /// Rules across records that a stored tree must satisfy (state-file checks): route keys
    /// unique, stages pointing at deployments that exist.
    pub fn check_rules(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for r in &self.routes {
            if !keys.insert(r.route_key.as_str()) {
                return Err(format!("route key {:?} appears twice", r.route_key));
            }
        }
        for s in &self.stages {
            if let Some(d) = &s.deployment_id {
                if !self.has_deployment(d) {
                    return Err(format!(
                        "stage {:?} points at deployment {d:?}, which is not in the file",
                        s.stage_name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Refuses a route key already used by another route.
    pub fn check_route_key_free(&self, key: &str, except: Option<&str>) -> ApiResult<()> {
        if self
            .routes
            .iter()
            .any(|r| r.route_key == key && Some(r.route_id.as_str()) != except)
        {
            return Err(ApiError::conflict(format!(
                "Route with key {key} already exists for this API"
            )));
        }
        Ok(())
    }
}
