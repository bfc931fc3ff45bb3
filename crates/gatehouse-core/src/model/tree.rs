//! An API with everything under it, as one unit of change. Every write under an API runs as
//! a function on an [`ApiTree`] inside one store transaction, so cross-resource rules (stage
//! quota, unique names and route keys, targets that exist, deployments in use, auto-deploy)
//! hold atomically, on every backend.

use super::api_model::Model;
use super::authorizer::Authorizer;
use super::deployment::{
    deployed_message, Deployment, DeploymentStatus, Snapshot, AUTO_DEPLOY_DESCRIPTION,
    NO_ROUTES_HTTP, NO_ROUTES_WEBSOCKET,
};
use super::ids;
use super::integration::Integration;
use super::responses::{IntegrationResponse, RouteResponse};
use super::route::AuthorizationType;
use super::route::Route;
use super::{Api, ProtocolType, Stage};
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// A per-API quota AWS enforces, with its default
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html>;
/// the stage quota is a setting, `--max-stages-per-api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Routes per API: 300.
    Routes,
    /// Integrations per API: 300.
    Integrations,
    /// Authorizers per API: 10.
    Authorizers,
}

impl Quota {
    /// The limit, and the plural AWS names the records by in its refusal.
    const fn limit(self) -> (usize, &'static str) {
        match self {
            Quota::Routes => (300, "Routes"),
            Quota::Integrations => (300, "Integrations"),
            Quota::Authorizers => (10, "Authorizers"),
        }
    }
}

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
    /// Its authorizers, in creation order.
    pub authorizers: Vec<Authorizer>,
    /// Its models, in creation order.
    pub models: Vec<Model>,
    /// Its routes' responses, in creation order.
    pub route_responses: Vec<RouteResponse>,
    /// Its integrations' responses, in creation order.
    pub integration_responses: Vec<IntegrationResponse>,
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
            authorizers: Vec::new(),
            models: Vec::new(),
            route_responses: Vec::new(),
            integration_responses: Vec::new(),
            new_snapshots: Vec::new(),
        }
    }

    /// Refuses one more record of `quota`'s kind when the API has as many as AWS allows:
    /// 429 ConflictException `Maximum number of Routes for this API has been reached. …`.
    pub fn check_room(&self, quota: Quota) -> ApiResult<()> {
        let have = match quota {
            Quota::Routes => self.routes.len(),
            Quota::Integrations => self.integrations.len(),
            Quota::Authorizers => self.authorizers.len(),
        };
        let (limit, what) = quota.limit();
        if have >= limit {
            return Err(ApiError::quota(what));
        }
        Ok(())
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
            authorizers: self.authorizers.clone(),
            cors_configuration: self.api.cors_configuration.clone(),
            route_responses: self.route_responses.clone(),
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

    /// An authorizer id not used in this API (6 characters, as AWS issues them).
    pub fn fresh_authorizer_id(&self) -> String {
        self.fresh_id(6, |id| {
            self.authorizers.iter().any(|a| a.authorizer_id == id)
        })
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

    /// Refuses to remove integration `id` while routes target it (409, AWS's text naming
    /// the routes' ids).
    pub fn check_integration_unused(&self, id: &str) -> ApiResult<()> {
        let target = format!("integrations/{id}");
        let users: Vec<&str> = self
            .routes
            .iter()
            .filter(|r| r.target.as_deref() == Some(target.as_str()))
            .map(|r| r.route_id.as_str())
            .collect();
        if users.is_empty() {
            return Ok(());
        }
        Err(ApiError::conflict(format!(
            "Cannot delete Integration because it is referenced by the following Routes with Ids: [{}]",
            users.join(", ")
        )))
    }

    /// Settles route `id`'s authorizer after a change: dropped where its authorization type
    /// uses none, else checked to exist and be of the type its authorization type needs, in
    /// AWS's words.
    pub fn settle_route_authorizer(&mut self, id: &str, profile: Profile) -> ApiResult<()> {
        if let Some(route) = self.route_mut(id) {
            route.forget_unused_authorizer(profile);
        }
        if !profile.enforces(Rule::RouteAuthorizerExists) {
            return Ok(());
        }
        let Some(route) = self.routes.iter().find(|r| r.route_id == id) else {
            return Ok(());
        };
        let Some(why) = route.authorization_type.needs_authorizer() else {
            return Ok(());
        };
        let found = route
            .authorizer_id
            .as_deref()
            .and_then(|a| self.authorizers.iter().find(|x| x.authorizer_id == a));
        match found {
            Some(a) if AuthorizationType::accepts(route.authorization_type, a.authorizer_type) => {
                Ok(())
            }
            _ => Err(ApiError::bad_request(why)),
        }
    }

    /// Checks that a route target names an integration of this API.
    pub fn check_target(&self, target: Option<&str>, profile: Profile) -> ApiResult<()> {
        if !profile.enforces(Rule::RouteTargetExists) {
            return Ok(());
        }
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
        if self.api.protocol_type == ProtocolType::Http {
            if let Some(other) = self.routes.iter().find(|r| {
                Some(r.route_id.as_str()) != except
                    && super::route::conflicting_variables(key, &r.route_key)
            }) {
                return Err(ApiError::conflict(format!(
                    "The provided route key \"{key}\" has a conflicting variable on the same hierarchical level as \"{}\"",
                    other.route_key
                )));
            }
        }
        Ok(())
    }
}
