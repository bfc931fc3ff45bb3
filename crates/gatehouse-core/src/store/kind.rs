//! The resource-kind registry: one row per kind of stored record, roots and children alike.
//!
//! A **root** (an API, a custom domain name, a VPC link) is the unit of change: every write
//! under it runs in one store transaction on its whole tree. A **child** lives under one
//! root kind and is keyed within it. The table below drives the stored kind names, the
//! not-found messages, the state file's member names, which records a tree loads, what a
//! delete takes with it, and the render cache's slots (a kind's slot is its position).
//! Which model type each kind is, and which tree holds it, is declared in
//! [`super::typed`]. Adding a kind: a row here, two lines there, its model file.

use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{StoreError, StoreResult};

/// One row of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The name stored in the database (`stage`).
    pub name: &'static str,
    /// The root kind it lives under; `None` for a root.
    pub parent: Option<Kind>,
    /// Its record's key member on the wire and in the state file (`stageName`); empty for
    /// records whose key is not in the document (snapshots, keyed by their deployment).
    pub key: &'static str,
    /// How AWS names it in `Invalid {noun} identifier specified …`.
    pub noun: &'static str,
    /// The state file's member: the list of roots (`apis`) or, in a root's entry, the list
    /// (or, for records without a key member, the map by key) of its children (`stages`).
    pub file_member: &'static str,
    /// For a root: the member of its state-file entry that holds the root record (`api`).
    pub record_member: &'static str,
    /// Whether a root's tree loads it for a change (snapshots are only ever written once).
    pub loaded: bool,
    /// Deleted together with the record of this kind that has the same key.
    pub goes_with: Option<Kind>,
    /// Whether AWS's not-found text names the record (`Invalid Route identifier specified
    /// ACCOUNT:API:ID`) or stops after the noun (`Invalid stage identifier specified`).
    pub names_id: bool,
}

/// Defines [`Kind`] and the registry from one table.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident => $spec:expr;)*) => {
        /// Every kind of stored record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($(#[$doc])* $kind,)*
        }

        /// The registry, in [`Kind`] order.
        pub const KINDS: &[KindSpec] = &[$($spec,)*];

        impl Kind {
            /// Every kind, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind,)*];
        }
    };
}

const fn root(
    name: &'static str,
    key: &'static str,
    noun: &'static str,
    file: &'static str,
    record: &'static str,
) -> KindSpec {
    KindSpec {
        name,
        parent: None,
        key,
        noun,
        file_member: file,
        record_member: record,
        loaded: true,
        goes_with: None,
        names_id: true,
    }
}

const fn child(
    name: &'static str,
    parent: Kind,
    key: &'static str,
    noun: &'static str,
    file: &'static str,
) -> KindSpec {
    KindSpec {
        name,
        parent: Some(parent),
        key,
        noun,
        file_member: file,
        record_member: "",
        loaded: true,
        goes_with: None,
        names_id: true,
    }
}

kinds! {
    /// An HTTP or WebSocket API (root), keyed by `apiId`.
    Api => root("api", "apiId", "API", "apis", "api");
    /// A stage of an API, keyed by name.
    Stage => KindSpec {
        names_id: false,
        ..child("stage", Kind::Api, "stageName", "stage", "stages")
    };
    /// A route of an API, keyed by id.
    Route => child("route", Kind::Api, "routeId", "Route", "routes");
    /// An integration of an API, keyed by id.
    Integration => child("integration", Kind::Api, "integrationId", "Integration", "integrations");
    /// A deployment's metadata, keyed by id.
    Deployment => child("deployment", Kind::Api, "deploymentId", "Deployment", "deployments");
    /// A deployment's frozen routes and integrations, keyed by deployment id; written once,
    /// never loaded into a tree, deleted with its deployment.
    Snapshot => KindSpec {
        key: "",
        loaded: false,
        goes_with: Some(Kind::Deployment),
        ..child("snapshot", Kind::Api, "", "Deployment", "snapshots")
    };
    /// An authorizer of an API, keyed by id.
    Authorizer => child("authorizer", Kind::Api, "authorizerId", "Authorizer", "authorizers");
    /// A model of an API, keyed by id.
    Model => child("model", Kind::Api, "modelId", "Model", "models");
    /// A route response (of one route of the API), keyed by id.
    RouteResponse => child("routeresponse", Kind::Api, "routeResponseId", "RouteResponse", "routeResponses");
    /// An integration response (of one integration of the API), keyed by id.
    IntegrationResponse => child("integrationresponse", Kind::Api, "integrationResponseId", "IntegrationResponse", "integrationResponses");
    /// A custom domain name (root), keyed by the name itself.
    DomainName => KindSpec {
        names_id: false,
        ..root("domainname", "domainName", "domain name", "domainNames", "domainName")
    };
    /// An API mapping of a custom domain name, keyed by id.
    ApiMapping => child("apimapping", Kind::DomainName, "apiMappingId", "ApiMapping", "apiMappings");
    /// A routing rule of a custom domain name, keyed by id.
    RoutingRule => child("routingrule", Kind::DomainName, "routingRuleId", "RoutingRule", "routingRules");
    /// A VPC link (root), keyed by id.
    VpcLink => root("vpclink", "vpcLinkId", "VpcLink", "vpcLinks", "vpcLink");
    /// A stack applied from a template (root; gatehouse's own record, which no AWS
    /// operation reads), keyed by its name.
    Stack => root("stack", "stackName", "stack", "stacks", "stack");
}

impl Kind {
    /// Its registry row.
    pub const fn spec(self) -> &'static KindSpec {
        &KINDS[self as usize]
    }

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Its slot in per-kind tables (its position in the registry).
    pub const fn slot(self) -> usize {
        self as usize
    }

    /// Whether it is a root.
    pub const fn is_root(self) -> bool {
        self.spec().parent.is_none()
    }

    /// The root kind it lives under (itself for a root).
    pub const fn root(self) -> Kind {
        match self.spec().parent {
            Some(p) => p,
            None => self,
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> StoreResult<Kind> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StoreError::Backend(format!("unknown record kind {s}")))
    }

    /// The child kinds of root `self`, in registry order.
    pub fn children(self) -> impl Iterator<Item = Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(move |k| k.spec().parent == Some(self))
    }

    /// The kinds deleted together with a record of kind `self`.
    pub fn followers(self) -> impl Iterator<Item = Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(move |k| k.spec().goes_with == Some(self))
    }

    /// An SQL list of the stored names of the kinds no tree loads: `'snapshot'` (built
    /// once).
    pub fn unloaded_sql() -> &'static str {
        static SQL: LazyLock<String> = LazyLock::new(|| {
            let names: Vec<String> = Kind::ALL
                .iter()
                .filter(|k| !k.spec().loaded)
                .map(|k| format!("'{}'", k.as_str()))
                .collect();
            if names.is_empty() {
                "''".into()
            } else {
                names.join(", ")
            }
        });
        &SQL
    }
}

/// A stored record with its key in the document: a root, or a child its tree loads.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// Its kind.
    const KIND: Kind;
    /// Its key.
    fn key(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.slot(), i);
            assert_eq!(Kind::parse(k.as_str()).unwrap(), *k);
            if let Some(p) = k.spec().parent {
                assert!(p.is_root(), "{k:?}'s parent is a root");
                assert!(k.spec().record_member.is_empty());
            } else {
                assert!(!k.spec().record_member.is_empty());
            }
            if let Some(g) = k.spec().goes_with {
                assert_eq!(g.root(), k.root(), "{k:?} goes with a kind of its root");
            }
            // Member names are unique among a root's children and the root's own members.
            let siblings: Vec<_> = k.root().children().map(|c| c.spec().file_member).collect();
            let mut unique = siblings.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), siblings.len());
        }
        assert_eq!(Kind::unloaded_sql(), "'snapshot'");
        assert_eq!(Kind::Snapshot.root(), Kind::Api);
        assert_eq!(
            Kind::Deployment.followers().collect::<Vec<_>>(),
            [Kind::Snapshot]
        );
    }
}
