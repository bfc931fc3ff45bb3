//! Storage behind one trait. Backends: [`memory::MemoryStore`] and [`sqlite::SqliteStore`]
//! (the default). Every backend passes [`conformance`], the one suite that pins what a store
//! must do. NotFound, Conflict and quota results are typed, never strings.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{ApiError, ErrorKind};
use crate::model::{Api, Scope, Stage};

pub mod conformance;
pub mod memory;
pub mod sqlite;

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The API does not exist in this scope.
    #[error("api not found")]
    ApiNotFound,
    /// The stage does not exist on this API.
    #[error("stage not found")]
    StageNotFound,
    /// A resource with this key already exists.
    #[error("already exists")]
    Conflict,
    /// The API already has the maximum number of stages.
    #[error("stage quota of {0} reached")]
    StageQuota(usize),
    /// A mutator refused the change; nothing was written.
    #[error(transparent)]
    Rejected(ApiError),
    /// The backend failed (I/O, corruption, a bug); nothing was written.
    #[error("store failure: {0}")]
    Backend(String),
    /// The backend is temporarily unavailable (busy, connection lost); retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Converts failures that are not about a named resource into the public error. Callers
    /// map `ApiNotFound`, `StageNotFound`, `Conflict` and `StageQuota` with their own messages
    /// first.
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

/// A change applied atomically to a stored record: it sees the current record and either
/// edits it or refuses (nothing is written).
pub type Mutator<T> = Box<dyn FnOnce(&mut T) -> Result<(), ApiError> + Send>;

/// One page of a listing in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records, each with its position (a store-wide increasing sequence number).
    pub items: Vec<(i64, T)>,
    /// Whether records follow the last one.
    pub more: bool,
}

/// The storage contract. All methods are scoped to one account and region.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new API. `Conflict` if its id is taken.
    async fn create_api(&self, scope: &Scope, api: Api) -> StoreResult<()>;
    /// One API, or `ApiNotFound`.
    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api>;
    /// APIs after position `after` (exclusive) in creation order, at most `limit`.
    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>>;
    /// Applies `change` to an API atomically and returns the result.
    async fn update_api(
        &self,
        scope: &Scope,
        api_id: &str,
        change: Mutator<Api>,
    ) -> StoreResult<Api>;
    /// Deletes an API and everything under it.
    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()>;

    /// Stores a new stage on an existing API: `ApiNotFound`, `Conflict` for a taken name,
    /// `StageQuota` when the API already has `max_stages` stages.
    async fn create_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage: Stage,
        max_stages: usize,
    ) -> StoreResult<()>;
    /// One stage: `ApiNotFound` or `StageNotFound`.
    async fn get_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<Stage>;
    /// An API's stages after position `after` in creation order, at most `limit`.
    async fn list_stages(
        &self,
        scope: &Scope,
        api_id: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<Stage>>;
    /// Applies `change` to a stage atomically and returns the result.
    async fn update_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage_name: &str,
        change: Mutator<Stage>,
    ) -> StoreResult<Stage>;
    /// Deletes a stage: `ApiNotFound` or `StageNotFound`.
    async fn delete_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<()>;
    /// Number of stored records (APIs + stages) across all scopes, for tests and metrics.
    async fn count_records(&self) -> StoreResult<u64>;
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
    Err(format!(
        "unknown store URL {url:?}: use `memory` or `sqlite:PATH`"
    ))
}
