//! The PostgreSQL store, for several gatehouse replicas on one database.
//!
//! Same model as SQLite: `roots` and `children` tables of JSON documents. Every write under
//! a root locks the root's row (`SELECT … FOR UPDATE`), loads its tree, applies the change
//! and writes the diff in one transaction, so concurrent writers through different replicas
//! serialize per root and never lose a field. There is no per-process cache: a write
//! acknowledged by one replica is visible to the next read through any other.
//!
//! Migrations (`migrations/postgres/`) run at start-up under a transaction-scoped advisory
//! lock, so replicas starting together apply them once. Connection failures surface as
//! `Unavailable` (503, retried by SDKs) within the pool's timeouts; the pool reconnects on
//! its own when the database is back. The password in the URL is never logged. Token
//! buckets live here too, shared by every replica ([`buckets`]), and the record of the
//! replicas themselves ([`replicas`]).

mod buckets;
mod listen;
mod replicas;
mod sql;
pub mod url;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

use self::sql::{
    delete_tree, delete_tree_if_stored, insert_tree, page, root_exists, rows_of, write_diff,
};
use self::url::{parse_url, redact};
use super::{
    Changes, Kind, LoadMode, Page, RawChange, RawTree, Store, StoreError, StoreResult, Stored,
};
use crate::model::Scope;
use crate::token_bucket::TokenBuckets;

#[cfg(any(test, feature = "testing"))]
pub use self::url::{drop_test_schema, report_skipped, test_url};

/// Migrations in order; index + 1 is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_init.sql"),
    include_str!("../../../migrations/postgres/0002_throttle.sql"),
    include_str!("../../../migrations/postgres/0003_roots.sql"),
    include_str!("../../../migrations/postgres/0004_roots_by_region.sql"),
    include_str!("../../../migrations/postgres/0005_replicas.sql"),
    include_str!("../../../migrations/postgres/0006_roots_by_id.sql"),
];

/// Advisory lock key for migrations ("gatehous" in ASCII).
const MIGRATION_LOCK: i64 = 0x6761_7465_686f_7573;

/// The server's own message for a database error, else the client's.
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION {
                return StoreError::Conflict;
            }
            if db.code() == &tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                || db.code() == &tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            {
                return StoreError::Unavailable(db.message().to_string());
            }
            return StoreError::Backend(db.message().to_string());
        }
        // Not an answer from the server: the connection is gone or could not be made.
        StoreError::Unavailable(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Unavailable(format!("database unavailable: {e}"))
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
    /// Every replica's committed changes, as far as this one has heard of them.
    changes: Arc<Changes>,
    /// `NOTIFY {channel}`: tells every replica of a change when its transaction commits.
    notify: String,
    /// The task that hears the other replicas' changes.
    listener: Mutex<Option<tokio::task::AbortHandle>>,
}

impl PostgresStore {
    /// Connects, creates the schema if named, and applies migrations.
    pub async fn open(url: &str) -> Result<PostgresStore, String> {
        let shown = redact(url);
        let (mut config, schema) = parse_url(url)?;
        config.connect_timeout(Duration::from_secs(3));
        if let Some(s) = &schema {
            // Create the schema with a plain connection, then point every pooled one at it.
            let (client, conn) = config
                .connect(NoTls)
                .await
                .map_err(|e| format!("cannot connect to {shown}: {}", message(&e)))?;
            tokio::spawn(conn);
            // Replicas starting together would race on CREATE SCHEMA IF NOT EXISTS.
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK}); CREATE SCHEMA IF NOT EXISTS {s}; COMMIT;"
                ))
                .await
                .map_err(|e| format!("cannot create schema {s}: {}", message(&e)))?;
            config.options(format!("-c search_path={s}"));
        }
        let channel = listen::channel(schema.as_deref());
        let changes = Arc::new(Changes::shared());
        let listener = tokio::spawn(listen::run(
            config.clone(),
            channel.clone(),
            changes.clone(),
        ));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(Duration::from_secs(3)),
                create: Some(Duration::from_secs(3)),
                recycle: Some(Duration::from_secs(3)),
            })
            .build()
            .map_err(|e| format!("cannot build a connection pool for {shown}: {e}"))?;
        let store = PostgresStore {
            pool,
            changes,
            notify: format!("NOTIFY {channel}"),
            listener: Mutex::new(Some(listener.abort_handle())),
        };
        store
            .migrate()
            .await
            .map_err(|e| format!("cannot migrate {shown}: {e}"))?;
        Ok(store)
    }

    /// Commits a write: every replica hears of it (the `NOTIFY` is delivered when the
    /// transaction commits), this one at once.
    async fn commit(&self, tx: Transaction<'_>) -> StoreResult<()> {
        tx.batch_execute(&self.notify).await?;
        tx.commit().await?;
        self.changes.advance();
        Ok(())
    }

    /// Stops hearing the other replicas' changes.
    fn stop_listening(&self) {
        if let Some(task) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            task.abort();
        }
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS gatehouse_migrations (version INT PRIMARY KEY)",
        )
        .await?;
        let done: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM gatehouse_migrations",
                &[],
            )
            .await?
            .get(0);
        if done as usize > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "the database has schema version {done}, newer than this gatehouse knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO gatehouse_migrations (version) VALUES ($1)",
                &[&((i + 1) as i32)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn write_roots(
        &self,
        roots: Vec<(Scope, RawTree)>,
        mode: LoadMode,
        gone: Vec<(Scope, Kind, String)>,
    ) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for (scope, kind, id) in &gone {
            delete_tree_if_stored(&tx, scope, *kind, id).await?;
        }
        for (scope, tree) in &roots {
            if mode == LoadMode::Overwrite {
                delete_tree_if_stored(&tx, scope, tree.kind, &tree.id).await?;
            }
            insert_tree(&tx, scope, tree).await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    async fn insert(&self, scope: &Scope, tree: RawTree) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        insert_tree(&tx, scope, &tree).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn get_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<String> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT doc FROM roots WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
                &[&scope.account, &scope.region, &kind.as_str(), &id],
            )
            .await?
            .ok_or(StoreError::NotFound(kind))?;
        Ok(row.get(0))
    }

    async fn find_root(&self, region: &str, kind: Kind, id: &str) -> StoreResult<Option<String>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT account FROM roots WHERE region = $1 AND kind = $2 AND id = $3 ORDER BY seq LIMIT 1",
                &[&region, &kind.as_str(), &id],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn locate_root(&self, kind: Kind, id: &str) -> StoreResult<Vec<Scope>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT account, region FROM roots WHERE kind = $1 AND id = $2 ORDER BY seq",
                &[&kind.as_str(), &id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Scope::new(r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect())
    }

    async fn list_roots(
        &self,
        scope: &Scope,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let client = self.pool.get().await?;
        page(
            &client,
            "SELECT seq, doc FROM roots WHERE account = $1 AND region = $2 AND kind = $3 AND seq > $4 ORDER BY seq LIMIT $5",
            &[&scope.account, &scope.region, &kind.as_str(), &after, &((limit + 1) as i64)],
            limit,
        )
        .await
    }

    async fn delete_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        delete_tree(&tx, scope, kind, id).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn modify_raw(
        &self,
        scope: &Scope,
        kind: Kind,
        id: &str,
        change: RawChange,
    ) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT doc FROM roots WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4 FOR UPDATE",
                &[&scope.account, &scope.region, &kind.as_str(), &id],
            )
            .await?
            .ok_or(StoreError::NotFound(kind))?;
        let before = RawTree {
            kind,
            id: id.to_string(),
            doc: row.get(0),
            rows: rows_of(&tx, scope, kind, id, Kind::unloaded_sql()).await?,
        };
        let d = change(&before)?;
        write_diff(&tx, scope, kind, id, &d).await?;
        self.commit(tx).await?;
        Ok(())
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String> {
        let client = self.pool.get().await?;
        let root = kind.root();
        let row = client
            .query_opt(
                "SELECT doc FROM children WHERE account = $1 AND region = $2 AND root_kind = $3 AND root_id = $4 AND kind = $5 AND key = $6",
                &[&scope.account, &scope.region, &root.as_str(), &root_id, &kind.as_str(), &key],
            )
            .await?;
        match row {
            Some(r) => Ok(r.get(0)),
            None => {
                root_exists(&client, scope, root, root_id).await?;
                Err(StoreError::NotFound(kind))
            }
        }
    }

    async fn list_docs(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let client = self.pool.get().await?;
        let root = kind.root();
        root_exists(&client, scope, root, root_id).await?;
        page(
            &client,
            "SELECT seq, doc FROM children WHERE account = $1 AND region = $2 AND root_kind = $3 AND root_id = $4 AND kind = $5 AND seq > $6 ORDER BY seq LIMIT $7",
            &[&scope.account, &scope.region, &root.as_str(), &root_id, &kind.as_str(), &after, &((limit + 1) as i64)],
            limit,
        )
        .await
    }

    async fn reset(&self, account: Option<&str>) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        match account {
            Some(a) => {
                for table in ["children", "roots", "throttle_buckets"] {
                    tx.execute(&format!("DELETE FROM {table} WHERE account = $1"), &[&a])
                        .await?;
                }
            }
            None => {
                tx.batch_execute(
                    "DELETE FROM children; DELETE FROM roots; DELETE FROM throttle_buckets;",
                )
                .await?;
            }
        }
        self.commit(tx).await?;
        Ok(())
    }

    fn replicas(&self) -> Option<&dyn crate::store::replicas::ReplicaDirectory> {
        Some(self)
    }

    fn shared_buckets(&self) -> Option<&dyn TokenBuckets> {
        Some(self)
    }

    async fn count_records(&self) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        let n: i64 = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM roots) + (SELECT COUNT(*) FROM children)",
                &[],
            )
            .await?
            .get(0);
        Ok(n as u64)
    }

    fn changes(&self) -> u64 {
        self.changes.now()
    }

    async fn close(&self) {
        self.stop_listening();
        self.pool.close();
        tracing::info!("postgres store closed");
    }

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, RawTree)>> {
        let client = self.pool.get().await?;
        let roots = client
            .query(
                "SELECT account, region, kind, id, doc FROM roots WHERE $1::text IS NULL OR account = $1 ORDER BY seq",
                &[&account],
            )
            .await?;
        let mut out = Vec::with_capacity(roots.len());
        for row in roots {
            let scope = Scope::new(row.get::<_, String>(0), row.get::<_, String>(1));
            let kind = Kind::parse(row.get(2))?;
            let id: String = row.get(3);
            let rows = rows_of(&client, &scope, kind, &id, "''").await?;
            out.push((
                scope,
                RawTree {
                    kind,
                    id,
                    doc: row.get(4),
                    rows,
                },
            ));
        }
        Ok(out)
    }

    async fn stats(&self) -> StoreResult<Stored> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM roots WHERE kind = $1), (SELECT COUNT(*) FROM children WHERE kind = $2)",
                &[&Kind::Api.as_str(), &Kind::Stage.as_str()],
            )
            .await?;
        Ok(Stored {
            apis: row.get::<_, i64>(0) as u64,
            stages: row.get::<_, i64>(1) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line in `cargo test`'s output when the tests below skip themselves (counted from
    /// this file, so the count cannot drift).
    #[test]
    fn skipped_tests_say_so() {
        let tests = include_str!("mod.rs")
            .matches(concat!("= ", "test_url("))
            .count();
        report_skipped(tests, "the PostgreSQL store");
    }

    #[tokio::test]
    async fn conformance() {
        let Some((url, schema)) = test_url("postgres store conformance") else {
            return;
        };
        let store = PostgresStore::open(&url).await.expect("open postgres");
        crate::store::conformance::run(&store).await;
        drop(store);
        drop_test_schema(&url, &schema).await;
    }

    /// Version 2 kept APIs in `apis`; version 3 keeps them as roots of kind `api`.
    #[tokio::test]
    async fn migrates_a_version_2_database_keeping_order() {
        let Some((url, schema)) = test_url("postgres migration from version 2") else {
            return;
        };
        let (config, _) = parse_url(&url).unwrap();
        let (client, conn) = config.connect(NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path = {schema};
                 CREATE TABLE gatehouse_migrations (version INT PRIMARY KEY);
                 {} {} {}
                 INSERT INTO gatehouse_migrations VALUES (1), (2);",
                MIGRATIONS[0],
                MIGRATIONS[1],
                crate::store::conformance::v2_fixture_sql()
            ))
            .await
            .unwrap();
        drop(client);
        let store = PostgresStore::open(&url).await.unwrap();
        crate::store::conformance::v2_fixture_migrated(&store).await;
        drop(store);
        drop_test_schema(&url, &schema).await;
    }

    #[tokio::test]
    async fn migrations_are_safe_when_replicas_start_together() {
        let Some((url, schema)) = test_url("postgres concurrent migrations") else {
            return;
        };
        let opens = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::open(&url).await.map(|_| ()) })
        });
        for o in opens {
            o.await.unwrap().unwrap();
        }
        drop_test_schema(&url, &schema).await;
    }

    /// A change committed through one replica is heard by another, which then reports it
    /// from `changes()`; while nothing is committed, a replica that hears the others reports
    /// none.
    #[tokio::test]
    async fn a_replica_hears_the_changes_another_commits() {
        let Some((url, schema)) = test_url("postgres change notifications") else {
            return;
        };
        let (one, other) = (
            PostgresStore::open(&url).await.unwrap(),
            PostgresStore::open(&url).await.unwrap(),
        );
        // Until its listener is up, every reading is a change; then readings stand still.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while other.changes() != other.changes() {
            assert!(tokio::time::Instant::now() < deadline, "never heard");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let before = other.changes();
        let scope = Scope::new("123412341234", "us-east-1");
        crate::store::conformance::seed_api(&one, &scope, "heard00001").await;
        while other.changes() == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the change was not heard"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop((one, other));
        drop_test_schema(&url, &schema).await;
    }
}
