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
use crate::gateway::{not_served, refuse, GatewayError, Refusal};
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
    /// The region of a request that names none, when its API is there too.
    default_region: Arc<str>,
    routers: Mutex<Table<DeploymentKey, Arc<Router>>>,
    /// By (region, API id): the account that owns the API.
    owners: Mutex<Table<(String, String), String>>,
    /// By `region \n api id \n stage part` (see [`Resolver::resolve`]).
    resolved: Mutex<Table<String, Arc<Resolved>>>,
    /// Each account's bucket per region, by `account|region`.
    accounts: Mutex<Table<String, Arc<throttle::Held>>>,
}

/// An API and the stage a first path segment selects, as read from the store.
pub struct Resolved {
    /// The region the API is in.
    pub region: Arc<str>,
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
    /// Its deployment's id, shared with every trace of a request it serves.
    pub deployment_id: Option<Arc<str>>,
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
    /// A resolver reading `store`; a request that names no region finds its API in
    /// `default_region` first, then in any region.
    pub fn new(store: SharedStore, default_region: &str) -> Resolver {
        Resolver {
            store,
            default_region: default_region.into(),
            routers: Mutex::default(),
            owners: Mutex::default(),
            resolved: Mutex::default(),
            accounts: Mutex::default(),
        }
    }

    /// The account and region that hold API `api_id`: in `region` when the request names
    /// one, else wherever it is (see [`place`]).
    pub async fn scope_of(&self, region: Option<&str>, api_id: &str) -> Result<Scope, Refusal> {
        match region {
            Some(region) => Ok(Scope::new(self.account_of(region, api_id).await?, region)),
            None => self.anywhere(api_id).await,
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
            .ok_or_else(|| {
                not_served(
                    GatewayError::NotFound,
                    format!("no API has the id {api_id} in {region}"),
                )
            })?;
        if let Ok(mut m) = self.owners.lock() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(key, account.clone());
        }
        Ok(account)
    }

    /// The account and region of API `api_id` for a request that names no region (the
    /// path form, a host without a region): the default region's API when there is one,
    /// else the one region that holds the id; refused when several other regions do.
    async fn anywhere(&self, api_id: &str) -> Result<Scope, Refusal> {
        let found = self
            .store
            .locate_root(Kind::Api, api_id)
            .await
            .map_err(|e| refuse(GatewayError::Internal, e.to_string()))?;
        let why = match place(&found, &self.default_region) {
            Ok(Some(scope)) => return Ok(scope.clone()),
            Ok(None) => format!("no API has the id {api_id} in any region"),
            Err(regions) => format!(
                "APIs with the id {api_id} exist in {regions}: name the region in the host \
                 ({api_id}.execute-api.REGION.localhost)"
            ),
        };
        Err(not_served(GatewayError::NotFound, why))
    }

    /// The protocol of API `api_id` (in `region`, when the request names one), if there is
    /// one.
    pub async fn protocol(&self, region: Option<&str>, api_id: &str) -> Option<ProtocolType> {
        let scope = self.scope_of(region, api_id).await.ok()?;
        let api: Api = self.store.root(&scope, api_id).await.ok()?;
        Some(api.protocol_type)
    }

    /// The API's owner, whether its default endpoint is disabled, and the stage `path`
    /// selects: reused from an earlier request while the store reports no change, else read
    /// from the store.
    pub async fn resolve(&self, target: &Target, path: &str) -> Result<Arc<Resolved>, Refusal> {
        let generation = self.store.changes();
        // A custom domain's mapping names the stage; else the path's first segment may.
        let (mark, stage) = match &target.entry {
            Entry::Mapped { stage } => ("=", stage.as_str()),
            Entry::Endpoint => ("", first_segment(path)),
            Entry::Unmapped(why) => return Err(not_served(GatewayError::NotFound, why.clone())),
        };
        // `region \n api \n stage` (no string is built for a request whose API and stage
        // were resolved before; a request that names no region has an empty one).
        let region = target.region.as_deref().unwrap_or("");
        let key = [region, "\n", &target.api_id, "\n", mark, stage];
        let hit = scratch::joined(&key, |key| {
            self.resolved.lock().ok().and_then(|m| m.get(key).cloned())
        });
        if let Some(hit) = hit.filter(|hit| hit.generation == generation) {
            return Ok(hit);
        }
        // Boxed: reading the store makes a large future, and held inline it would make every
        // request's future as large (most are answered from the cache above).
        Box::pin(self.read_resolved(target, path, &key, generation)).await
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
        path: &str,
        key: &[&str],
        generation: u64,
    ) -> Result<Arc<Resolved>, Refusal> {
        let scope = self
            .scope_of(target.region.as_deref(), &target.api_id)
            .await?;
        let (account, region) = (scope.account.as_str(), scope.region.as_str());
        let api: Api = self.store.root(&scope, &target.api_id).await.map_err(|_| {
            let id = &target.api_id;
            not_served(GatewayError::NotFound, format!("API {id} was just deleted"))
        })?;
        let found = |refusal: Refusal| refusal.found_in(account, region);
        let selected = match &target.entry {
            Entry::Mapped { stage } => self.mapped_stage(&scope, &api.api_id, stage).await,
            _ => self.select_stage(&scope, &api.api_id, path).await,
        };
        // A WebSocket API refuses a handshake to a stage it does not have with 403.
        let selected = selected.map_err(|refusal| match (api.protocol_type, refusal.error) {
            (ProtocolType::WebSocket, GatewayError::NotFound) => {
                not_served(GatewayError::Forbidden, refusal.why)
            }
            _ => refusal,
        });
        let selected = selected.map_err(found)?;
        let router = match &selected.stage.deployment_id {
            Some(deployment) => self.router(&scope, &api.api_id, deployment).await.ok(),
            None => None,
        };
        let resolved = Arc::new(Resolved {
            account_bucket: self.account_bucket(account, region),
            region: region.into(),
            account: account.into(),
            api_id: target.api_id.as_str().into(),
            domain_name: [&target.api_id, ".execute-api.", region, ".amazonaws.com"]
                .concat()
                .into(),
            disabled: api.disable_execute_api_endpoint,
            named: selected.named,
            protocol: api.protocol_type,
            route_selection_expression: api.route_selection_expression.clone(),
            stage_name: selected.stage.stage_name.as_str().into(),
            deployment_id: selected.stage.deployment_id.as_deref().map(Arc::from),
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

    /// The stage an API mapping (or an explanation) names, serving the whole path.
    async fn mapped_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage: &str,
    ) -> Result<Selected, Refusal> {
        match self.stage_named(scope, api_id, stage).await? {
            Some(stage) => Ok(Selected {
                stage,
                named: false,
            }),
            None => Err(not_served(
                GatewayError::NotFound,
                format!("API {api_id} has no stage {stage}"),
            )),
        }
    }

    /// The stage for the request's first path segment, else `$default` (serving the whole
    /// path, as a mapped stage would).
    async fn select_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        path: &str,
    ) -> Result<Selected, Refusal> {
        let first = first_segment(path);
        let first = percent_encoding::percent_decode_str(first).decode_utf8_lossy();
        if !first.is_empty() && first != "$default" {
            if let Some(stage) = self.stage_named(scope, api_id, &first).await? {
                return Ok(Selected { stage, named: true });
            }
        }
        match self.stage_named(scope, api_id, "$default").await? {
            Some(stage) => Ok(Selected {
                stage,
                named: false,
            }),
            None if first.is_empty() => Err(not_served(
                GatewayError::NotFound,
                format!("the path names no stage, and API {api_id} has no $default stage"),
            )),
            None => Err(not_served(
                GatewayError::NotFound,
                format!("API {api_id} has no stage {first} and no $default stage"),
            )),
        }
    }

    /// API `api_id`'s stage `name`, if it has one.
    async fn stage_named(
        &self,
        scope: &Scope,
        api_id: &str,
        name: &str,
    ) -> Result<Option<Arc<Stage>>, Refusal> {
        match store::get::<Stage>(self.store.as_ref(), scope, api_id, name).await {
            Ok(stage) => Ok(Some(Arc::new(stage))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(refuse(GatewayError::Internal, e.to_string())),
        }
    }

    /// The resolved stage's deployment, compiled: as resolved, else read again (to say why
    /// it cannot be served: the stage has no deployment, or it cannot be read).
    pub async fn router_of(&self, r: &Resolved) -> Result<Arc<Router>, Refusal> {
        let deployment = r.stage.deployment_id.as_deref().ok_or_else(|| {
            let stage = &r.stage_name;
            not_served(
                GatewayError::NotFound,
                format!("stage {stage} has no deployment"),
            )
        })?;
        match &r.router {
            Some(router) => Ok(router.clone()),
            None => {
                let scope = Scope::new(r.account.to_string(), r.region.to_string());
                Box::pin(self.router(&scope, &r.api_id, deployment)).await
            }
        }
    }

    /// The compiled routes of a deployment (compiled once, then kept).
    pub async fn router(
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
                StoreError::NotFound(_) => not_served(
                    GatewayError::NotFound,
                    format!("deployment {deployment} is gone"),
                ),
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

/// The regions of `scopes`, each once: `a, b and c`.
/// Which of the places holding a record (an API, a custom domain name) serves a request
/// that names no region: the default region's, else the only region's; none when no place
/// holds it; the regions, named, when several others do.
pub fn place<'s>(found: &'s [Scope], default_region: &str) -> Result<Option<&'s Scope>, String> {
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let in_default = found.iter().find(|s| s.region == default_region);
    let in_one = found
        .iter()
        .all(|s| s.region == first.region)
        .then_some(first);
    match in_default.or(in_one) {
        Some(scope) => Ok(Some(scope)),
        None => Err(regions(found)),
    }
}

fn regions(scopes: &[Scope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|s| s.region.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}
