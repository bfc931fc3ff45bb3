//! The default store: one SQLite file in WAL mode. Every acknowledged write has been
//! committed with `synchronous=FULL`, so it survives `kill -9` and power loss.
//!
//! Writes go to one writer thread that group-commits ([`writer`]). Reads run on a small
//! pool of read connections, inline (an indexed read is microseconds), see every
//! acknowledged write, and go through an exact cache of child documents ([`cache`]).
//!
//! Migrations live in `migrations/sqlite/` and are applied at open, tracked by
//! `PRAGMA user_version`.

mod cache;
mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use self::cache::{DocCache, RootKey};
use self::sql::{delete_tree, insert_tree, load_tree, root_doc, root_exists, rows_of, write_diff};
use super::{
    Changes, Kind, LoadMode, Page, RawChange, RawTree, Store, StoreError, StoreResult, Stored,
};
use crate::model::Scope;

/// Schema migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_children.sql"),
    include_str!("../../../migrations/sqlite/0003_roots.sql"),
    include_str!("../../../migrations/sqlite/0004_roots_by_region.sql"),
    include_str!("../../../migrations/sqlite/0005_roots_by_id.sql"),
];

/// The SQLite store.
pub struct SqliteStore {
    jobs: std::sync::mpsc::Sender<writer::Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    cache: Arc<Mutex<DocCache>>,
    path: PathBuf,
    changes: Changes,
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
        let (jobs, queue) = std::sync::mpsc::channel::<writer::Job>();
        let cache = Arc::new(Mutex::new(DocCache::default()));
        std::thread::Builder::new()
            .name("gatehouse-sqlite-writer".into())
            .spawn({
                let cache = cache.clone();
                move || writer::run(conn, queue, cache)
            })
            .map_err(|e| e.to_string())?;
        Ok(SqliteStore {
            jobs,
            readers: Arc::new(Mutex::new(Vec::new())),
            cache,
            path: path.to_path_buf(),
            changes: Changes::local(),
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
    /// `root` is the root whose cached documents the write invalidates (`None`: all).
    async fn write<R: Send + 'static>(
        &self,
        root: Option<RootKey>,
        f: impl FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let stopped = || StoreError::Unavailable("the writer thread has stopped".into());
        let (job, rx) = writer::job(root, f);
        self.jobs.send(job).map_err(|_| stopped())?;
        self.changes.committed(rx.await.map_err(|_| stopped())?)
    }
}

fn root_key(scope: &Scope, kind: Kind, id: &str) -> Option<RootKey> {
    Some((
        scope.account.clone(),
        scope.region.clone(),
        kind,
        id.to_string(),
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

/// Reads a child's document (the root's existence is checked only when it is missing).
fn child_doc(
    conn: &Connection,
    scope: &Scope,
    root_id: &str,
    kind: Kind,
    key: &str,
) -> StoreResult<String> {
    let doc: Option<String> = conn
        .prepare_cached(
            "SELECT doc FROM children WHERE account = ?1 AND region = ?2 AND root_kind = ?3 AND root_id = ?4 AND kind = ?5 AND key = ?6",
        )?
        .query_row(
            params![scope.account, scope.region, kind.root().as_str(), root_id, kind.as_str(), key],
            |r| r.get(0),
        )
        .optional()?;
    match doc {
        Some(doc) => Ok(doc),
        None => {
            root_exists(conn, scope, kind.root(), root_id)?;
            Err(StoreError::NotFound(kind))
        }
    }
}

/// `SELECT seq, doc` queries, paged: the rows and whether more follow.
fn page(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    limit: usize,
) -> StoreResult<Page<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut items = stmt
        .query_map(args, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(Page { items, more })
}

#[async_trait]
impl Store for SqliteStore {
    async fn write_roots(
        &self,
        roots: Vec<(Scope, RawTree)>,
        mode: LoadMode,
        gone: Vec<(Scope, Kind, String)>,
    ) -> StoreResult<()> {
        self.write(None, move |tx| {
            for (scope, kind, id) in &gone {
                if root_exists(tx, scope, *kind, id).is_ok() {
                    delete_tree(tx, scope, *kind, id)?;
                }
            }
            for (scope, tree) in &roots {
                if root_exists(tx, scope, tree.kind, &tree.id).is_ok() {
                    if mode == LoadMode::Add {
                        return Err(StoreError::Conflict);
                    }
                    delete_tree(tx, scope, tree.kind, &tree.id)?;
                }
                insert_tree(tx, scope, tree)?;
            }
            Ok(())
        })
        .await
    }

    async fn insert(&self, scope: &Scope, tree: RawTree) -> StoreResult<()> {
        let scope = scope.clone();
        self.write(root_key(&scope, tree.kind, &tree.id), move |tx| {
            insert_tree(tx, &scope, &tree)
        })
        .await
    }

    async fn get_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<String> {
        self.read(|conn| root_doc(conn, scope, kind, id))
    }

    async fn find_root(&self, region: &str, kind: Kind, id: &str) -> StoreResult<Option<String>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT account FROM roots WHERE region = ?1 AND kind = ?2 AND id = ?3 ORDER BY seq LIMIT 1",
            )?
            .query_row(params![region, kind.as_str(), id], |row| row.get(0))
            .optional()
            .map_err(StoreError::from)
        })
    }

    async fn locate_root(&self, kind: Kind, id: &str) -> StoreResult<Vec<Scope>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT account, region FROM roots WHERE kind = ?1 AND id = ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![kind.as_str(), id], |row| {
                Ok(Scope::new(
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                ))
            })?;
            rows.collect::<rusqlite::Result<Vec<Scope>>>()
                .map_err(StoreError::from)
        })
    }

    async fn list_roots(
        &self,
        scope: &Scope,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        self.read(|conn| {
            page(
                conn,
                "SELECT seq, doc FROM roots WHERE account = ?1 AND region = ?2 AND kind = ?3 AND seq > ?4 ORDER BY seq LIMIT ?5",
                params![scope.account, scope.region, kind.as_str(), after, (limit + 1) as i64],
                limit,
            )
        })
    }

    async fn delete_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
        let (scope, id) = (scope.clone(), id.to_string());
        self.write(root_key(&scope, kind, &id), move |tx| {
            root_exists(tx, &scope, kind, &id)?;
            delete_tree(tx, &scope, kind, &id)
        })
        .await
    }

    async fn modify_raw(
        &self,
        scope: &Scope,
        kind: Kind,
        id: &str,
        change: RawChange,
    ) -> StoreResult<()> {
        let (scope, id) = (scope.clone(), id.to_string());
        self.write(root_key(&scope, kind, &id), move |tx| {
            let before = load_tree(tx, &scope, kind, &id, Kind::unloaded_sql())?;
            let d = change(&before)?;
            write_diff(tx, &scope, kind, &id, &d)
        })
        .await
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        key: &str,
    ) -> StoreResult<String> {
        let root = (
            scope.account.clone(),
            scope.region.clone(),
            kind.root(),
            root_id.to_string(),
        );
        let generation = {
            let c = self
                .cache
                .lock()
                .map_err(|_| StoreError::Backend("cache lock poisoned".into()))?;
            if let Some(doc) = c.get(&root, kind, key) {
                return Ok(doc.to_string());
            }
            c.generation()
        };
        let doc = self.read(|conn| child_doc(conn, scope, root_id, kind, key))?;
        if let Ok(mut c) = self.cache.lock() {
            c.fill(generation, root, kind, key.to_string(), &doc);
        }
        Ok(doc)
    }

    async fn list_docs(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        self.read(|conn| {
            root_exists(conn, scope, kind.root(), root_id)?;
            page(
                conn,
                "SELECT seq, doc FROM children WHERE account = ?1 AND region = ?2 AND root_kind = ?3 AND root_id = ?4 AND kind = ?5 AND seq > ?6 ORDER BY seq LIMIT ?7",
                params![
                    scope.account,
                    scope.region,
                    kind.root().as_str(),
                    root_id,
                    kind.as_str(),
                    after,
                    (limit + 1) as i64
                ],
                limit,
            )
        })
    }

    async fn reset(&self, account: Option<&str>) -> StoreResult<()> {
        let account = account.map(str::to_string);
        self.write(None, move |conn| {
            match &account {
                Some(a) => {
                    conn.execute("DELETE FROM children WHERE account = ?1", params![a])?;
                    conn.execute("DELETE FROM roots WHERE account = ?1", params![a])?;
                }
                None => conn.execute_batch("DELETE FROM children; DELETE FROM roots;")?,
            }
            Ok(())
        })
        .await
    }

    fn changes(&self) -> u64 {
        self.changes.now()
    }

    async fn count_records(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let n: i64 = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM roots) + (SELECT COUNT(*) FROM children)",
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

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, RawTree)>> {
        self.read(|conn| {
            let mut roots = conn.prepare(
                "SELECT account, region, kind, id, doc FROM roots WHERE ?1 IS NULL OR account = ?1 ORDER BY seq",
            )?;
            let roots = roots
                .query_map(params![account], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(roots.len());
            for (account, region, kind, id, doc) in roots {
                let scope = Scope::new(account, region);
                let kind = Kind::parse(&kind)?;
                let rows = rows_of(conn, &scope, kind, &id, "''")?;
                out.push((scope, RawTree { kind, id, doc, rows }));
            }
            Ok(out)
        })
    }

    async fn stats(&self) -> StoreResult<Stored> {
        self.read(|conn| {
            let (apis, stages): (i64, i64) = conn.query_row(
                "SELECT (SELECT COUNT(*) FROM roots WHERE kind = ?1), (SELECT COUNT(*) FROM children WHERE kind = ?2)",
                params![Kind::Api.as_str(), Kind::Stage.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(Stored {
                apis: apis as u64,
                stages: stages as u64,
            })
        })
    }
}

#[cfg(test)]
mod tests;
