use super::{SqliteStore, MIGRATIONS};
use crate::model::Scope;
use crate::store::{conformance, Kind, Store};

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

/// Version 2 kept APIs in `apis`; version 3 keeps them as roots of kind `api`, with their
/// records, documents and places in creation order unchanged.
#[tokio::test]
async fn migrates_a_version_2_database_keeping_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let api = |id: &str| serde_json::to_string(&conformance::api(id)).unwrap();
    database_at(
        &path,
        2,
        &format!(
            "INSERT INTO apis (seq, account, region, api_id, doc) VALUES (5, '111111111111', 'us-east-1', 'first00001', '{}');
             INSERT INTO apis (seq, account, region, api_id, doc) VALUES (9, '111111111111', 'us-east-1', 'second0001', '{}');
             INSERT INTO children (seq, account, region, api_id, kind, key, doc)
                 VALUES (7, '111111111111', 'us-east-1', 'first00001', 'stage', 'dev', '{}');",
            api("first00001"),
            api("second0001"),
            serde_json::to_string(&conformance::stage("dev")).unwrap(),
        ),
    );
    let store = SqliteStore::open(&path).unwrap();
    let store: &dyn Store = &store;
    let scope = Scope::new("111111111111", "us-east-1");
    let page = store.list_apis(&scope, 0, 10).await.unwrap();
    let ids: Vec<(i64, &str)> = page
        .items
        .iter()
        .map(|(seq, a)| (*seq, a.api_id.as_str()))
        .collect();
    assert_eq!(ids, [(5, "first00001"), (9, "second0001")]);
    let dev = store
        .get_doc(&scope, "first00001", Kind::Stage, "dev")
        .await
        .unwrap();
    assert!(dev.contains("\"stageName\":\"dev\""), "{dev}");
    // New records continue the sequence.
    conformance::seed_api(store, &scope, "third00001").await;
    let page = store.list_apis(&scope, 9, 10).await.unwrap();
    assert!(page.items[0].0 > 9);
}
