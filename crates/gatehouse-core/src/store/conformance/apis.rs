//! APIs and the records under them: scoping, children, deployments and their snapshots,
//! pagination while records change, cascades.

use std::collections::BTreeMap;

use super::super::{get, get_snapshot, list, Kind, Store, StoreError};
use super::{add_stage, api, quick_tree, remove_stage, seed_api, stage};
use crate::error::ApiError;
use crate::model::deployment::Deployment;
use crate::model::quick::{self, QuickCreate};
use crate::model::route::{Route, RouteInput};
use crate::model::tree::ApiTree;
use crate::model::{Scope, Stage};

pub async fn apis(store: &dyn Store) {
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

pub async fn children(store: &dyn Store) {
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

pub async fn deployments_and_snapshots(store: &dyn Store) {
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

pub async fn pagination_under_change(store: &dyn Store) {
    let s = Scope::new("555555555555", "us-east-1");
    seed_api(store, &s, "pageconf01").await;
    for name in ["s1", "s2", "s3", "s4", "s5"] {
        add_stage(store, &s, "pageconf01", name).await;
    }
    let names = |p: &super::super::Page<Stage>| -> Vec<String> {
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

pub async fn cascades(store: &dyn Store) {
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
