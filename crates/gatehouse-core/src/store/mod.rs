//! Storage behind one trait. Backends: [`memory::MemoryStore`] and [`sqlite::SqliteStore`]
//! (the default). Every backend passes [`conformance`], the one suite that pins what a store
//! must do.
//!
//! The model: an API record, and under it child records of a few [`Kind`]s (stages, routes,
//! integrations, deployments, deployment snapshots), each a JSON document with a key unique
//! per kind within the API and a store-wide increasing sequence number that gives creation
//! order for keyset pagination. Reads fetch one record or one page. Every write under an API
//! is [`Store::modify`]: the backend loads the API's [`ApiTree`] in a transaction, runs the
//! change on it, and writes back exactly what changed ([`diff`]).

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ErrorKind};
pub use crate::metrics::Stored;
use crate::model::deployment::{Deployment, Snapshot};
use crate::model::integration::Integration;
use crate::model::route::Route;
use crate::model::tree::ApiTree;
use crate::model::{Api, Scope, Stage};

pub mod conformance;
pub mod memory;
pub mod postgres;
pub mod sqlite;

/// The kinds of record stored under an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A stage, keyed by name.
    Stage,
    /// A route, keyed by id.
    Route,
    /// An integration, keyed by id.
    Integration,
    /// A deployment's metadata, keyed by id.
    Deployment,
    /// A deployment's frozen routes and integrations, keyed by deployment id.
    Snapshot,
}

impl Kind {
    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Stage => "stage",
            Kind::Route => "route",
            Kind::Integration => "integration",
            Kind::Deployment => "deployment",
            Kind::Snapshot => "snapshot",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> StoreResult<Kind> {
        Ok(match s {
            "stage" => Kind::Stage,
            "route" => Kind::Route,
            "integration" => Kind::Integration,
            "deployment" => Kind::Deployment,
            "snapshot" => Kind::Snapshot,
            other => return Err(StoreError::Backend(format!("unknown record kind {other}"))),
        })
    }

    /// The kinds an [`ApiTree`] holds (snapshots are written, never loaded into a tree).
    pub const TREE: [Kind; 4] = [
        Kind::Stage,
        Kind::Route,
        Kind::Integration,
        Kind::Deployment,
    ];
}

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The API does not exist in this scope.
    #[error("api not found")]
    ApiNotFound,
    /// The child record does not exist under this API.
    #[error("{} not found", .0.as_str())]
    NotFound(Kind),
    /// A record with this key already exists.
    #[error("already exists")]
    Conflict,
    /// The change refused; nothing was written.
    #[error(transparent)]
    Rejected(ApiError),
    /// The backend failed (I/O, corruption, a bug); nothing was written.
    #[error("store failure: {0}")]
    Backend(String),
    /// The backend is temporarily unavailable (busy, connection lost); retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Backend(format!("stored record is not valid: {e}"))
    }
}

impl StoreError {
    /// Converts failures that are not about a named resource into the public error. Callers
    /// map `ApiNotFound`, `NotFound` and `Conflict` with their own messages first.
    pub fn into_api_error(self) -> ApiError {
        match self {
            StoreError::Rejected(e) => e,
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "store unavailable");
                ApiError::new(
                    ErrorKind::ServiceUnavailable,
                    "The service is temporarily unavailable. Please try again later.",
                )
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal("Internal server error")
            }
        }
    }
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A change to an API's tree, run inside the store's transaction. It either edits the tree
/// or refuses (nothing is written).
pub type Change = Box<dyn FnOnce(&mut ApiTree) -> Result<(), ApiError> + Send>;

/// One page of a listing in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records, each with its position (a store-wide increasing sequence number).
    pub items: Vec<(i64, T)>,
    /// Whether records follow the last one.
    pub more: bool,
}

/// How [`Store::load`] treats an API whose id is already taken in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Refuse the whole load.
    Add,
    /// Replace the stored API and everything under it.
    Overwrite,
}

/// A stored child record: kind, key, JSON document.
pub type Row = (Kind, String, String);

/// The storage contract. All methods are scoped to one account and region.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new API with everything in `tree`. `Conflict` if its id is taken.
    async fn create_api(&self, scope: &Scope, tree: ApiTree) -> StoreResult<()>;
    /// One API, or `ApiNotFound`.
    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api>;
    /// APIs after position `after` (exclusive) in creation order, at most `limit`.
    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>>;
    /// Deletes an API and everything under it.
    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()>;
    /// Runs `change` on the API's tree atomically and returns the tree as stored after it.
    async fn modify(&self, scope: &Scope, api_id: &str, change: Change) -> StoreResult<ApiTree>;
    /// One child document: `ApiNotFound` or `NotFound(kind)`.
    async fn get_doc(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String>;
    /// Child documents of `kind` after position `after`, at most `limit`; `ApiNotFound` if the
    /// API does not exist.
    async fn list_docs(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>>;
    /// Number of stored records (APIs and children) across all scopes.
    async fn count_records(&self) -> StoreResult<u64>;

    /// Every API of `account` (all accounts when `None`, every region) with everything under
    /// it, in creation order; each tree's `new_snapshots` holds all of its deployments'
    /// snapshots. For export.
    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, ApiTree)>>;

    /// Stores `apis` (trees as [`Store::dump`] returns them) in one transaction: all of
    /// them or, on any failure, none. `Conflict` if an id appears twice in `apis`, or (with
    /// [`LoadMode::Add`]) is already taken in its scope. For import.
    async fn load(&self, apis: Vec<(Scope, ApiTree)>, mode: LoadMode) -> StoreResult<()>;

    /// Stored APIs and stages across all scopes (for metrics).
    async fn stats(&self) -> StoreResult<Stored>;

    /// Deletes every record of `account` (all accounts when `None`), in every region.
    async fn reset(&self, account: Option<&str>) -> StoreResult<()>;

    /// Called once when the server stops, after requests have drained: finishes what the
    /// backend keeps open (SQLite folds its write-ahead log into the database file;
    /// PostgreSQL closes its pool). The store must not be used afterwards.
    async fn close(&self) {}

    /// Checks that the backend answers (cheap; for health checks).
    async fn ping(&self) -> StoreResult<()> {
        match self
            .get_api(&Scope::new("000000000000", "gatehouse-health"), "-")
            .await
        {
            Ok(_) | Err(StoreError::ApiNotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Takes one token from each of `account`'s named buckets (name, refill per second,
    /// burst) atomically, shared by every process on this store: `Some(true)` if all had
    /// one, `Some(false)` if not (nothing taken), `None` if this store keeps no shared
    /// buckets (the caller then throttles in-process).
    async fn take_tokens(
        &self,
        _account: &str,
        _buckets: &[(&'static str, f64, f64)],
    ) -> StoreResult<Option<bool>> {
        Ok(None)
    }
}

/// A record stored as a child of an API.
pub trait Child: Serialize + DeserializeOwned {
    /// Its kind.
    const KIND: Kind;
    /// Its key.
    fn key(&self) -> &str;
}

impl Child for Stage {
    const KIND: Kind = Kind::Stage;
    fn key(&self) -> &str {
        &self.stage_name
    }
}

impl Child for Route {
    const KIND: Kind = Kind::Route;
    fn key(&self) -> &str {
        &self.route_id
    }
}

impl Child for Integration {
    const KIND: Kind = Kind::Integration;
    fn key(&self) -> &str {
        &self.integration_id
    }
}

impl Child for Deployment {
    const KIND: Kind = Kind::Deployment;
    fn key(&self) -> &str {
        &self.deployment_id
    }
}

/// Reads one child record.
pub async fn get<T: Child>(
    store: &dyn Store,
    scope: &Scope,
    api_id: &str,
    key: &str,
) -> StoreResult<T> {
    let doc = store.get_doc(scope, api_id, T::KIND, key).await?;
    Ok(serde_json::from_str(&doc)?)
}

/// Reads a deployment's snapshot.
pub async fn get_snapshot(
    store: &dyn Store,
    scope: &Scope,
    api_id: &str,
    deployment_id: &str,
) -> StoreResult<Snapshot> {
    let doc = store
        .get_doc(scope, api_id, Kind::Snapshot, deployment_id)
        .await?;
    Ok(serde_json::from_str(&doc)?)
}

/// Reads one page of child records.
pub async fn list<T: Child>(
    store: &dyn Store,
    scope: &Scope,
    api_id: &str,
    after: i64,
    limit: usize,
) -> StoreResult<Page<T>> {
    let page = store
        .list_docs(scope, api_id, T::KIND, after, limit)
        .await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(seq, doc)| Ok((seq, serde_json::from_str(&doc)?)))
            .collect::<StoreResult<Vec<_>>>()?,
        more: page.more,
    })
}

fn rows_of<T: Child>(items: &[T], out: &mut Vec<Row>) -> StoreResult<()> {
    for item in items {
        out.push((
            T::KIND,
            item.key().to_string(),
            serde_json::to_string(item)?,
        ));
    }
    Ok(())
}

/// The child rows of a tree (without snapshots), in tree order.
pub fn tree_rows(tree: &ApiTree) -> StoreResult<Vec<Row>> {
    let mut rows = Vec::new();
    rows_of(&tree.stages, &mut rows)?;
    rows_of(&tree.routes, &mut rows)?;
    rows_of(&tree.integrations, &mut rows)?;
    rows_of(&tree.deployments, &mut rows)?;
    Ok(rows)
}

/// Builds a tree from an API and its child rows (in creation order).
pub fn tree_from_rows(api: Api, rows: Vec<(Kind, String)>) -> StoreResult<ApiTree> {
    let mut tree = ApiTree::new(api);
    for (kind, doc) in rows {
        match kind {
            Kind::Stage => tree.stages.push(serde_json::from_str(&doc)?),
            Kind::Route => tree.routes.push(serde_json::from_str(&doc)?),
            Kind::Integration => tree.integrations.push(serde_json::from_str(&doc)?),
            Kind::Deployment => tree.deployments.push(serde_json::from_str(&doc)?),
            Kind::Snapshot => {}
        }
    }
    Ok(tree)
}

/// Builds a dumped tree from an API and all its child rows, snapshots included (they go to
/// `new_snapshots`, so storing the tree again writes them).
pub fn dumped_tree(api: Api, rows: Vec<Row>) -> StoreResult<ApiTree> {
    let mut snapshots = Vec::new();
    let mut others = Vec::new();
    for (kind, key, doc) in rows {
        if kind == Kind::Snapshot {
            snapshots.push((key, serde_json::from_str(&doc)?));
        } else {
            others.push((kind, doc));
        }
    }
    let mut tree = tree_from_rows(api, others)?;
    tree.new_snapshots = snapshots;
    Ok(tree)
}

/// What a change did to a tree, as writes.
#[derive(Debug, Default, PartialEq)]
pub struct Diff {
    /// The API's new document, if it changed.
    pub api: Option<String>,
    /// Rows to insert (new keys), in order.
    pub inserts: Vec<Row>,
    /// Rows whose document changed.
    pub updates: Vec<Row>,
    /// Rows to delete (including the snapshots of deleted deployments).
    pub deletes: Vec<(Kind, String)>,
}

/// Compares a tree before and after a change.
pub fn diff(before: &ApiTree, after: &ApiTree) -> StoreResult<Diff> {
    let old = tree_rows(before)?;
    let new = tree_rows(after)?;
    let old_map: std::collections::HashMap<(Kind, &str), &str> = old
        .iter()
        .map(|(k, key, doc)| ((*k, key.as_str()), doc.as_str()))
        .collect();
    let new_keys: std::collections::HashSet<(Kind, &str)> =
        new.iter().map(|(k, key, _)| (*k, key.as_str())).collect();
    let mut d = Diff::default();
    if before.api != after.api {
        d.api = Some(serde_json::to_string(&after.api)?);
    }
    for (kind, key, doc) in &new {
        match old_map.get(&(*kind, key.as_str())) {
            None => d.inserts.push((*kind, key.clone(), doc.clone())),
            Some(old_doc) if *old_doc != doc => d.updates.push((*kind, key.clone(), doc.clone())),
            Some(_) => {}
        }
    }
    for (kind, key, _) in &old {
        if !new_keys.contains(&(*kind, key.as_str())) {
            d.deletes.push((*kind, key.clone()));
            if *kind == Kind::Deployment {
                d.deletes.push((Kind::Snapshot, key.clone()));
            }
        }
    }
    for (id, snapshot) in &after.new_snapshots {
        d.inserts
            .push((Kind::Snapshot, id.clone(), serde_json::to_string(snapshot)?));
    }
    Ok(d)
}

/// Runs a change on a copy of `before` and returns the changed tree with what to write.
pub fn apply_change(before: &ApiTree, change: Change) -> StoreResult<(ApiTree, Diff)> {
    let mut after = before.clone();
    after.new_snapshots.clear();
    change(&mut after).map_err(StoreError::Rejected)?;
    let d = diff(before, &after)?;
    after.new_snapshots.clear();
    Ok((after, d))
}

/// A shared store handle.
pub type SharedStore = Arc<dyn Store>;

/// Opens the store named by `url`: `memory`, or `sqlite:PATH` (created if missing).
pub fn open(url: &str) -> Result<SharedStore, String> {
    if url == "memory" || url == "memory:" {
        return Ok(Arc::new(memory::MemoryStore::new()));
    }
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err("sqlite store needs a path: sqlite:PATH".into());
        }
        return sqlite::SqliteStore::open(std::path::Path::new(path))
            .map(|s| Arc::new(s) as SharedStore)
            .map_err(|e| format!("cannot open sqlite store at {path}: {e}"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err("use store::open_async for postgres:// stores".into());
    }
    Err(format!(
        "unknown store URL {:?}: use `memory`, `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`",
        postgres::redact(url)
    ))
}

/// Checks a store URL's form without opening anything.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return postgres::parse_url(url).map(|_| ());
    }
    if url == "memory" || url == "memory:" {
        return Ok(());
    }
    match url.strip_prefix("sqlite:") {
        Some(path) if !path.trim_start_matches("//").is_empty() => Ok(()),
        Some(_) => Err("sqlite store needs a path: sqlite:PATH".into()),
        None => Err(format!(
            "unknown store URL {:?}: use `memory`, `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`",
            postgres::redact(url)
        )),
    }
}

/// Opens any store, including `postgres://USER[:PASSWORD]@HOST:PORT/DB[?schema=NAME]`
/// (migrations applied at start-up; safe when several replicas start at once).
pub async fn open_async(url: &str) -> Result<SharedStore, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return postgres::PostgresStore::open(url)
            .await
            .map(|s| Arc::new(s) as SharedStore);
    }
    open(url)
}
