//! The default store: one SQLite file in WAL mode. Every acknowledged write has been
//! committed with `synchronous=FULL`, so it survives `kill -9` and power loss.
//!
//! Migrations live in `migrations/sqlite/` and are applied at open, tracked by
//! `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{Mutator, Page, Store, StoreError, StoreResult};
use crate::model::{Api, Scope, Stage};

/// Schema migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_init.sql")];

/// The SQLite store.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(e.to_string())
            }
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict,
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Backend(format!("stored record is not valid: {e}"))
    }
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if missing, with parent directories) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, String> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
        }
        let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(|e| e.to_string())?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if version as usize > MIGRATIONS.len() {
            return Err(format!(
                "the database has schema version {version}, newer than this gatehouse knows ({}); upgrade gatehouse",
                MIGRATIONS.len()
            ));
        }
        migrate(&mut conn).map_err(|e| e.to_string())?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<R> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("sqlite connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }
}

fn api_row(conn: &Connection, scope: &Scope, api_id: &str) -> StoreResult<(i64, Api)> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, doc FROM apis WHERE account = ?1 AND region = ?2 AND api_id = ?3",
            params![scope.account, scope.region, api_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, doc) = row.ok_or(StoreError::ApiNotFound)?;
    Ok((seq, serde_json::from_str(&doc)?))
}

fn api_exists(conn: &Connection, scope: &Scope, api_id: &str) -> StoreResult<()> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM apis WHERE account = ?1 AND region = ?2 AND api_id = ?3",
            params![scope.account, scope.region, api_id],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or(StoreError::ApiNotFound)
}

fn stage_row(
    conn: &Connection,
    scope: &Scope,
    api_id: &str,
    name: &str,
) -> StoreResult<(i64, Stage)> {
    api_exists(conn, scope, api_id)?;
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, doc FROM stages WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND stage_name = ?4",
            params![scope.account, scope.region, api_id, name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, doc) = row.ok_or(StoreError::StageNotFound)?;
    Ok((seq, serde_json::from_str(&doc)?))
}

fn page<T: serde::de::DeserializeOwned>(
    rows: Vec<(i64, String)>,
    limit: usize,
) -> StoreResult<Page<T>> {
    let more = rows.len() > limit;
    let items = rows
        .into_iter()
        .take(limit)
        .map(|(seq, doc)| Ok((seq, serde_json::from_str(&doc)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Page { items, more })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_api(&self, scope: &Scope, api: Api) -> StoreResult<()> {
        let scope = scope.clone();
        self.with(move |conn| {
            let doc = serde_json::to_string(&api)?;
            conn.execute(
                "INSERT INTO apis (account, region, api_id, doc) VALUES (?1, ?2, ?3, ?4)",
                params![scope.account, scope.region, api.api_id, doc],
            )?;
            Ok(())
        })
        .await
    }

    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.with(move |conn| Ok(api_row(conn, &scope, &api_id)?.1))
            .await
    }

    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>> {
        let scope = scope.clone();
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, doc FROM apis WHERE account = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(
                    params![scope.account, scope.region, after, (limit + 1) as i64],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
            page(rows, limit)
        })
        .await
    }

    async fn update_api(
        &self,
        scope: &Scope,
        api_id: &str,
        change: Mutator<Api>,
    ) -> StoreResult<Api> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (seq, mut api) = api_row(&tx, &scope, &api_id)?;
            change(&mut api).map_err(StoreError::Rejected)?;
            tx.execute(
                "UPDATE apis SET doc = ?1 WHERE seq = ?2",
                params![serde_json::to_string(&api)?, seq],
            )?;
            tx.commit()?;
            Ok(api)
        })
        .await
    }

    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            api_exists(&tx, &scope, &api_id)?;
            tx.execute(
                "DELETE FROM stages WHERE account = ?1 AND region = ?2 AND api_id = ?3",
                params![scope.account, scope.region, api_id],
            )?;
            tx.execute(
                "DELETE FROM apis WHERE account = ?1 AND region = ?2 AND api_id = ?3",
                params![scope.account, scope.region, api_id],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn create_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage: Stage,
        max_stages: usize,
    ) -> StoreResult<()> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            api_exists(&tx, &scope, &api_id)?;
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM stages WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND stage_name = ?4",
                    params![scope.account, scope.region, api_id, stage.stage_name],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Conflict);
            }
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM stages WHERE account = ?1 AND region = ?2 AND api_id = ?3",
                params![scope.account, scope.region, api_id],
                |r| r.get(0),
            )?;
            if count as usize >= max_stages {
                return Err(StoreError::StageQuota(max_stages));
            }
            tx.execute(
                "INSERT INTO stages (account, region, api_id, stage_name, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    scope.account,
                    scope.region,
                    api_id,
                    stage.stage_name,
                    serde_json::to_string(&stage)?
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn get_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<Stage> {
        let (scope, api_id, name) = (scope.clone(), api_id.to_string(), stage_name.to_string());
        self.with(move |conn| Ok(stage_row(conn, &scope, &api_id, &name)?.1))
            .await
    }

    async fn list_stages(
        &self,
        scope: &Scope,
        api_id: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<Stage>> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.with(move |conn| {
            api_exists(conn, &scope, &api_id)?;
            let mut stmt = conn.prepare_cached(
                "SELECT seq, doc FROM stages WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND seq > ?4 ORDER BY seq LIMIT ?5",
            )?;
            let rows = stmt
                .query_map(
                    params![scope.account, scope.region, api_id, after, (limit + 1) as i64],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
            page(rows, limit)
        })
        .await
    }

    async fn update_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage_name: &str,
        change: Mutator<Stage>,
    ) -> StoreResult<Stage> {
        let (scope, api_id, name) = (scope.clone(), api_id.to_string(), stage_name.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (seq, mut stage) = stage_row(&tx, &scope, &api_id, &name)?;
            change(&mut stage).map_err(StoreError::Rejected)?;
            tx.execute(
                "UPDATE stages SET doc = ?1 WHERE seq = ?2",
                params![serde_json::to_string(&stage)?, seq],
            )?;
            tx.commit()?;
            Ok(stage)
        })
        .await
    }

    async fn delete_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<()> {
        let (scope, api_id, name) = (scope.clone(), api_id.to_string(), stage_name.to_string());
        self.with(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (seq, _) = stage_row(&tx, &scope, &api_id, &name)?;
            tx.execute("DELETE FROM stages WHERE seq = ?1", params![seq])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn count_records(&self) -> StoreResult<u64> {
        self.with(|conn| {
            let n: i64 = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM apis) + (SELECT COUNT(*) FROM stages)",
                [],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("state.db")).unwrap();
        super::super::conformance::run(&store).await;
    }

    #[tokio::test]
    async fn survives_reopen() {
        use crate::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let scope = crate::model::Scope::new("123456789012", "us-east-1");
        {
            let store = super::SqliteStore::open(&path).unwrap();
            super::super::conformance::seed_api(&store, &scope, "reopen0001").await;
        }
        let store = super::SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.get_api(&scope, "reopen0001").await.unwrap().api_id,
            "reopen0001"
        );
    }
}
