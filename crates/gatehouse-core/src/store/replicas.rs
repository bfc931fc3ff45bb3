//! Where replicas sharing one store find each other. A WebSocket connection lives in the
//! process that accepted it; an `@connections` request that arrives at another replica is
//! passed to that one. Each replica holds a tag (carried in its connection ids), says where
//! the others reach it, and renews a heartbeat; a replica whose heartbeat is older than the
//! time-to-live is dead, and the tag is free again.

use std::time::Duration;

use async_trait::async_trait;

use crate::store::StoreResult;

/// This replica's place among the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The tag its connection ids carry (1–65535).
    pub tag: u16,
    /// Which start of a replica holds the tag (a random number), so that a replica whose tag
    /// was taken over while it was presumed dead can tell.
    pub incarnation: i64,
    /// The secret every replica of the store shows the others.
    pub secret: String,
}

/// Another live replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its tag.
    pub tag: u16,
    /// Where it is reached (`http://ADDR`).
    pub url: String,
}

/// Where replicas are recorded (the PostgreSQL store; a store used by one process has none).
#[async_trait]
pub trait ReplicaDirectory: Send + Sync {
    /// Records a replica reached at `url` under a tag no live replica holds (live: a
    /// heartbeat within `ttl`).
    async fn join(&self, url: &str, ttl: Duration) -> StoreResult<Membership>;

    /// Renews `me`'s heartbeat: `false` when its tag has been taken over.
    async fn beat(&self, me: &Membership) -> StoreResult<bool>;

    /// The replicas with a heartbeat within `ttl`.
    async fn live(&self, ttl: Duration) -> StoreResult<Vec<Peer>>;

    /// This process's address as the store sees it (`None` over a local socket).
    async fn address_seen(&self) -> StoreResult<Option<std::net::IpAddr>>;

    /// Removes `me` (it is stopping).
    async fn leave(&self, me: &Membership) -> StoreResult<()>;
}
