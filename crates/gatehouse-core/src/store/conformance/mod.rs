//! The store conformance suite: what every backend must do, run by each backend's tests. It
//! panics on the first violation, naming it. Built for tests and the `testing` feature only.

mod apis;
mod roots;

use super::tree::{self, RawTree};
use super::{get, get_snapshot, Kind, Store, StoreError};
use crate::compat::Profile;
use crate::model::api::{ApiInput, ProtocolType};
use crate::model::quick::{self, QuickCreate};
use crate::model::stage::{StageInput, StageRules};
use crate::model::tree::ApiTree;
use crate::model::{Api, Scope, Stage};

/// An HTTP API record with id `api_id`.
pub fn api(api_id: &str) -> Api {
    Api::create(
        api_id.to_string(),
        ApiInput {
            name: Some(format!("api-{api_id}")),
            protocol_type: Some(ProtocolType::Http),
            ..Default::default()
        },
        1_600_000_000,
        Profile::Aws,
    )
    .expect("valid api")
}

/// Stores an HTTP API with id `api_id` in `scope`.
pub async fn seed_api(store: &dyn Store, scope: &Scope, api_id: &str) -> Api {
    let api = api(api_id);
    store
        .create_api(scope, ApiTree::new(api.clone()))
        .await
        .expect("create api");
    api
}

/// A quick-created API as a whole tree: integration, route, `$default` stage, deployment.
pub(super) fn quick_tree(api_id: &str) -> ApiTree {
    let mut tree = ApiTree::new(api(api_id));
    quick::create(
        &mut tree,
        QuickCreate {
            target: Some("https://example.com".into()),
            ..Default::default()
        },
        1_600_000_000,
    )
    .expect("quick create");
    tree
}

/// A stage record named `name`.
pub fn stage(name: &str) -> Stage {
    Stage::create(
        StageInput {
            stage_name: Some(name.to_string()),
            ..Default::default()
        },
        &StageRules::new(
            ProtocolType::Http,
            "123456789012:conform".into(),
            Vec::new(),
        ),
        1_600_000_000,
    )
    .expect("valid stage")
}

pub(super) async fn add_stage(store: &dyn Store, scope: &Scope, api_id: &str, name: &str) {
    let s = stage(name);
    store
        .modify(
            scope,
            api_id,
            Box::new(move |t| {
                t.stages.push(s);
                Ok(())
            }),
        )
        .await
        .expect("add stage");
}

pub(super) async fn remove_stage(store: &dyn Store, scope: &Scope, api_id: &str, name: &str) {
    let name = name.to_string();
    store
        .modify(
            scope,
            api_id,
            Box::new(move |t| {
                t.stages.retain(|s| s.stage_name != name);
                Ok(())
            }),
        )
        .await
        .expect("remove stage");
}

/// Runs every check on an empty `store`.
pub async fn run(store: &dyn Store) {
    apis::apis(store).await;
    apis::children(store).await;
    apis::deployments_and_snapshots(store).await;
    apis::pagination_under_change(store).await;
    apis::cascades(store).await;
    dump_and_load(store).await;
    roots::other_roots(store).await;
    reset(store).await;
    changes(store).await;
}

/// The API trees of a dump.
fn api_trees(dumped: &[(Scope, RawTree)]) -> Vec<ApiTree> {
    dumped
        .iter()
        .filter(|(_, raw)| raw.kind == Kind::Api)
        .map(|(_, raw)| tree::from_raw(raw).expect("a dumped API tree"))
        .collect()
}
/// Rows of a schema-version-2 database (APIs in `apis`, records in `children`), as SQL
/// both backends run: two APIs at sequence numbers 5 and 9 and a stage between them.
pub fn v2_fixture_sql() -> String {
    let json = |v: String| v.replace('\'', "''");
    let api = |id: &str| json(serde_json::to_string(&api(id)).expect("an API document"));
    format!(
        "INSERT INTO apis (seq, account, region, api_id, doc) VALUES (5, '111111111111', 'us-east-1', 'first00001', '{}');
         INSERT INTO apis (seq, account, region, api_id, doc) VALUES (9, '111111111111', 'us-east-1', 'second0001', '{}');
         INSERT INTO children (seq, account, region, api_id, kind, key, doc)
             VALUES (7, '111111111111', 'us-east-1', 'first00001', 'stage', 'dev', '{}');",
        api("first00001"),
        api("second0001"),
        json(serde_json::to_string(&stage("dev")).expect("a stage document")),
    )
}

/// Checks a store migrated from [`v2_fixture_sql`]: its APIs are roots of kind `api` with
/// their records, documents and places in creation order unchanged, and new records
/// continue the sequence.
pub async fn v2_fixture_migrated(store: &dyn Store) {
    let scope = Scope::new("111111111111", "us-east-1");
    let page = store.list_apis(&scope, 0, 10).await.expect("list APIs");
    let ids: Vec<(i64, &str)> = page
        .items
        .iter()
        .map(|(seq, a)| (*seq, a.api_id.as_str()))
        .collect();
    assert_eq!(ids, [(5, "first00001"), (9, "second0001")]);
    let dev: Stage = get(store, &scope, "first00001", "dev")
        .await
        .expect("the stage");
    assert_eq!(dev, stage("dev"));
    seed_api(store, &scope, "third00001").await;
    let page = store.list_apis(&scope, 9, 10).await.expect("list APIs");
    assert!(page.items[0].0 > 9, "new records continue the sequence");
}

/// Export and import: a dump loads back into identical trees (snapshots included), a load
/// is all or nothing, and stats count what is stored.
async fn dump_and_load(store: &dyn Store) {
    store.reset(None).await.unwrap();
    let a = Scope::new("121212121212", "us-east-1");
    let b = Scope::new("343434343434", "eu-west-1");
    let tree = quick_tree("dumpquick1");
    store.create_api(&a, tree).await.unwrap();
    seed_api(store, &a, "dumpplain1").await;
    add_stage(store, &a, "dumpplain1", "dev").await;
    add_stage(store, &a, "dumpplain1", "prod").await;
    seed_api(store, &b, "dumpother1").await;
    assert_eq!(
        store.stats().await.unwrap(),
        super::Stored { apis: 3, stages: 3 }
    );

    let all = store.dump(None).await.unwrap();
    let trees = api_trees(&all);
    let ids: Vec<&str> = trees.iter().map(|t| t.api.api_id.as_str()).collect();
    assert_eq!(
        ids,
        ["dumpquick1", "dumpplain1", "dumpother1"],
        "creation order"
    );
    assert_eq!(trees[0].new_snapshots.len(), 1, "snapshots are dumped");
    let names: Vec<&str> = trees[1]
        .stages
        .iter()
        .map(|s| s.stage_name.as_str())
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    let only_a = store.dump(Some("121212121212")).await.unwrap();
    assert_eq!(only_a.len(), 2);

    // Loading over existing ids refuses everything (the new API in the batch too).
    let mut batch = all.clone();
    let mut fresh = ApiTree::new(api("dumpfresh1"));
    fresh.stages.push(stage("x"));
    batch.insert(0, (a.clone(), tree::to_raw(&fresh).unwrap()));
    assert!(matches!(
        store.load(batch.clone(), super::LoadMode::Add).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.get_api(&a, "dumpfresh1").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    // Overwrite replaces them; a wiped store loads back to the same dump.
    store.load(batch, super::LoadMode::Overwrite).await.unwrap();
    store.get_api(&a, "dumpfresh1").await.unwrap();
    store.reset(None).await.unwrap();
    store.load(all.clone(), super::LoadMode::Add).await.unwrap();
    assert_eq!(store.dump(None).await.unwrap(), all);
    let snapshot_id = trees[0].deployments[0].deployment_id.clone();
    get_snapshot(store, &a, "dumpquick1", &snapshot_id)
        .await
        .unwrap();

    // Replace writes roots and deletes others in one go; a root already gone is skipped.
    let fresh = (
        a.clone(),
        tree::to_raw(&ApiTree::new(api("dumpfresh2"))).unwrap(),
    );
    let gone = |id: &str| (a.clone(), Kind::Api, id.to_string());
    store
        .replace(vec![fresh], vec![gone("dumpplain1"), gone("dumpnone01")])
        .await
        .unwrap();
    store.get_api(&a, "dumpfresh2").await.unwrap();
    assert!(matches!(
        store.get_api(&a, "dumpplain1").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    // A replace that fails deletes nothing either.
    let mut twice = ApiTree::new(api("dumpfresh3"));
    twice.stages.extend([stage("x"), stage("x")]);
    let broken = (a.clone(), tree::to_raw(&twice).unwrap());
    assert!(store
        .replace(vec![broken], vec![gone("dumpquick1")])
        .await
        .is_err());
    store.get_api(&a, "dumpquick1").await.unwrap();
    assert!(matches!(
        store.get_api(&a, "dumpfresh3").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    store.reset(None).await.unwrap();
}

async fn reset(store: &dyn Store) {
    let a = Scope::new("888888888888", "us-east-1");
    let b = Scope::new("999999999999", "eu-west-1");
    seed_api(store, &a, "resetapi01").await;
    seed_api(store, &b, "resetapi02").await;
    add_stage(store, &a, "resetapi01", "dev").await;
    store.reset(Some("888888888888")).await.unwrap();
    assert!(matches!(
        store.get_api(&a, "resetapi01").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    assert!(matches!(
        get::<Stage>(store, &a, "resetapi01", "dev").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    store.get_api(&b, "resetapi02").await.unwrap();
    store.reset(None).await.unwrap();
    assert_eq!(store.count_records().await.unwrap(), 0);
    store.ping().await.unwrap();
}

/// Every committed write moves [`Store::changes`] on, whoever makes it: an insert, a change
/// of a tree, a delete, a load and a reset.
async fn changes(store: &dyn Store) {
    let scope = Scope::new("777777777777", "us-east-1");
    let before = store.changes();
    seed_api(store, &scope, "changes001").await;
    let inserted = store.changes();
    assert_ne!(inserted, before, "an insert is a change");
    add_stage(store, &scope, "changes001", "dev").await;
    let modified = store.changes();
    assert_ne!(modified, inserted, "a change of a tree is a change");
    let dumped = store.dump(Some("777777777777")).await.unwrap();
    store.delete_api(&scope, "changes001").await.unwrap();
    let deleted = store.changes();
    assert_ne!(deleted, modified, "a delete is a change");
    store.load(dumped, super::LoadMode::Add).await.unwrap();
    let loaded = store.changes();
    assert_ne!(loaded, deleted, "a load is a change");
    store.reset(None).await.unwrap();
    assert_ne!(store.changes(), loaded, "a reset is a change");
}
