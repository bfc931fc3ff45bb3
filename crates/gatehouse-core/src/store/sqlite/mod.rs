//! The default store: one SQLite file in WAL mode. Every acknowledged write has been
//! committed with `synchronous=FULL`, so it survives `kill -9` and power loss.
//!
//! Writes go to one writer thread that **group-commits**: it takes every write waiting in
//! its queue, runs each in its own savepoint inside one transaction (a refused change rolls
//! back alone), commits once (one fsync for the batch) and only then answers each caller.
//! Reads run on a small pool of read connections, inline (an indexed read is microseconds),
//! and see every acknowledged write.
//!
//! Migrations live in `migrations/sqlite/` and are applied at open, tracked by
//! `PRAGMA user_version`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    apply_change, diff, dumped_tree, tree_from_rows, Change, Diff, Kind, LoadMode, Page, Store,
    StoreError, StoreResult,
};
use crate::model::tree::ApiTree;
use crate::model::{Api, Scope};

/// Schema migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_children.sql"),
];

/// Work for the writer thread: given the connection, runs inside a savepoint and says
/// whether it succeeded; given `None` (no transaction could be opened) it does nothing. The
/// returned closure is called with the outcome of the batch's COMMIT.
type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// A write for the writer thread and the API whose cached documents it invalidates.
struct Job {
    /// The API whose cached documents the write invalidates; `None`: all of them.
    api: Option<ApiKey>,
    work: Work,
}

/// (account, region, apiId).
type ApiKey = (String, String, String);

/// Most cached documents; the cache is emptied when it is full.
const CACHE_CAP: usize = 100_000;

/// Recently read child documents, per API. Only this process writes the file (the writer
/// thread), so it can keep the cache exact: after each commit it drops the written APIs'
/// entries and bumps `generation`; a reader only fills the cache if no commit happened
/// while it read the database, so a stale read is never cached.
#[derive(Default)]
struct DocCache {
    generation: u64,
    len: usize,
    apis: HashMap<ApiKey, HashMap<(Kind, String), Arc<str>>>,
}
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// The SQLite store.
pub struct SqliteStore {
    jobs: std::sync::mpsc::Sender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    cache: Arc<Mutex<DocCache>>,
    path: PathBuf,
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
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
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
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let cache = Arc::new(Mutex::new(DocCache::default()));
        std::thread::Builder::new()
            .name("gatehouse-sqlite-writer".into())
            .spawn({
                let cache = cache.clone();
                move || writer_loop(conn, queue, cache)
            })
            .map_err(|e| e.to_string())?;
        Ok(SqliteStore {
            jobs,
            readers: Arc::new(Mutex::new(Vec::new())),
            cache,
            path: path.to_path_buf(),
        })
    }

    /// Runs `f` on a read connection from the pool.
    fn read<R>(&self, f: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| StoreError::Backend("reader pool lock poisoned".into()))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        let result = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < 8 {
                pool.push(conn);
            }
        }
        result
    }

    /// Runs `f` in the writer thread's next batch and waits for the batch to commit.
    /// `api` is the API whose cached documents the write invalidates (`None`: all).
    async fn write<R: Send + 'static>(
        &self,
        api: Option<ApiKey>,
        f: impl FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (tx, rx) = tokio::sync::oneshot::channel::<StoreResult<R>>();
        let work: Work = Box::new(move |conn| {
            let result = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Unavailable("cannot begin a transaction".into())),
            };
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |committed| {
                let _ = tx.send(committed.and(result));
            });
            (ok, finish)
        });
        self.jobs
            .send(Job { api, work })
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("the writer thread has stopped".into()))?
    }
}

fn api_key(scope: &Scope, api_id: &str) -> Option<ApiKey> {
    Some((
        scope.account.clone(),
        scope.region.clone(),
        api_id.to_string(),
    ))
}

fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA busy_timeout=5000;")?;
    Ok(conn)
}

/// The writer thread: group commit.
fn writer_loop(
    conn: Connection,
    jobs: std::sync::mpsc::Receiver<Job>,
    cache: Arc<Mutex<DocCache>>,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for job in batch {
                let (_, finish) = (job.work)(None);
                finish(Err(StoreError::Unavailable(msg.clone())));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        let mut written = Vec::with_capacity(batch.len());
        for job in batch {
            written.push(job.api);
            let job = job.work;
            let _ = conn.execute_batch("SAVEPOINT job");
            // A panicking change must not take the writer down; its caller gets an error.
            let Ok((ok, finish)) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Some(&conn))))
            else {
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                continue;
            };
            let _ = if ok {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            };
            finishes.push(finish);
        }
        let committed = conn.execute_batch("COMMIT").map_err(StoreError::from);
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Ok(mut c) = cache.lock() {
            c.generation += 1;
            for api in &written {
                match api {
                    Some(api) => {
                        if let Some(docs) = c.apis.remove(api) {
                            c.len -= docs.len();
                        }
                    }
                    None => {
                        c.apis.clear();
                        c.len = 0;
                    }
                }
            }
        }
        for finish in finishes {
            finish(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            });
        }
    }
}

fn api_row(conn: &Connection, scope: &Scope, api_id: &str) -> StoreResult<Api> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT doc FROM apis WHERE account = ?1 AND region = ?2 AND api_id = ?3",
            params![scope.account, scope.region, api_id],
            |r| r.get(0),
        )
        .optional()?;
    let doc = doc.ok_or(StoreError::ApiNotFound)?;
    Ok(serde_json::from_str(&doc)?)
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

fn load_tree(conn: &Connection, scope: &Scope, api_id: &str) -> StoreResult<ApiTree> {
    let api = api_row(conn, scope, api_id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT kind, doc FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND kind <> 'snapshot' ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(params![scope.account, scope.region, api_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let rows = rows
        .into_iter()
        .map(|(k, doc)| Ok((Kind::parse(&k)?, doc)))
        .collect::<StoreResult<Vec<_>>>()?;
    tree_from_rows(api, rows)
}

fn insert_tree(conn: &Connection, scope: &Scope, tree: &ApiTree) -> StoreResult<()> {
    let d = diff(&ApiTree::new(tree.api.clone()), tree)?;
    conn.execute(
        "INSERT INTO apis (account, region, api_id, doc) VALUES (?1, ?2, ?3, ?4)",
        params![
            scope.account,
            scope.region,
            tree.api.api_id,
            serde_json::to_string(&tree.api)?
        ],
    )?;
    write_diff(conn, scope, &tree.api.api_id, &d)
}

fn delete_tree(conn: &Connection, scope: &Scope, api_id: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3",
        params![scope.account, scope.region, api_id],
    )?;
    conn.execute(
        "DELETE FROM apis WHERE account = ?1 AND region = ?2 AND api_id = ?3",
        params![scope.account, scope.region, api_id],
    )?;
    Ok(())
}

fn write_diff(conn: &Connection, scope: &Scope, api_id: &str, d: &Diff) -> StoreResult<()> {
    if let Some(doc) = &d.api {
        conn.execute(
            "UPDATE apis SET doc = ?4 WHERE account = ?1 AND region = ?2 AND api_id = ?3",
            params![scope.account, scope.region, api_id, doc],
        )?;
    }
    let mut delete = conn.prepare_cached(
        "DELETE FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND kind = ?4 AND key = ?5",
    )?;
    for (kind, key) in &d.deletes {
        delete.execute(params![
            scope.account,
            scope.region,
            api_id,
            kind.as_str(),
            key
        ])?;
    }
    // Changed and new rows alike: an update keeps the row's seq (its place in creation order).
    let mut upsert = conn.prepare_cached(
        "INSERT INTO children (account, region, api_id, kind, key, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (account, region, api_id, kind, key) DO UPDATE SET doc = excluded.doc",
    )?;
    for (kind, key, doc) in d.updates.iter().chain(&d.inserts) {
        upsert.execute(params![
            scope.account,
            scope.region,
            api_id,
            kind.as_str(),
            key,
            doc
        ])?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_api(&self, scope: &Scope, tree: ApiTree) -> StoreResult<()> {
        let (scope, api_id) = (scope.clone(), tree.api.api_id.clone());
        self.write(api_key(&scope, &api_id), move |tx| {
            insert_tree(tx, &scope, &tree)
        })
        .await
    }

    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        self.read(|conn| api_row(conn, scope, api_id))
    }

    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, doc FROM apis WHERE account = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(
                    params![scope.account, scope.region, after, (limit + 1) as i64],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let more = rows.len() > limit;
            let items = rows
                .into_iter()
                .take(limit)
                .map(|(seq, doc)| Ok((seq, serde_json::from_str(&doc)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page { items, more })
        })
    }

    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.write(api_key(&scope, &api_id), move |tx| {
            api_exists(tx, &scope, &api_id)?;
            delete_tree(tx, &scope, &api_id)
        })
        .await
    }

    async fn modify(&self, scope: &Scope, api_id: &str, change: Change) -> StoreResult<ApiTree> {
        let (scope, api_id) = (scope.clone(), api_id.to_string());
        self.write(api_key(&scope, &api_id), move |tx| {
            let before = load_tree(tx, &scope, &api_id)?;
            let (after, d) = apply_change(&before, change)?;
            write_diff(tx, &scope, &api_id, &d)?;
            Ok(after)
        })
        .await
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String> {
        let api = (
            scope.account.clone(),
            scope.region.clone(),
            api_id.to_string(),
        );
        let child = (kind, key.to_string());
        let generation = {
            let c = self
                .cache
                .lock()
                .map_err(|_| StoreError::Backend("cache lock poisoned".into()))?;
            if let Some(doc) = c.apis.get(&api).and_then(|docs| docs.get(&child)) {
                return Ok(doc.to_string());
            }
            c.generation
        };
        let doc = self.read(|conn| {
            let doc: Option<String> = conn
                .prepare_cached(
                    "SELECT doc FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND kind = ?4 AND key = ?5",
                )?
                .query_row(
                    params![scope.account, scope.region, api_id, kind.as_str(), key],
                    |r| r.get(0),
                )
                .optional()?;
            match doc {
                Some(doc) => Ok(doc),
                None => {
                    api_exists(conn, scope, api_id)?;
                    Err(StoreError::NotFound(kind))
                }
            }
        })?;
        if let Ok(mut c) = self.cache.lock() {
            if c.generation == generation {
                if c.len >= CACHE_CAP {
                    c.apis.clear();
                    c.len = 0;
                }
                let docs = c.apis.entry(api).or_default();
                if docs.insert(child, Arc::from(doc.as_str())).is_none() {
                    c.len += 1;
                }
            }
        }
        Ok(doc)
    }

    async fn list_docs(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        self.read(|conn| {
            api_exists(conn, scope, api_id)?;
            let mut stmt = conn.prepare_cached(
                "SELECT seq, doc FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3 AND kind = ?4 AND seq > ?5 ORDER BY seq LIMIT ?6",
            )?;
            let mut items = stmt
                .query_map(
                    params![
                        scope.account,
                        scope.region,
                        api_id,
                        kind.as_str(),
                        after,
                        (limit + 1) as i64
                    ],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let more = items.len() > limit;
            items.truncate(limit);
            Ok(Page { items, more })
        })
    }

    async fn reset(&self, account: Option<&str>) -> StoreResult<()> {
        let account = account.map(str::to_string);
        self.write(None, move |conn| {
            match &account {
                Some(a) => {
                    conn.execute("DELETE FROM children WHERE account = ?1", params![a])?;
                    conn.execute("DELETE FROM apis WHERE account = ?1", params![a])?;
                }
                None => conn.execute_batch("DELETE FROM children; DELETE FROM apis;")?,
            }
            Ok(())
        })
        .await
    }

    async fn count_records(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let n: i64 = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM apis) + (SELECT COUNT(*) FROM children)",
                [],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    async fn close(&self) {
        // No writes are in flight once requests have drained: fold the log into the file so
        // the database stands alone, and drop the idle reader connections.
        // (Reader connections are read-only; a checkpoint writes, so it gets its own.)
        let folded = Connection::open(&self.path).and_then(|conn| {
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
        });
        match folded {
            Ok(0) => tracing::info!("sqlite store closed (log checkpointed)"),
            Ok(_) => {
                tracing::warn!("sqlite store closed; the log was busy and stays beside the file")
            }
            Err(e) => tracing::warn!(error = %e, "sqlite checkpoint at shutdown failed"),
        }
        if let Ok(mut pool) = self.readers.lock() {
            pool.clear();
        }
    }

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, ApiTree)>> {
        self.read(|conn| {
            let mut apis = conn.prepare(
                "SELECT account, region, doc FROM apis WHERE ?1 IS NULL OR account = ?1 ORDER BY seq",
            )?;
            let apis = apis
                .query_map(params![account], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut children = conn.prepare_cached(
                "SELECT kind, key, doc FROM children WHERE account = ?1 AND region = ?2 AND api_id = ?3 ORDER BY seq",
            )?;
            let mut out = Vec::with_capacity(apis.len());
            for (account, region, doc) in apis {
                let api: Api = serde_json::from_str(&doc)?;
                let rows = children
                    .query_map(params![account, region, api.api_id], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    .map(|(kind, key, doc)| Ok((Kind::parse(&kind)?, key, doc)))
                    .collect::<StoreResult<Vec<_>>>()?;
                out.push((Scope::new(account, region), dumped_tree(api, rows)?));
            }
            Ok(out)
        })
    }

    async fn load(&self, apis: Vec<(Scope, ApiTree)>, mode: LoadMode) -> StoreResult<()> {
        // One savepoint for the whole load: a failure rolls all of it back.
        self.write(None, move |tx| {
            for (scope, tree) in &apis {
                let taken = api_exists(tx, scope, &tree.api.api_id).is_ok();
                if taken {
                    if mode == LoadMode::Add {
                        return Err(StoreError::Conflict);
                    }
                    delete_tree(tx, scope, &tree.api.api_id)?;
                }
                insert_tree(tx, scope, tree)?;
            }
            Ok(())
        })
        .await
    }

    async fn stats(&self) -> StoreResult<super::Stored> {
        self.read(|conn| {
            let (apis, stages): (i64, i64) = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM apis), (SELECT COUNT(*) FROM children WHERE kind = 'stage')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(super::Stored {
                apis: apis as u64,
                stages: stages as u64,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::open(&dir.path().join("state.db")).unwrap();
        super::super::conformance::run(&store).await;
    }

    #[tokio::test]
    async fn survives_reopen() {
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

    #[test]
    fn migrates_a_version_1_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(super::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO stages (account, region, api_id, stage_name, doc) VALUES ('a', 'r', 'x', 'dev', '{}')",
                [],
            )
            .unwrap();
        }
        drop(super::SqliteStore::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let (kind, key): (String, String) = conn
            .query_row("SELECT kind, key FROM children", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((kind.as_str(), key.as_str()), ("stage", "dev"));
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
    }
}
