//! The PostgreSQL store, for several gatehouse replicas on one database.
//!
//! Same model as SQLite: `apis` and `children` tables of JSON documents. Every write under
//! an API locks the API's row (`SELECT … FOR UPDATE`), loads its tree, applies the change and
//! writes the diff in one transaction, so concurrent writers through different replicas
//! serialize per API and never lose a field. There is no per-process cache: a write
//! acknowledged by one replica is visible to the next read through any other.
//!
//! Migrations (`migrations/postgres/`) run at start-up under a transaction-scoped advisory
//! lock, so replicas starting together apply them once. Connection failures surface as
//! `Unavailable` (503, retried by SDKs) within the pool's timeouts; the pool reconnects on
//! its own when the database is back. The password in the URL is never logged.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts,
};
use tokio_postgres::NoTls;

use super::{
    apply_change, diff, dumped_tree, tree_from_rows, Change, Diff, Kind, LoadMode, Page, Store,
    StoreError, StoreResult,
};
use crate::model::tree::ApiTree;
use crate::model::{Api, Scope};

/// Migrations in order; index + 1 is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_throttle.sql"),
];

/// Advisory lock key for migrations ("gatehous" in ASCII).
const MIGRATION_LOCK: i64 = 0x6761_7465_686f_7573;

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

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
}

/// Splits our own `schema=NAME` parameter off a URL.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_string());
                false
            }
            None => true,
        })
        .collect();
    let base = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (base, schema)
}

/// Parses a store URL without connecting: the connection settings and the schema, if named.
pub fn parse_url(url: &str) -> Result<(tokio_postgres::Config, Option<String>), String> {
    let (base, schema) = split_schema(url);
    if let Some(s) = &schema {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("schema name {s:?} must be letters, digits and _"));
        }
    }
    let config = base
        .parse()
        .map_err(|e| format!("invalid postgres URL {}: {e}", redact(url)))?;
    Ok((config, schema))
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
        let store = PostgresStore { pool };
        store
            .migrate()
            .await
            .map_err(|e| format!("cannot migrate {shown}: {e}"))?;
        Ok(store)
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

async fn api_exists(c: &impl GenericClient, scope: &Scope, api_id: &str) -> StoreResult<()> {
    let row = c
        .query_opt(
            "SELECT 1 FROM apis WHERE account = $1 AND region = $2 AND api_id = $3",
            &[&scope.account, &scope.region, &api_id],
        )
        .await?;
    row.map(|_| ()).ok_or(StoreError::ApiNotFound)
}

/// Inserts an API with everything in `tree`; `Conflict` if the id is taken.
async fn insert_tree(c: &impl GenericClient, scope: &Scope, tree: &ApiTree) -> StoreResult<()> {
    let d = diff(&ApiTree::new(tree.api.clone()), tree)?;
    let inserted = c
        .execute(
            "INSERT INTO apis (account, region, api_id, doc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&scope.account, &scope.region, &tree.api.api_id, &serde_json::to_string(&tree.api)?],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::Conflict);
    }
    write_diff(c, scope, &tree.api.api_id, &d).await
}

/// Deletes an API and everything under it; `ApiNotFound` if there is none.
async fn delete_tree(c: &impl GenericClient, scope: &Scope, api_id: &str) -> StoreResult<()> {
    let deleted = c
        .execute(
            "DELETE FROM apis WHERE account = $1 AND region = $2 AND api_id = $3",
            &[&scope.account, &scope.region, &api_id],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::ApiNotFound);
    }
    c.execute(
        "DELETE FROM children WHERE account = $1 AND region = $2 AND api_id = $3",
        &[&scope.account, &scope.region, &api_id],
    )
    .await?;
    Ok(())
}

async fn write_diff(
    c: &impl GenericClient,
    scope: &Scope,
    api_id: &str,
    d: &Diff,
) -> StoreResult<()> {
    if let Some(doc) = &d.api {
        c.execute(
            "UPDATE apis SET doc = $4 WHERE account = $1 AND region = $2 AND api_id = $3",
            &[&scope.account, &scope.region, &api_id, doc],
        )
        .await?;
    }
    for (kind, key) in &d.deletes {
        c.execute(
            "DELETE FROM children WHERE account = $1 AND region = $2 AND api_id = $3 AND kind = $4 AND key = $5",
            &[&scope.account, &scope.region, &api_id, &kind.as_str(), key],
        )
        .await?;
    }
    for (kind, key, doc) in d.updates.iter().chain(&d.inserts) {
        c.execute(
            "INSERT INTO children (account, region, api_id, kind, key, doc) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account, region, api_id, kind, key) DO UPDATE SET doc = EXCLUDED.doc",
            &[&scope.account, &scope.region, &api_id, &kind.as_str(), key, doc],
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_api(&self, scope: &Scope, tree: ApiTree) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        insert_tree(&tx, scope, &tree).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT doc FROM apis WHERE account = $1 AND region = $2 AND api_id = $3",
                &[&scope.account, &scope.region, &api_id],
            )
            .await?
            .ok_or(StoreError::ApiNotFound)?;
        Ok(serde_json::from_str(row.get::<_, &str>(0))?)
    }

    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT seq, doc FROM apis WHERE account = $1 AND region = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &[&scope.account, &scope.region, &after, &((limit + 1) as i64)],
            )
            .await?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(|r| {
                Ok((
                    r.get::<_, i64>(0),
                    serde_json::from_str(r.get::<_, &str>(1))?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page { items, more })
    }

    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        delete_tree(&tx, scope, api_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn modify(&self, scope: &Scope, api_id: &str, change: Change) -> StoreResult<ApiTree> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT doc FROM apis WHERE account = $1 AND region = $2 AND api_id = $3 FOR UPDATE",
                &[&scope.account, &scope.region, &api_id],
            )
            .await?
            .ok_or(StoreError::ApiNotFound)?;
        let api: Api = serde_json::from_str(row.get::<_, &str>(0))?;
        let rows = tx
            .query(
                "SELECT kind, doc FROM children WHERE account = $1 AND region = $2 AND api_id = $3 AND kind <> 'snapshot' ORDER BY seq",
                &[&scope.account, &scope.region, &api_id],
            )
            .await?;
        let rows = rows
            .iter()
            .map(|r| Ok((Kind::parse(r.get::<_, &str>(0))?, r.get::<_, String>(1))))
            .collect::<StoreResult<Vec<_>>>()?;
        let before = tree_from_rows(api, rows)?;
        let (after, d) = apply_change(&before, change)?;
        write_diff(&tx, scope, api_id, &d).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT doc FROM children WHERE account = $1 AND region = $2 AND api_id = $3 AND kind = $4 AND key = $5",
                &[&scope.account, &scope.region, &api_id, &kind.as_str(), &key],
            )
            .await?;
        match row {
            Some(r) => Ok(r.get(0)),
            None => {
                api_exists(&client, scope, api_id).await?;
                Err(StoreError::NotFound(kind))
            }
        }
    }

    async fn list_docs(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let client = self.pool.get().await?;
        api_exists(&client, scope, api_id).await?;
        let rows = client
            .query(
                "SELECT seq, doc FROM children WHERE account = $1 AND region = $2 AND api_id = $3 AND kind = $4 AND seq > $5 ORDER BY seq LIMIT $6",
                &[&scope.account, &scope.region, &api_id, &kind.as_str(), &after, &((limit + 1) as i64)],
            )
            .await?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
            .collect();
        Ok(Page { items, more })
    }

    async fn reset(&self, account: Option<&str>) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        match account {
            Some(a) => {
                tx.execute("DELETE FROM children WHERE account = $1", &[&a])
                    .await?;
                tx.execute("DELETE FROM apis WHERE account = $1", &[&a])
                    .await?;
                tx.execute("DELETE FROM throttle_buckets WHERE account = $1", &[&a])
                    .await?;
            }
            None => {
                tx.batch_execute(
                    "DELETE FROM children; DELETE FROM apis; DELETE FROM throttle_buckets;",
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn take_tokens(
        &self,
        account: &str,
        buckets: &[(&'static str, f64, f64)],
    ) -> StoreResult<Option<bool>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for (name, rate, burst) in buckets {
            // Refill by the database's clock (shared by all replicas), then take one token;
            // the WHERE refuses the update (no row returned) when less than one is left.
            let row = tx
                .query_opt(
                    "INSERT INTO throttle_buckets AS b (account, bucket, tokens, at)
                     VALUES ($1, $2, $3::float8 - 1, clock_timestamp())
                     ON CONFLICT (account, bucket) DO UPDATE SET
                       tokens = LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM (clock_timestamp() - b.at)) * $4::float8) - 1,
                       at = clock_timestamp()
                     WHERE LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM (clock_timestamp() - b.at)) * $4::float8) >= 1
                     RETURNING tokens",
                    &[&account, name, burst, rate],
                )
                .await?;
            if row.is_none() {
                // Dropping the transaction rolls back tokens taken from earlier buckets.
                return Ok(Some(false));
            }
        }
        tx.commit().await?;
        Ok(Some(true))
    }

    async fn count_records(&self) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        let n: i64 = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM apis) + (SELECT COUNT(*) FROM children)",
                &[],
            )
            .await?
            .get(0);
        Ok(n as u64)
    }

    async fn close(&self) {
        self.pool.close();
        tracing::info!("postgres store closed");
    }

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, ApiTree)>> {
        let client = self.pool.get().await?;
        let apis = client
            .query(
                "SELECT account, region, doc FROM apis WHERE $1::text IS NULL OR account = $1 ORDER BY seq",
                &[&account],
            )
            .await?;
        let mut out = Vec::with_capacity(apis.len());
        for row in apis {
            let (account, region): (String, String) = (row.get(0), row.get(1));
            let api: Api = serde_json::from_str(row.get::<_, &str>(2))?;
            let rows = client
                .query(
                    "SELECT kind, key, doc FROM children WHERE account = $1 AND region = $2 AND api_id = $3 ORDER BY seq",
                    &[&account, &region, &api.api_id],
                )
                .await?
                .iter()
                .map(|r| Ok((Kind::parse(r.get(0))?, r.get(1), r.get(2))))
                .collect::<StoreResult<Vec<_>>>()?;
            out.push((Scope::new(account, region), dumped_tree(api, rows)?));
        }
        Ok(out)
    }

    async fn load(&self, apis: Vec<(Scope, ApiTree)>, mode: LoadMode) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for (scope, tree) in &apis {
            if mode == LoadMode::Overwrite {
                match delete_tree(&tx, scope, &tree.api.api_id).await {
                    Ok(()) | Err(StoreError::ApiNotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            insert_tree(&tx, scope, tree).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn stats(&self) -> StoreResult<super::Stored> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM apis), (SELECT COUNT(*) FROM children WHERE kind = 'stage')",
                &[],
            )
            .await?;
        Ok(super::Stored {
            apis: row.get::<_, i64>(0) as u64,
            stages: row.get::<_, i64>(1) as u64,
        })
    }
}

/// Test support: the PostgreSQL URL from `GATEHOUSE_TEST_POSTGRES_URL` with a fresh schema,
/// or `None` (and a line saying the test is skipped) when it is not set.
pub fn test_url(what: &str) -> Option<(String, String)> {
    let Ok(base) = std::env::var("GATEHOUSE_TEST_POSTGRES_URL") else {
        eprintln!("skipped {what}: GATEHOUSE_TEST_POSTGRES_URL is not set");
        return None;
    };
    let schema = format!("gh_test_{}", crate::model::ids::random_id(12));
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((format!("{base}{sep}schema={schema}"), schema))
}

/// Test support: drops a schema made by [`test_url`].
pub async fn drop_test_schema(base_url: &str, schema: &str) {
    let (base, _) = split_schema(base_url);
    if let Ok(config) = base.parse::<tokio_postgres::Config>() {
        if let Ok((client, conn)) = config.connect(NoTls).await {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_and_splits_schema() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            split_schema("postgres://u@h/db?schema=x&sslmode=disable"),
            (
                "postgres://u@h/db?sslmode=disable".to_string(),
                Some("x".to_string())
            )
        );
    }

    #[tokio::test]
    async fn conformance() {
        let Some((url, schema)) = test_url("postgres store conformance") else {
            return;
        };
        let store = PostgresStore::open(&url).await.expect("open postgres");
        super::super::conformance::run(&store).await;
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
}
