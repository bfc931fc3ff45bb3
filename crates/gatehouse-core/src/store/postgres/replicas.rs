//! The replicas sharing the database (`replicas`, `replica_secret`): joining takes a free
//! tag under an advisory lock, heartbeats and liveness go by the database's clock, so the
//! replicas' own clocks do not matter.

use std::time::Duration;

use async_trait::async_trait;

use super::PostgresStore;
use crate::store::replicas::{Membership, Peer, ReplicaDirectory};
use crate::store::{StoreError, StoreResult};

/// Advisory lock key for joining ("gatehrep" in ASCII).
const JOIN_LOCK: i64 = 0x6761_7465_6872_6570;

/// Rows of replicas dead this long are removed when another joins.
const FORGET_AFTER_SECS: f64 = 86_400.0;

/// A new secret: 32 random bytes as hex.
fn new_secret() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl ReplicaDirectory for PostgresStore {
    async fn join(&self, url: &str, ttl: Duration) -> StoreResult<Membership> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&JOIN_LOCK])
            .await?;
        tx.execute(
            "INSERT INTO replica_secret (secret) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&new_secret()],
        )
        .await?;
        let secret: String = tx
            .query_one("SELECT secret FROM replica_secret", &[])
            .await?
            .get(0);
        let taken: Vec<i32> = tx
            .query(
                "SELECT tag FROM replicas
                 WHERE beat_at > clock_timestamp() - make_interval(secs => $1)",
                &[&ttl.as_secs_f64()],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if taken.len() >= usize::from(u16::MAX) {
            return Err(StoreError::Backend("no replica tag is free".into()));
        }
        let tag = loop {
            let tag = rand::random_range(1..=u16::MAX);
            if !taken.contains(&i32::from(tag)) {
                break tag;
            }
        };
        let incarnation: i64 = rand::random();
        tx.execute(
            "INSERT INTO replicas (tag, incarnation, url, beat_at)
             VALUES ($1, $2, $3, clock_timestamp())
             ON CONFLICT (tag) DO UPDATE
             SET incarnation = EXCLUDED.incarnation, url = EXCLUDED.url, beat_at = EXCLUDED.beat_at",
            &[&i32::from(tag), &incarnation, &url],
        )
        .await?;
        tx.execute(
            "DELETE FROM replicas WHERE beat_at < clock_timestamp() - make_interval(secs => $1)",
            &[&FORGET_AFTER_SECS],
        )
        .await?;
        tx.commit().await?;
        Ok(Membership {
            tag,
            incarnation,
            secret,
        })
    }

    async fn beat(&self, me: &Membership) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let n = client
            .execute(
                "UPDATE replicas SET beat_at = clock_timestamp()
                 WHERE tag = $1 AND incarnation = $2",
                &[&i32::from(me.tag), &me.incarnation],
            )
            .await?;
        Ok(n == 1)
    }

    async fn live(&self, ttl: Duration) -> StoreResult<Vec<Peer>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT tag, url FROM replicas
                 WHERE beat_at > clock_timestamp() - make_interval(secs => $1)",
                &[&ttl.as_secs_f64()],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let tag: i32 = r.get(0);
                Some(Peer {
                    tag: u16::try_from(tag).ok()?,
                    url: r.get(1),
                })
            })
            .collect())
    }

    async fn address_seen(&self) -> StoreResult<Option<std::net::IpAddr>> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT host(inet_client_addr())", &[])
            .await?;
        let host: Option<String> = row.get(0);
        Ok(host.and_then(|h| h.parse().ok()))
    }

    async fn leave(&self, me: &Membership) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM replicas WHERE tag = $1 AND incarnation = $2",
                &[&i32::from(me.tag), &me.incarnation],
            )
            .await?;
        Ok(())
    }
}
