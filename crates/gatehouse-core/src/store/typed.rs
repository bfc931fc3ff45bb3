//! The store as model types: which model type each kind of the registry is ([`Record`]),
//! which fields of which tree hold it, and roots and children read, listed and changed as
//! records and trees over the document-level [`Store`] trait.

use std::sync::{Arc, Mutex};

use super::kind::{Kind, Record};
use super::tree::{self, Change, Tree};
use super::{Page, Store, StoreError, StoreResult};
use crate::model::api_model::Model;
use crate::model::authorizer::Authorizer;
use crate::model::deployment::{Deployment, Snapshot};
use crate::model::domain_name::{ApiMapping, DomainName, DomainNameTree};
use crate::model::integration::Integration;
use crate::model::responses::{IntegrationResponse, RouteResponse};
use crate::model::route::Route;
use crate::model::routing_rule::RoutingRule;
use crate::model::stack::{Stack, StackTree};
use crate::model::tree::ApiTree;
use crate::model::vpc_link::{VpcLink, VpcLinkTree};
use crate::model::{Api, Scope, Stage};

/// Implements [`Record`] for model types: `Type => Kind, key field`.
macro_rules! records {
    ($($t:ty => $kind:ident, $field:ident;)*) => {
        $(impl Record for $t {
            const KIND: Kind = Kind::$kind;
            fn key(&self) -> &str {
                &self.$field
            }
        })*
    };
}

records! {
    Api => Api, api_id;
    Stage => Stage, stage_name;
    Route => Route, route_id;
    Integration => Integration, integration_id;
    Deployment => Deployment, deployment_id;
    Authorizer => Authorizer, authorizer_id;
    Model => Model, model_id;
    RouteResponse => RouteResponse, route_response_id;
    IntegrationResponse => IntegrationResponse, integration_response_id;
    DomainName => DomainName, domain_name;
    ApiMapping => ApiMapping, api_mapping_id;
    RoutingRule => RoutingRule, routing_rule_id;
    VpcLink => VpcLink, vpc_link_id;
    Stack => Stack, stack_name;
}

super::tree::declare_trees! {
    ApiTree { root: api: Api, children: [stages, routes, integrations, deployments, authorizers, models, route_responses, integration_responses], once: new_snapshots as Snapshot }
    DomainNameTree { root: domain: DomainName, children: [api_mappings, routing_rules] }
    VpcLinkTree { root: vpc_link: VpcLink, children: [] }
    StackTree { root: stack: Stack, children: [] }
}

fn parse_page<T: serde::de::DeserializeOwned>(page: Page<String>) -> StoreResult<Page<T>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|(seq, doc)| Ok((seq, serde_json::from_str(&doc)?)))
            .collect::<StoreResult<Vec<_>>>()?,
        more: page.more,
    })
}

impl<'s> dyn Store + 's {
    /// Stores a new root with everything in `tree`. `Conflict` if its id is taken.
    pub async fn create<T: Tree>(&self, scope: &Scope, tree: &T) -> StoreResult<()> {
        self.insert(scope, tree::to_raw(tree)?).await
    }

    /// One root record, or `NotFound` of its kind.
    pub async fn root<R: Record>(&self, scope: &Scope, id: &str) -> StoreResult<R> {
        let doc = self.get_root(scope, R::KIND, id).await?;
        Ok(serde_json::from_str(&doc)?)
    }

    /// Roots of type `R` after position `after`, at most `limit`.
    pub async fn roots<R: Record>(
        &self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<R>> {
        parse_page(self.list_roots(scope, R::KIND, after, limit).await?)
    }

    /// Runs `change` on root `id`'s tree atomically and returns the tree as stored after it.
    pub async fn change<T: Tree>(
        &self,
        scope: &Scope,
        id: &str,
        change: Change<T>,
    ) -> StoreResult<T> {
        let outcome: tree::Outcome<T> = Arc::new(Mutex::new(None));
        let raw = tree::typed_change(change, outcome.clone());
        self.modify_raw(scope, <T::Root as Record>::KIND, id, raw)
            .await?;
        let after = outcome.lock().ok().and_then(|mut slot| slot.take());
        after.ok_or_else(|| StoreError::Backend("a change left no tree".into()))
    }

    /// Stores a new API with everything in `tree`.
    pub async fn create_api(&self, scope: &Scope, tree: ApiTree) -> StoreResult<()> {
        self.create(scope, &tree).await
    }

    /// One API, or `NotFound(Api)`.
    pub async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        self.root(scope, api_id).await
    }

    /// APIs after position `after`, at most `limit`.
    pub async fn list_apis(
        &self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<Api>> {
        self.roots(scope, after, limit).await
    }

    /// Deletes an API and everything under it.
    pub async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        self.delete_root(scope, Kind::Api, api_id).await
    }

    /// Runs `change` on API `api_id`'s tree atomically and returns the tree after it.
    pub async fn modify(
        &self,
        scope: &Scope,
        api_id: &str,
        change: Change<ApiTree>,
    ) -> StoreResult<ApiTree> {
        self.change(scope, api_id, change).await
    }
}

/// Reads one child record of root `root_id`.
pub async fn get<T: Record>(
    store: &dyn Store,
    scope: &Scope,
    root_id: &str,
    key: &str,
) -> StoreResult<T> {
    let doc = store.get_doc(scope, root_id, T::KIND, key).await?;
    Ok(serde_json::from_str(&doc)?)
}

/// Reads a deployment's snapshot.
pub async fn get_snapshot(
    store: &dyn Store,
    scope: &Scope,
    api_id: &str,
    deployment_id: &str,
) -> StoreResult<Snapshot> {
    let doc = store
        .get_doc(scope, api_id, Kind::Snapshot, deployment_id)
        .await?;
    Ok(serde_json::from_str(&doc)?)
}

/// API `api_id`'s configuration as it is now, in a snapshot's shape (what a deployment made
/// now would freeze).
pub async fn live_snapshot(
    store: &dyn Store,
    scope: &Scope,
    api_id: &str,
) -> StoreResult<Snapshot> {
    let doc = store.get_root(scope, Kind::Api, api_id).await?;
    let api: crate::model::Api = serde_json::from_str(&doc)?;
    Ok(Snapshot {
        routes: every(store, scope, api_id).await?,
        integrations: every(store, scope, api_id).await?,
        authorizers: every(store, scope, api_id).await?,
        cors_configuration: api.cors_configuration,
        route_responses: every(store, scope, api_id).await?,
    })
}

/// Every child record of one kind of API `api_id`.
async fn every<T: Record>(store: &dyn Store, scope: &Scope, api_id: &str) -> StoreResult<Vec<T>> {
    let page = list::<T>(store, scope, api_id, 0, 100_000).await?;
    Ok(page.items.into_iter().map(|(_, x)| x).collect())
}

/// Reads one page of child records of root `root_id`.
pub async fn list<T: Record>(
    store: &dyn Store,
    scope: &Scope,
    root_id: &str,
    after: i64,
    limit: usize,
) -> StoreResult<Page<T>> {
    parse_page(
        store
            .list_docs(scope, root_id, T::KIND, after, limit)
            .await?,
    )
}
