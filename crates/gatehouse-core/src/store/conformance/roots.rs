//! Roots other than APIs: domain names with their API mappings, and VPC links.

use std::collections::BTreeMap;

use super::super::tree;
use super::super::{get, list, Kind, Store, StoreError, Tree};
use super::seed_api;
use crate::compat::Profile;
use crate::error::ApiError;
use crate::model::domain_name::{
    ApiMapping, DomainName, DomainNameConfiguration, DomainNameInput, DomainNameTree,
};
use crate::model::routing_rule::{InvokeApi, RoutingRule, RoutingRuleAction, RoutingRuleInput};
use crate::model::vpc_link::{VpcLink, VpcLinkInput, VpcLinkTree};
use crate::model::{Scope, Stage};

fn domain(name: &str) -> DomainNameTree {
    DomainNameTree::with_root(
        DomainName::create(
            DomainNameInput {
                domain_name: Some(name.into()),
                domain_name_configurations: Some(vec![DomainNameConfiguration {
                    certificate_arn: Some(
                        "arn:aws:acm:us-east-1:123456789012:certificate/conform".into(),
                    ),
                    ..Default::default()
                }]),
                tags: Some(BTreeMap::new()),
                ..Default::default()
            },
            "us-east-1",
            1_600_000_000,
            Profile::Aws,
        )
        .expect("valid domain name"),
    )
}

fn rule(id: &str, priority: i32) -> RoutingRule {
    RoutingRule::build(
        id.into(),
        format!("arn:aws:apigateway:us-east-1:101010101010:/domainnames/api.example.com/routingrules/{id}"),
        RoutingRuleInput {
            priority: Some(priority),
            conditions: Some(Vec::new()),
            actions: Some(vec![RoutingRuleAction {
                invoke_api: Some(InvokeApi {
                    api_id: "apiconf001".into(),
                    stage: "dev".into(),
                    strip_base_path: false,
                }),
            }]),
        },
    )
    .expect("a valid routing rule")
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
pub async fn other_roots(store: &dyn Store) {
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
    let link = VpcLinkTree::with_root(
        VpcLink::create(
            "shared0001".into(),
            VpcLinkInput {
                name: Some("link".into()),
                subnet_ids: Some(vec!["subnet-0a1b2c3d".into()]),
                ..Default::default()
            },
            1_600_000_000,
            Profile::Aws,
        )
        .expect("a valid VPC link"),
    );
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
    // An invoke URL finds an API by region and id alone.
    assert_eq!(
        store
            .find_root(&s.region, Kind::Api, "shared0001")
            .await
            .unwrap(),
        Some(s.account.clone())
    );
    assert_eq!(
        store
            .find_root(&s.region, Kind::Api, "nosuchapi0")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_root("xx-nowhere-1", Kind::Api, "shared0001")
            .await
            .unwrap(),
        None
    );
    // An invoke URL's path form finds it by id alone, in every region that holds one.
    assert_eq!(
        store.locate_root(Kind::Api, "shared0001").await.unwrap(),
        std::slice::from_ref(&s)
    );
    let west = Scope::new("202020202020", "eu-west-1");
    seed_api(store, &west, "shared0001").await;
    assert_eq!(
        store.locate_root(Kind::Api, "shared0001").await.unwrap(),
        [s.clone(), west.clone()]
    );
    assert!(store
        .locate_root(Kind::Api, "nosuchapi0")
        .await
        .unwrap()
        .is_empty());
    store
        .delete_root(&west, Kind::Api, "shared0001")
        .await
        .unwrap();

    // A change to a domain name is its own unit: children, refusal, not-found.
    let after: DomainNameTree = store
        .change(
            &s,
            "api.example.com",
            Box::new(|t: &mut DomainNameTree| {
                t.api_mappings.push(mapping("map001", ""));
                t.api_mappings.push(mapping("map002", "v1"));
                t.routing_rules.push(rule("rule01", 7));
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (after.api_mappings.len(), after.routing_rules.len()),
        (2, 1)
    );
    assert_eq!(
        get::<RoutingRule>(store, &s, "api.example.com", "rule01")
            .await
            .unwrap(),
        rule("rule01", 7)
    );
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
    assert_eq!(store.count_records().await.unwrap(), before + 7);

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
        .load(dumped.clone(), super::super::LoadMode::Overwrite)
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
