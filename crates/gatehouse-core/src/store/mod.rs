//! Storage behind one trait. Backends: [`memory::MemoryStore`], [`sqlite::SqliteStore`] (the
//! default) and [`postgres::PostgresStore`]; every backend passes the one conformance suite
//! (`conformance`, built for tests and the `testing` feature).
//!
//! The model: **roots** (APIs, custom domain names, VPC links; [`Kind`]) and under each the
//! child records of its kinds, each a JSON document with a key unique per kind within its root
//! and a store-wide increasing sequence number that gives creation order for keyset
//! pagination. Reads fetch one record or one page. Every write under a root is one
//! transaction on its whole tree ([`Store::modify_raw`]): the backend loads the
//! [`RawTree`], runs the change, and writes back exactly what changed ([`tree::diff`]).
//! Backends see only documents; [`typed`] reads and changes them as model types.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{ApiError, ErrorKind};
use crate::model::Scope;
use crate::token_bucket::TokenBuckets;

pub mod changes;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod kind;
pub mod memory;
pub mod postgres;
pub mod replicas;
pub mod sqlite;
pub mod tree;
pub mod typed;
pub mod url;

pub use changes::Changes;
pub use kind::{Kind, Record};
pub use tree::{Diff, RawChange, RawTree, Row, Tree, TreeVisitor};
pub use typed::{get, get_snapshot, list, live_snapshot, visit_tree};
pub use url::StoreUrl;

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record (a root, or a child under an existing root) does not exist in this scope.
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
    /// map `NotFound` and `Conflict` with their own messages first.
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

/// One page of a listing in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records, each with its position (a store-wide increasing sequence number).
    pub items: Vec<(i64, T)>,
    /// Whether records follow the last one.
    pub more: bool,
}

/// How [`Store::load`] treats a root whose id is already taken in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Refuse the whole load.
    Add,
    /// Replace the stored root and everything under it.
    Overwrite,
}

/// Stored records, read from the store at scrape time (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// APIs.
    pub apis: u64,
    /// Stages.
    pub stages: u64,
}

/// The storage contract. Records are scoped to one account and region; roots are named by
/// kind and id, children by the id of their root, their kind and key.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new root with everything in `tree`. `Conflict` if its id is taken.
    async fn insert(&self, scope: &Scope, tree: RawTree) -> StoreResult<()>;
    /// One root's document, or `NotFound(kind)`.
    async fn get_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<String>;
    /// The account that holds root `id` of `kind` in `region`, if one does (an invoke URL
    /// names an API by id and region only).
    async fn find_root(&self, region: &str, kind: Kind, id: &str) -> StoreResult<Option<String>>;
    /// Every account and region that holds a root `id` of `kind`, in creation order (an
    /// invoke URL's path form names an API by id alone).
    async fn locate_root(&self, kind: Kind, id: &str) -> StoreResult<Vec<Scope>>;
    /// Roots of `kind` after position `after` (exclusive) in creation order, at most `limit`.
    async fn list_roots(
        &self,
        scope: &Scope,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>>;
    /// Deletes a root and everything under it; `NotFound(kind)` if there is none.
    async fn delete_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()>;
    /// Runs `change` on the root's tree (the kinds it loads) atomically and writes its diff.
    async fn modify_raw(
        &self,
        scope: &Scope,
        kind: Kind,
        id: &str,
        change: RawChange,
    ) -> StoreResult<()>;
    /// One child document of root `root_id` (of `kind`'s root kind): `NotFound` of the root
    /// kind or of `kind`.
    async fn get_doc(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String>;
    /// Child documents of `kind` after position `after`, at most `limit`; `NotFound` of the
    /// root kind if the root does not exist.
    async fn list_docs(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>>;
    /// Number of stored records (roots and children) across all scopes.
    async fn count_records(&self) -> StoreResult<u64>;

    /// Every root of `account` (all accounts when `None`, every region, every kind) with
    /// every row under it, in creation order. For export.
    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, RawTree)>>;

    /// Stores `roots` (as [`Store::dump`] returns them) and deletes the roots `gone` names
    /// (those already absent are skipped), in one transaction: all of it or, on any
    /// failure, none. `Conflict` if a root appears twice in `roots`, or (with
    /// [`LoadMode::Add`]) is already taken in its scope. The one write [`Store::load`] and
    /// [`Store::replace`] are.
    async fn write_roots(
        &self,
        roots: Vec<(Scope, RawTree)>,
        mode: LoadMode,
        gone: Vec<(Scope, Kind, String)>,
    ) -> StoreResult<()>;

    /// Stores `roots` in one transaction, all or none (see [`Store::write_roots`]). For
    /// import.
    async fn load(&self, roots: Vec<(Scope, RawTree)>, mode: LoadMode) -> StoreResult<()> {
        self.write_roots(roots, mode, Vec::new()).await
    }

    /// Overwrites `roots` and deletes the roots `gone` names, in one transaction. For a
    /// template's apply, which may also remove roots.
    async fn replace(
        &self,
        roots: Vec<(Scope, RawTree)>,
        gone: Vec<(Scope, Kind, String)>,
    ) -> StoreResult<()> {
        self.write_roots(roots, LoadMode::Overwrite, gone).await
    }

    /// Stored APIs and stages across all scopes (for metrics).
    async fn stats(&self) -> StoreResult<Stored>;

    /// Deletes every record of `account` (all accounts when `None`), in every region.
    async fn reset(&self, account: Option<&str>) -> StoreResult<()>;

    /// Called once when the server stops, after requests have drained: finishes what the
    /// backend keeps open (SQLite folds its write-ahead log into the database file;
    /// PostgreSQL closes its pool). The store must not be used afterwards.
    async fn close(&self) {}

    /// A number that advances with every change committed to what the store holds, by any
    /// caller and, where several processes share the store, by any of them: readers that
    /// keep what they read reuse it while this stands still (see [`Changes`]).
    fn changes(&self) -> u64;

    /// Checks that the backend answers (cheap; for health checks).
    async fn ping(&self) -> StoreResult<()> {
        match self
            .get_root(
                &Scope::new("000000000000", "gatehouse-health"),
                Kind::Api,
                "-",
            )
            .await
        {
            Ok(_) | Err(StoreError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Token buckets this store keeps for every process that uses it (PostgreSQL: all
    /// replicas share them), if it keeps any; callers throttle in-process otherwise.
    fn shared_buckets(&self) -> Option<&dyn TokenBuckets> {
        None
    }

    /// The record of the replicas that share this store (PostgreSQL), if several processes
    /// can share it.
    fn replicas(&self) -> Option<&dyn replicas::ReplicaDirectory> {
        None
    }
}

/// A shared store handle.
pub type SharedStore = Arc<dyn Store>;
