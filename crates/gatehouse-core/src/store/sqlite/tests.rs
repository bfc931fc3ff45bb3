use super::{SqliteStore, MIGRATIONS};
use crate::model::Scope;
use crate::store::{conformance, Store};

#[tokio::test]
async fn conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    conformance::run(&store).await;
}

#[tokio::test]
async fn survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/state.db");
    let scope = Scope::new("123456789012", "us-east-1");
    {
        let store = SqliteStore::open(&path).unwrap();
        conformance::seed_api(&store, &scope, "reopen0001").await;
    }
    let store = SqliteStore::open(&path).unwrap();
    let store: &dyn Store = &store;
    assert_eq!(
        store.get_api(&scope, "reopen0001").await.unwrap().api_id,
        "reopen0001"
    );
}

/// A database at schema `version` with `sql` run on it.
fn database_at(path: &std::path::Path, version: usize, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for m in &MIGRATIONS[..version] {
        conn.execute_batch(m).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn migrates_a_version_1_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    database_at(
        &path,
        1,
        "INSERT INTO stages (account, region, api_id, stage_name, doc) VALUES ('a', 'r', 'x', 'dev', '{}')",
    );
    drop(SqliteStore::open(&path).unwrap());
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
    assert_eq!(version as usize, MIGRATIONS.len());
}

/// Version 2 kept APIs in `apis`; version 3 keeps them as roots of kind `api`.
#[tokio::test]
async fn migrates_a_version_2_database_keeping_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    database_at(&path, 2, &conformance::v2_fixture_sql());
    let store = SqliteStore::open(&path).unwrap();
    conformance::v2_fixture_migrated(&store).await;
}
