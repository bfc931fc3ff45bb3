//! What a request resolves to before routing: the API's owner (looked up once), the API and
//! the stage its first path segment selects (reused while nothing changed, see
//! [`crate::Config::changes`]), and the deployment's compiled routes (once per deployment).

use std::sync::Arc;
use std::time::Instant;

use gatehouse_core::model::{Api, Scope, Stage};
use gatehouse_core::store::{self, Kind, StoreError};

use crate::gateway::GatewayError;
use crate::router::Router;
use crate::scratch;
use crate::target::Entry;
use crate::throttle;
use crate::{refuse, DataPlane, Refusal, Target, ROUTER_CACHE, SHARED_STORE_REUSE};

/// An API and the stage a first path segment selects, as read from the store.
pub(crate) struct Resolved {
    pub(crate) account: Arc<str>,
    /// The API's id, shared with every request it serves.
    pub(crate) api_id: Arc<str>,
    /// The API's own endpoint's domain name (`{apiId}.execute-api.{region}.amazonaws.com`).
    pub(crate) domain_name: Arc<str>,
    /// The account's throttle bucket for the region.
    pub(crate) account_bucket: Arc<throttle::Held>,
    pub(crate) disabled: bool,
    pub(crate) stage: Arc<Stage>,
    /// Its name, shared with every request it serves.
    pub(crate) stage_name: Arc<str>,
    /// The stage's deployment compiled (none when it has no deployment or the deployment
    /// could not be read; [`DataPlane::router`] then says why).
    pub(crate) router: Option<Arc<Router>>,
    pub(crate) named: bool,
    pub(crate) generation: u64,
    pub(crate) at: Instant,
}

/// A raw path's first segment (`/prod/pets` → `prod`).
pub(crate) fn first_segment(path: &str) -> &str {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    match trimmed.bytes().position(|b| b == b'/') {
        Some(i) => &trimmed[..i],
        None => trimmed,
    }
}

/// A raw path after its first segment (`/prod/pets` → `/pets`, `/prod` → `/`).
pub(crate) fn stage_rest(path: &str) -> &str {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    match trimmed.bytes().position(|b| b == b'/') {
        Some(i) => &trimmed[i..],
        None => "/",
    }
}

/// The stage serving a request, and whether the path named it.
pub(crate) struct Selected {
    pub(crate) stage: Arc<Stage>,
    /// Whether the first path segment named the stage.
    pub(crate) named: bool,
}

impl DataPlane {
    /// The account that holds API `api_id` in `region` (an API never changes account, so a
    /// found owner is kept; a deleted API is then not found when it is read).
    pub(crate) async fn account_of(&self, region: &str, api_id: &str) -> Result<String, Refusal> {
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

    /// The API's owner, whether its default endpoint is disabled, and the stage `path`
    /// selects: reused from an earlier request while nothing changed (see
    /// [`Config::changes`]), else read from the store.
    pub(crate) async fn resolve(
        &self,
        target: &Target,
        region: &str,
        path: &str,
    ) -> Result<Arc<Resolved>, Refusal> {
        use std::sync::atomic::Ordering;
        let generation = self.config.changes.load(Ordering::Acquire);
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
        if let Some(hit) = hit {
            let fresh = !self.config.shared_store || hit.at.elapsed() < SHARED_STORE_REUSE;
            if hit.generation == generation && fresh {
                return Ok(hit);
            }
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
            Entry::Mapped { stage } => self.mapped_stage(&scope, &api.api_id, stage).await?,
            _ => self.select_stage(&scope, &api.api_id, path).await?,
        };
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
            stage_name: selected.stage.stage_name.as_str().into(),
            stage: selected.stage,
            router,
            generation,
            at: Instant::now(),
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
    pub(crate) async fn mapped_stage(
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
    pub(crate) async fn select_stage(
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

    /// The compiled routes of a deployment (compiled once, then kept).
    pub(crate) async fn router(
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
