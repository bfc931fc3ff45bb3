//! What a request resolves to before routing: the API's owner (looked up once), the API and
//! the stage its first path segment selects (reused while the store reports no change, see
//! [`gatehouse_core::store::Store::changes`]), and the deployment's compiled routes (once
//! per deployment).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gatehouse_core::model::api::ProtocolType;
use gatehouse_core::model::{Api, Scope, Stage};
use gatehouse_core::store::{self, Kind, SharedStore, StoreError};
use gatehouse_http::scratch;

use super::router::Router;
use super::target::{Entry, Target};
use crate::gateway::{refuse, GatewayError, Refusal};
use crate::throttle;

/// An in-process lookup table: a fast hash (each table is bounded, and cleared when full).
pub type Table<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// (account, region, apiId, deploymentId).
type DeploymentKey = (String, String, String, String);

/// Most compiled deployments kept; when full, the cache starts over.
const ROUTER_CACHE: usize = 1024;

/// Resolves invoke requests to their API, stage and compiled deployment, and keeps what it
/// read while the store reports no change.
pub struct Resolver {
    store: SharedStore,
    routers: Mutex<Table<DeploymentKey, Arc<Router>>>,
    owners: Mutex<Table<(String, String), String>>,
    /// By `region \n api id \n stage part` (see [`Resolver::resolve`]).
    resolved: Mutex<Table<String, Arc<Resolved>>>,
    /// Each account's bucket per region, by `account|region`.
    accounts: Mutex<Table<String, Arc<throttle::Held>>>,
}

/// An API and the stage a first path segment selects, as read from the store.
pub struct Resolved {
    /// The account that owns the API.
    pub account: Arc<str>,
    /// The API's id, shared with every request it serves.
    pub api_id: Arc<str>,
    /// The API's own endpoint's domain name (`{apiId}.execute-api.{region}.amazonaws.com`).
    pub domain_name: Arc<str>,
    /// The account's throttle bucket for the region.
    pub account_bucket: Arc<throttle::Held>,
    /// Whether the API's own endpoint is disabled.
    pub disabled: bool,
    /// The stage.
    pub stage: Arc<Stage>,
    /// Its name, shared with every request it serves.
    pub stage_name: Arc<str>,
    /// The stage's deployment compiled (none when it has no deployment or the deployment
    /// could not be read; [`Resolver::router_of`] then says why).
    router: Option<Arc<Router>>,
    /// Whether the path's first segment named the stage.
    pub named: bool,
    /// The API's protocol.
    pub protocol: ProtocolType,
    /// The API's `routeSelectionExpression` (WebSocket APIs).
    pub route_selection_expression: String,
    generation: u64,
}

impl Resolved {
    /// The stage's deployment compiled, when it was read with the stage.
    pub fn router(&self) -> Option<Arc<Router>> {
        self.router.clone()
    }
}

/// A raw path's first segment (`/prod/pets` → `prod`).
fn first_segment(path: &str) -> &str {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    match trimmed.bytes().position(|b| b == b'/') {
        Some(i) => &trimmed[..i],
        None => trimmed,
    }
}

/// The stage serving a request, and whether the path named it.
struct Selected {
    stage: Arc<Stage>,
    /// Whether the first path segment named the stage.
    named: bool,
}

impl Resolver {
    /// A resolver reading `store`.
    pub fn new(store: SharedStore) -> Resolver {
        Resolver {
            store,
            routers: Mutex::default(),
            owners: Mutex::default(),
            resolved: Mutex::default(),
            accounts: Mutex::default(),
        }
    }

    /// The account that holds API `api_id` in `region` (an API never changes account, so a
    /// found owner is kept; a deleted API is then not found when it is read).
    async fn account_of(&self, region: &str, api_id: &str) -> Result<String, Refusal> {
        let key = (region.to_string(), api_id.to_string());
        if let Some(hit) = self.owners.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let account = self
            .store
            .find_root(region, Kind::Api, api_id)
            .await
            .map_err(|e| refuse(GatewayError::Internal, e.to_string()))?
            .ok_or_else(|| refuse(GatewayError::NotFound, ""))?;
        if let Ok(mut m) = self.owners.lock() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(key, account.clone());
        }
        Ok(account)
    }

    /// The protocol of API `api_id` in `region`, if there is one.
    pub async fn protocol(&self, region: &str, api_id: &str) -> Option<ProtocolType> {
        let account = self.account_of(region, api_id).await.ok()?;
        let api: Api = self
            .store
            .root(&Scope::new(account, region), api_id)
            .await
            .ok()?;
        Some(api.protocol_type)
    }

    /// The API's owner, whether its default endpoint is disabled, and the stage `path`
    /// selects: reused from an earlier request while the store reports no change, else read
    /// from the store.
    pub async fn resolve(
        &self,
        target: &Target,
        region: &str,
        path: &str,
    ) -> Result<Arc<Resolved>, Refusal> {
        let generation = self.store.changes();
        // A custom domain's mapping names the stage; else the path's first segment may.
        let (mark, stage) = match &target.entry {
            Entry::Mapped { stage } => ("=", stage.as_str()),
            Entry::Endpoint => ("", first_segment(path)),
            // A custom domain name none of whose API mappings takes the path.
            Entry::Unmapped => return Err(refuse(GatewayError::NotFound, "")),
        };
        // `region \n api \n stage` (no string is built for a request whose API and stage
        // were resolved before).
        let key = [region, "\n", &target.api_id, "\n", mark, stage];
        let hit = scratch::joined(&key, |key| {
            self.resolved.lock().ok().and_then(|m| m.get(key).cloned())
        });
        if let Some(hit) = hit.filter(|hit| hit.generation == generation) {
            return Ok(hit);
        }
        // Boxed: reading the store makes a large future, and held inline it would make every
        // request's future as large (most are answered from the cache above).
        Box::pin(self.read_resolved(target, region, path, &key, generation)).await
    }

    /// The bucket of `account`'s invoke quota in `region`, one for all its APIs and stages.
    fn account_bucket(&self, account: &str, region: &str) -> Arc<throttle::Held> {
        let Ok(mut accounts) = self.accounts.lock() else {
            return Arc::default();
        };
        // (Never cleared, so that an account has one bucket: it holds only accounts that own
        // an API found here, as many as the store has.)
        scratch::joined(&[account, "|", region], |key| match accounts.get(key) {
            Some(held) => held.clone(),
            None => {
                let held = Arc::<throttle::Held>::default();
                accounts.insert(key.to_string(), held.clone());
                held
            }
        })
    }

    /// The API and stage read from the store, and kept for the requests that follow.
    async fn read_resolved(
        &self,
        target: &Target,
        region: &str,
        path: &str,
        key: &[&str],
        generation: u64,
    ) -> Result<Arc<Resolved>, Refusal> {
        let account = self.account_of(region, &target.api_id).await?;
        let scope = Scope::new(account.clone(), region);
        let api: Api = self
            .store
            .root(&scope, &target.api_id)
            .await
            .map_err(|_| refuse(GatewayError::NotFound, ""))?;
        let selected = match &target.entry {
            Entry::Mapped { stage } => self.mapped_stage(&scope, &api.api_id, stage).await,
            _ => self.select_stage(&scope, &api.api_id, path).await,
        };
        // A WebSocket API refuses a handshake to a stage it does not have with 403.
        let selected = selected.map_err(|refusal| match (api.protocol_type, refusal.error) {
            (ProtocolType::WebSocket, GatewayError::NotFound) => refuse(
                GatewayError::Forbidden,
                "the WebSocket API has no such stage",
            ),
            _ => refusal,
        })?;
        let router = match &selected.stage.deployment_id {
            Some(deployment) => self.router(&scope, &api.api_id, deployment).await.ok(),
            None => None,
        };
        let resolved = Arc::new(Resolved {
            account_bucket: self.account_bucket(&account, region),
            account: account.as_str().into(),
            api_id: target.api_id.as_str().into(),
            domain_name: [&target.api_id, ".execute-api.", region, ".amazonaws.com"]
                .concat()
                .into(),
            disabled: api.disable_execute_api_endpoint,
            named: selected.named,
            protocol: api.protocol_type,
            route_selection_expression: api.route_selection_expression.clone(),
            stage_name: selected.stage.stage_name.as_str().into(),
            stage: selected.stage,
            router,
            generation,
        });
        if let Ok(mut m) = self.resolved.lock() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(key.concat(), resolved.clone());
        }
        Ok(resolved)
    }

    /// The stage `stage` serving the whole path: the one an API mapping names, or
    /// `$default` when no path segment names a stage.
    async fn mapped_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage: &str,
    ) -> Result<Selected, Refusal> {
        match store::get::<Stage>(self.store.as_ref(), scope, api_id, stage).await {
            Ok(stage) => Ok(Selected {
                stage: Arc::new(stage),
                named: false,
            }),
            Err(StoreError::NotFound(_)) => Err(refuse(GatewayError::NotFound, "")),
            Err(e) => Err(refuse(GatewayError::Internal, e.to_string())),
        }
    }

    /// The stage for the request's first path segment, else `$default`.
    async fn select_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        path: &str,
    ) -> Result<Selected, Refusal> {
        let first = first_segment(path);
        let first = percent_encoding::percent_decode_str(first).decode_utf8_lossy();
        if !first.is_empty() && first != "$default" {
            match store::get::<Stage>(self.store.as_ref(), scope, api_id, &first).await {
                Ok(stage) => {
                    return Ok(Selected {
                        stage: Arc::new(stage),
                        named: true,
                    })
                }
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(refuse(GatewayError::Internal, e.to_string())),
            }
        }
        // Otherwise `$default` serves the whole path, as a mapped stage would.
        self.mapped_stage(scope, api_id, "$default").await
    }

    /// The resolved stage's deployment, compiled: as resolved, else read again (to say why
    /// it cannot be served: the stage has no deployment, or it cannot be read).
    pub async fn router_of(&self, r: &Resolved, region: &str) -> Result<Arc<Router>, Refusal> {
        let deployment = r
            .stage
            .deployment_id
            .as_deref()
            .ok_or_else(|| refuse(GatewayError::NotFound, "the stage has no deployment"))?;
        match &r.router {
            Some(router) => Ok(router.clone()),
            None => {
                let scope = Scope::new(r.account.to_string(), region);
                Box::pin(self.router(&scope, &r.api_id, deployment)).await
            }
        }
    }

    /// The compiled routes of a deployment (compiled once, then kept).
    async fn router(
        &self,
        scope: &Scope,
        api_id: &str,
        deployment: &str,
    ) -> Result<Arc<Router>, Refusal> {
        let key = (
            scope.account.clone(),
            scope.region.clone(),
            api_id.to_string(),
            deployment.to_string(),
        );
        if let Some(hit) = self.routers.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let snapshot = store::get_snapshot(self.store.as_ref(), scope, api_id, deployment)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => refuse(GatewayError::NotFound, ""),
                other => refuse(GatewayError::Internal, other.to_string()),
            })?;
        let router = Arc::new(Router::compile(&snapshot));
        if let Ok(mut m) = self.routers.lock() {
            if m.len() >= ROUTER_CACHE {
                m.clear();
            }
            m.insert(key, router.clone());
        }
        Ok(router)
    }
}
