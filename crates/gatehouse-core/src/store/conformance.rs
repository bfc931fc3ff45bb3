//! The store conformance suite: what every backend must do, run by each backend's tests. It
//! panics on the first violation, naming it. Built for tests and the `testing` feature only.

use std::collections::BTreeMap;

use super::tree::{self, RawTree};
use super::{get, get_snapshot, list, Kind, Store, StoreError};
use crate::error::ApiError;
use crate::model::api::{ApiInput, ProtocolType};
use crate::model::deployment::Deployment;
use crate::model::domain_name::{ApiMapping, DomainName, DomainNameTree};
use crate::model::quick::{self, QuickCreate};
use crate::model::route::{Route, RouteInput};
use crate::model::stage::{StageInput, StageRules};
use crate::model::tree::ApiTree;
use crate::model::vpc_link::{VpcLink, VpcLinkTree};
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
fn quick_tree(api_id: &str) -> ApiTree {
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
        &StageRules {
            protocol: ProtocolType::Http,
            api_label: "123456789012:conform".into(),
        },
        1_600_000_000,
    )
    .expect("valid stage")
}

async fn add_stage(store: &dyn Store, scope: &Scope, api_id: &str, name: &str) {
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

async fn remove_stage(store: &dyn Store, scope: &Scope, api_id: &str, name: &str) {
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
    apis(store).await;
    children(store).await;
    deployments_and_snapshots(store).await;
    pagination_under_change(store).await;
    cascades(store).await;
    dump_and_load(store).await;
    other_roots(store).await;
    reset(store).await;
}

/// The API trees of a dump.
fn api_trees(dumped: &[(Scope, RawTree)]) -> Vec<ApiTree> {
    dumped
        .iter()
        .filter(|(_, raw)| raw.kind == Kind::Api)
        .map(|(_, raw)| tree::from_raw(raw).expect("a dumped API tree"))
        .collect()
}

fn domain(name: &str) -> DomainNameTree {
    use super::Tree;
    DomainNameTree::with_root(DomainName {
        domain_name: name.into(),
        created: 1_600_000_000,
        tags: BTreeMap::new(),
    })
}

fn mapping(id: &str, key: &str) -> ApiMapping {
    ApiMapping {
        api_mapping_id: id.into(),
        api_id: "apiconf001".into(),
        stage: "dev".into(),
        api_mapping_key: key.into(),
    }
}

/// Roots other than APIs: domain names (with API mappings) and VPC links are stored, read,
/// listed, changed in their own transactions and deleted like APIs, independently of an API
/// (or each other) with the same id, and travel through dump and load.
async fn other_roots(store: &dyn Store) {
    use super::Tree;
    let s = Scope::new("101010101010", "us-east-1");
    let before = store.count_records().await.unwrap();
    store.create(&s, &domain("api.example.com")).await.unwrap();
    assert!(matches!(
        store.create(&s, &domain("api.example.com")).await,
        Err(StoreError::Conflict)
    ));
    // The same id as another kind's root is another record.
    seed_api(store, &s, "shared0001").await;
    store.create(&s, &domain("shared0001")).await.unwrap();
    let link = VpcLinkTree::with_root(VpcLink {
        vpc_link_id: "shared0001".into(),
        name: "link".into(),
        created: 1_600_000_000,
        tags: BTreeMap::new(),
    });
    store.create(&s, &link).await.unwrap();
    assert_eq!(
        store.root::<VpcLink>(&s, "shared0001").await.unwrap().name,
        "link"
    );
    let names: Vec<String> = store
        .roots::<DomainName>(&s, 0, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|(_, d)| d.domain_name)
        .collect();
    assert_eq!(names, ["api.example.com", "shared0001"]);
    assert_eq!(store.list_apis(&s, 0, 10).await.unwrap().items.len(), 1);

    // A change to a domain name is its own unit: children, refusal, not-found.
    let after: DomainNameTree = store
        .change(
            &s,
            "api.example.com",
            Box::new(|t: &mut DomainNameTree| {
                t.api_mappings.push(mapping("map001", ""));
                t.api_mappings.push(mapping("map002", "v1"));
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(after.api_mappings.len(), 2);
    let refused = store
        .change(
            &s,
            "api.example.com",
            Box::new(|t: &mut DomainNameTree| {
                t.api_mappings.clear();
                Err(ApiError::bad_request("no"))
            }),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Rejected(_))));
    let listed = list::<ApiMapping>(store, &s, "api.example.com", 0, 10)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    assert_eq!(
        get::<ApiMapping>(store, &s, "api.example.com", "map002")
            .await
            .unwrap(),
        mapping("map002", "v1")
    );
    assert!(matches!(
        get::<ApiMapping>(store, &s, "api.example.com", "nope").await,
        Err(StoreError::NotFound(Kind::ApiMapping))
    ));
    assert!(matches!(
        get::<ApiMapping>(store, &s, "missing.example.com", "map001").await,
        Err(StoreError::NotFound(Kind::DomainName))
    ));
    assert!(matches!(
        store
            .change(
                &s,
                "missing.example.com",
                Box::new(|_: &mut DomainNameTree| Ok(()))
            )
            .await,
        Err(StoreError::NotFound(Kind::DomainName))
    ));
    // The API with the same id has no API mappings; its own children are its own.
    assert!(matches!(
        get::<Stage>(store, &s, "shared0001", "dev").await,
        Err(StoreError::NotFound(Kind::Stage))
    ));

    // Dump and load carry every root kind, in creation order.
    let dumped = store.dump(Some("101010101010")).await.unwrap();
    let kinds: Vec<Kind> = dumped.iter().map(|(_, raw)| raw.kind).collect();
    assert_eq!(
        kinds,
        [Kind::DomainName, Kind::Api, Kind::DomainName, Kind::VpcLink]
    );
    let loaded: DomainNameTree = tree::from_raw(&dumped[0].1).unwrap();
    assert_eq!(loaded, after);
    assert_eq!(store.count_records().await.unwrap(), before + 6);

    // Deleting a domain name takes its mappings and leaves the others alone.
    store
        .delete_root(&s, Kind::DomainName, "api.example.com")
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_root(&s, Kind::DomainName, "api.example.com")
            .await,
        Err(StoreError::NotFound(Kind::DomainName))
    ));
    store.get_api(&s, "shared0001").await.unwrap();
    store.root::<DomainName>(&s, "shared0001").await.unwrap();
    assert_eq!(store.count_records().await.unwrap(), before + 3);
    store
        .load(dumped.clone(), super::LoadMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(store.dump(Some("101010101010")).await.unwrap().len(), 4);
    assert_eq!(
        get::<ApiMapping>(store, &s, "api.example.com", "map001")
            .await
            .unwrap(),
        mapping("map001", "")
    );
    store.reset(Some("101010101010")).await.unwrap();
    assert!(matches!(
        store.root::<VpcLink>(&s, "shared0001").await,
        Err(StoreError::NotFound(Kind::VpcLink))
    ));
    assert_eq!(store.count_records().await.unwrap(), before);
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

async fn apis(store: &dyn Store) {
    let a = Scope::new("111111111111", "us-east-1");
    let b = Scope::new("222222222222", "us-east-1");
    let a_west = Scope::new("111111111111", "eu-west-1");
    let created = seed_api(store, &a, "apiconf001").await;
    assert_eq!(store.get_api(&a, "apiconf001").await.unwrap(), created);
    assert!(matches!(
        store.create_api(&a, ApiTree::new(created.clone())).await,
        Err(StoreError::Conflict)
    ));
    for other in [&b, &a_west] {
        assert!(matches!(
            store.get_api(other, "apiconf001").await,
            Err(StoreError::NotFound(Kind::Api))
        ));
        assert!(store
            .list_apis(other, 0, 10)
            .await
            .unwrap()
            .items
            .is_empty());
        assert!(matches!(
            store
                .modify(other, "apiconf001", Box::new(|_| Ok(())))
                .await,
            Err(StoreError::NotFound(Kind::Api))
        ));
        assert!(matches!(
            store.delete_api(other, "apiconf001").await,
            Err(StoreError::NotFound(Kind::Api))
        ));
    }
    let after = store
        .modify(
            &a,
            "apiconf001",
            Box::new(|t| {
                t.api.name = "renamed".into();
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(after.api.name, "renamed");
    let refused = store
        .modify(
            &a,
            "apiconf001",
            Box::new(|t| {
                t.api.name = "never".into();
                t.stages.push(stage("never"));
                Err(ApiError::bad_request("no"))
            }),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Rejected(_))));
    assert_eq!(
        store.get_api(&a, "apiconf001").await.unwrap().name,
        "renamed"
    );
    assert!(matches!(
        get::<Stage>(store, &a, "apiconf001", "never").await,
        Err(StoreError::NotFound(Kind::Stage))
    ));
    store.delete_api(&a, "apiconf001").await.unwrap();
    assert!(matches!(
        store.get_api(&a, "apiconf001").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
}

async fn children(store: &dyn Store) {
    let s = Scope::new("333333333333", "us-east-1");
    let other = Scope::new("444444444444", "us-east-1");
    seed_api(store, &s, "kidconf001").await;
    add_stage(store, &s, "kidconf001", "dev").await;
    assert_eq!(
        get::<Stage>(store, &s, "kidconf001", "dev").await.unwrap(),
        stage("dev")
    );
    assert!(matches!(
        get::<Stage>(store, &s, "kidconf001", "nope").await,
        Err(StoreError::NotFound(Kind::Stage))
    ));
    assert!(matches!(
        get::<Stage>(store, &other, "kidconf001", "dev").await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    assert!(matches!(
        list::<Stage>(store, &s, "missing000", 0, 10).await,
        Err(StoreError::NotFound(Kind::Api))
    ));
    // A route is another kind: same key space per kind only.
    let route = Route::create(
        "dev".into(),
        RouteInput {
            route_key: Some("GET /pets".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let r = route.clone();
    let tree = store
        .modify(
            &s,
            "kidconf001",
            Box::new(move |t| {
                t.routes.push(r);
                t.stages[0].stage_variables = BTreeMap::from([("k".into(), "v".into())]);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(tree.routes, vec![route.clone()]);
    assert_eq!(
        get::<Route>(store, &s, "kidconf001", "dev").await.unwrap(),
        route
    );
    let dev: Stage = get(store, &s, "kidconf001", "dev").await.unwrap();
    assert_eq!(dev.stage_variables.len(), 1);
    // An update keeps the record's place in creation order.
    add_stage(store, &s, "kidconf001", "prod").await;
    store
        .modify(
            &s,
            "kidconf001",
            Box::new(|t| {
                t.stage_mut("dev").expect("dev").description = Some("changed".into());
                Ok(())
            }),
        )
        .await
        .unwrap();
    let names: Vec<String> = list::<Stage>(store, &s, "kidconf001", 0, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|(_, st)| st.stage_name)
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    remove_stage(store, &s, "kidconf001", "dev").await;
    assert!(matches!(
        get::<Stage>(store, &s, "kidconf001", "dev").await,
        Err(StoreError::NotFound(Kind::Stage))
    ));
    store.delete_api(&s, "kidconf001").await.unwrap();
}

async fn deployments_and_snapshots(store: &dyn Store) {
    let s = Scope::new("777777777777", "us-east-1");
    // A quick-created API arrives as a whole tree: integration, route, stage, deployment.
    let tree = quick_tree("quickconf1");
    let deployment_id = tree.deployments[0].deployment_id.clone();
    store.create_api(&s, tree.clone()).await.unwrap();
    let snapshot = get_snapshot(store, &s, "quickconf1", &deployment_id)
        .await
        .unwrap();
    assert_eq!(snapshot.routes, tree.routes);
    assert_eq!(snapshot.integrations, tree.integrations);
    let stored: Stage = get(store, &s, "quickconf1", "$default").await.unwrap();
    assert_eq!(
        stored.deployment_id.as_deref(),
        Some(deployment_id.as_str())
    );

    // Later edits never change a stored snapshot.
    let after = store
        .modify(
            &s,
            "quickconf1",
            Box::new(|t| {
                t.routes[0].route_key = "GET /changed".into();
                t.redeploy_auto_stages(1_600_000_100);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(after.deployments.len(), 2);
    assert!(after.new_snapshots.is_empty());
    let old = get_snapshot(store, &s, "quickconf1", &deployment_id)
        .await
        .unwrap();
    assert_eq!(old.routes[0].route_key, "$default");
    let new_id = after.deployments[1].deployment_id.clone();
    let new = get_snapshot(store, &s, "quickconf1", &new_id)
        .await
        .unwrap();
    assert_eq!(new.routes[0].route_key, "GET /changed");
    let listed = list::<Deployment>(store, &s, "quickconf1", 0, 10)
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);

    // Deleting a deployment deletes its snapshot.
    let gone = deployment_id.clone();
    store
        .modify(
            &s,
            "quickconf1",
            Box::new(move |t| {
                t.deployments.retain(|d| d.deployment_id != gone);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert!(matches!(
        get_snapshot(store, &s, "quickconf1", &deployment_id).await,
        Err(StoreError::NotFound(Kind::Snapshot))
    ));
    store.delete_api(&s, "quickconf1").await.unwrap();
}

async fn pagination_under_change(store: &dyn Store) {
    let s = Scope::new("555555555555", "us-east-1");
    seed_api(store, &s, "pageconf01").await;
    for name in ["s1", "s2", "s3", "s4", "s5"] {
        add_stage(store, &s, "pageconf01", name).await;
    }
    let names = |p: &super::Page<Stage>| -> Vec<String> {
        p.items
            .iter()
            .map(|(_, st)| st.stage_name.clone())
            .collect()
    };
    let first = list::<Stage>(store, &s, "pageconf01", 0, 2).await.unwrap();
    assert_eq!(names(&first), ["s1", "s2"]);
    assert!(first.more);
    // Between pages: delete one already returned and one not yet returned, add a new one.
    remove_stage(store, &s, "pageconf01", "s1").await;
    remove_stage(store, &s, "pageconf01", "s4").await;
    add_stage(store, &s, "pageconf01", "s6").await;
    let cursor = first.items.last().map(|(seq, _)| *seq).unwrap_or(0);
    let rest = list::<Stage>(store, &s, "pageconf01", cursor, 10)
        .await
        .unwrap();
    assert_eq!(names(&rest), ["s3", "s5", "s6"]);
    assert!(!rest.more);

    for i in 0..5 {
        seed_api(store, &s, &format!("pageapi{i:03}")).await;
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.list_apis(&s, after, 2).await.unwrap();
        seen.extend(page.items.iter().map(|(_, a)| a.api_id.clone()));
        after = page.items.last().map(|(seq, _)| *seq).unwrap_or(after);
        if !page.more {
            break;
        }
    }
    assert_eq!(seen[0], "pageconf01");
    assert_eq!(seen.len(), 6);
}

async fn cascades(store: &dyn Store) {
    let s = Scope::new("666666666666", "us-east-1");
    let before = store.count_records().await.unwrap();
    let mut tree = ApiTree::new(api("cascade001"));
    quick::create(
        &mut tree,
        QuickCreate {
            target: Some("arn:aws:lambda:us-east-1:666666666666:function:f".into()),
            ..Default::default()
        },
        1_600_000_000,
    )
    .unwrap();
    store.create_api(&s, tree).await.unwrap();
    for name in ["a", "b"] {
        add_stage(store, &s, "cascade001", name).await;
    }
    // API + integration + route + 3 stages + deployment + snapshot.
    assert_eq!(store.count_records().await.unwrap(), before + 8);
    store.delete_api(&s, "cascade001").await.unwrap();
    assert_eq!(store.count_records().await.unwrap(), before);
    // A new API with the same id starts empty.
    seed_api(store, &s, "cascade001").await;
    assert!(list::<Stage>(store, &s, "cascade001", 0, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}
