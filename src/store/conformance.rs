//! The store conformance suite: what every backend must do, run by each backend's tests
//! (and by the PostgreSQL tests once that backend exists). It panics on the first
//! violation, naming it.

use std::collections::BTreeMap;

use super::{Store, StoreError};
use crate::error::ApiError;
use crate::model::api::{ApiInput, ProtocolType};
use crate::model::stage::{StageInput, StageRules};
use crate::model::{Api, Scope, Stage};

/// Stores an HTTP API with id `api_id` in `scope`.
pub async fn seed_api(store: &dyn Store, scope: &Scope, api_id: &str) -> Api {
    let api = Api::create(
        api_id.to_string(),
        ApiInput {
            name: Some(format!("api-{api_id}")),
            protocol_type: Some(ProtocolType::Http),
            ..Default::default()
        },
        1_600_000_000,
    )
    .expect("valid api");
    store
        .create_api(scope, api.clone())
        .await
        .expect("create api");
    api
}

fn stage(name: &str) -> Stage {
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

/// Runs every check on an empty `store`.
pub async fn run(store: &dyn Store) {
    apis(store).await;
    stages(store).await;
    pagination_under_change(store).await;
    cascades(store).await;
}

async fn apis(store: &dyn Store) {
    let a = Scope::new("111111111111", "us-east-1");
    let b = Scope::new("222222222222", "us-east-1");
    let a_west = Scope::new("111111111111", "eu-west-1");
    let api = seed_api(store, &a, "apiconf001").await;
    assert_eq!(store.get_api(&a, "apiconf001").await.unwrap(), api);
    assert!(matches!(
        store.create_api(&a, api.clone()).await,
        Err(StoreError::Conflict)
    ));
    for other in [&b, &a_west] {
        assert!(matches!(
            store.get_api(other, "apiconf001").await,
            Err(StoreError::ApiNotFound)
        ));
        assert!(store
            .list_apis(other, 0, 10)
            .await
            .unwrap()
            .items
            .is_empty());
    }
    let updated = store
        .update_api(
            &a,
            "apiconf001",
            Box::new(|api| {
                api.name = "renamed".into();
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "renamed");
    let refused = store
        .update_api(
            &a,
            "apiconf001",
            Box::new(|api| {
                api.name = "never".into();
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
        store
            .update_api(&b, "apiconf001", Box::new(|_| Ok(())))
            .await,
        Err(StoreError::ApiNotFound)
    ));
    assert!(matches!(
        store.delete_api(&b, "apiconf001").await,
        Err(StoreError::ApiNotFound)
    ));
    store.delete_api(&a, "apiconf001").await.unwrap();
    assert!(matches!(
        store.get_api(&a, "apiconf001").await,
        Err(StoreError::ApiNotFound)
    ));
}

async fn stages(store: &dyn Store) {
    let s = Scope::new("333333333333", "us-east-1");
    let other = Scope::new("444444444444", "us-east-1");
    seed_api(store, &s, "stgconf001").await;
    assert!(matches!(
        store.create_stage(&s, "missing000", stage("dev"), 10).await,
        Err(StoreError::ApiNotFound)
    ));
    store
        .create_stage(&s, "stgconf001", stage("dev"), 10)
        .await
        .unwrap();
    assert!(matches!(
        store.create_stage(&s, "stgconf001", stage("dev"), 10).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.get_stage(&s, "stgconf001", "dev").await.unwrap(),
        stage("dev")
    );
    assert!(matches!(
        store.get_stage(&s, "stgconf001", "nope").await,
        Err(StoreError::StageNotFound)
    ));
    assert!(matches!(
        store.get_stage(&other, "stgconf001", "dev").await,
        Err(StoreError::ApiNotFound)
    ));
    // Quota: the API holds `dev`; a limit of 2 admits one more.
    store
        .create_stage(&s, "stgconf001", stage("second"), 2)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_stage(&s, "stgconf001", stage("third"), 2)
            .await,
        Err(StoreError::StageQuota(2))
    ));
    let changed = store
        .update_stage(
            &s,
            "stgconf001",
            "dev",
            Box::new(|st| {
                st.stage_variables = BTreeMap::from([("k".into(), "v".into())]);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(changed.stage_variables.len(), 1);
    let refused = store
        .update_stage(
            &s,
            "stgconf001",
            "dev",
            Box::new(|st| {
                st.description = Some("never".into());
                Err(ApiError::bad_request("no"))
            }),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Rejected(_))));
    let dev = store.get_stage(&s, "stgconf001", "dev").await.unwrap();
    assert_eq!((dev.description, dev.stage_variables.len()), (None, 1));
    assert!(matches!(
        store
            .update_stage(&s, "stgconf001", "nope", Box::new(|_| Ok(())))
            .await,
        Err(StoreError::StageNotFound)
    ));
    store.delete_stage(&s, "stgconf001", "dev").await.unwrap();
    assert!(matches!(
        store.delete_stage(&s, "stgconf001", "dev").await,
        Err(StoreError::StageNotFound)
    ));
    store.delete_api(&s, "stgconf001").await.unwrap();
}

async fn pagination_under_change(store: &dyn Store) {
    let s = Scope::new("555555555555", "us-east-1");
    seed_api(store, &s, "pageconf01").await;
    for name in ["s1", "s2", "s3", "s4", "s5"] {
        store
            .create_stage(&s, "pageconf01", stage(name), 100)
            .await
            .unwrap();
    }
    let first = store.list_stages(&s, "pageconf01", 0, 2).await.unwrap();
    let names = |p: &super::Page<Stage>| -> Vec<String> {
        p.items
            .iter()
            .map(|(_, st)| st.stage_name.clone())
            .collect()
    };
    assert_eq!(names(&first), ["s1", "s2"]);
    assert!(first.more);
    // Between pages: delete one already returned and one not yet returned, add a new one.
    store.delete_stage(&s, "pageconf01", "s1").await.unwrap();
    store.delete_stage(&s, "pageconf01", "s4").await.unwrap();
    store
        .create_stage(&s, "pageconf01", stage("s6"), 100)
        .await
        .unwrap();
    let cursor = first.items.last().map(|(seq, _)| *seq).unwrap_or(0);
    let rest = store
        .list_stages(&s, "pageconf01", cursor, 10)
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
    seed_api(store, &s, "cascade001").await;
    for name in ["a", "b", "c"] {
        store
            .create_stage(&s, "cascade001", stage(name), 10)
            .await
            .unwrap();
    }
    assert_eq!(store.count_records().await.unwrap(), before + 4);
    store.delete_api(&s, "cascade001").await.unwrap();
    assert_eq!(store.count_records().await.unwrap(), before);
    // A new API with the same id starts with no stages.
    seed_api(store, &s, "cascade001").await;
    assert!(store
        .list_stages(&s, "cascade001", 0, 10)
        .await
        .unwrap()
        .items
        .is_empty());
}
