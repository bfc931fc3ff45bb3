//! Replicas on one PostgreSQL store. Each joins at start (a tag its connection ids carry, and
//! the URL the others reach it at), renews a heartbeat every [`BEAT`] and leaves when it
//! stops. An `@connections` request for a connection another replica holds is passed to that
//! replica over HTTP — `/_gatehouse/replica/connections/{id}`, with the store's replica
//! secret, the caller's account and the stage the request addressed — and its answer is
//! relayed. A replica that cannot be reached, or whose heartbeat is older than [`TTL`], holds
//! nothing: its connections are gone (410).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gatehouse_core::store::replicas::Membership;
use gatehouse_core::store::SharedStore;
use gatehouse_http::client::HttpClient;
use http::{Method, Request, Response};

/// How often a replica renews its heartbeat.
pub const BEAT: Duration = Duration::from_secs(2);
/// A replica whose heartbeat is older than this is dead.
pub const TTL: Duration = Duration::from_secs(10);
/// How long a passed request may take before the replica counts as unreachable.
const FORWARD_DEADLINE: Duration = Duration::from_secs(5);
/// How long the list of live replicas is reused before it is read again.
const PEERS_FRESH: Duration = Duration::from_secs(1);
/// A tag missing from the list reads it again, at most this often.
const PEERS_RETRY: Duration = Duration::from_millis(100);

/// The path replicas pass `@connections` requests to.
pub const PATH: &str = "/_gatehouse/replica/connections/";
/// The header that carries the store's replica secret.
pub const SECRET: &str = "x-gatehouse-replica-secret";
/// The header that carries the account of the caller (strict mode).
pub const ACCOUNT: &str = "x-gatehouse-caller-account";
/// The header that carries the stage the request addressed (`{apiId}/{stage}`).
pub const STAGE: &str = "x-gatehouse-stage";

/// What a passed request carries besides its method, id and body.
pub struct Passed<'a> {
    /// The caller's account (strict mode), checked by the replica that holds the connection.
    pub account: Option<&'a str>,
    /// The stage the request addressed (`None`: any).
    pub stage: Option<(&'a str, &'a str)>,
}

/// The other replicas as last read.
struct Peers {
    read_at: Option<Instant>,
    urls: HashMap<u16, String>,
}

/// This replica among the others.
pub struct Replicas {
    store: SharedStore,
    me: Membership,
    peers: tokio::sync::Mutex<Peers>,
    client: HttpClient,
    left: AtomicBool,
}

impl Replicas {
    /// Joins the replicas of `store` (none when the store is used by one process only),
    /// reached at `url` or, without one, at `bound`; starts the heartbeat.
    pub async fn join(
        store: &SharedStore,
        url: Option<&str>,
        bound: SocketAddr,
    ) -> Result<Option<Arc<Replicas>>, String> {
        let Some(directory) = store.replicas() else {
            return Ok(None);
        };
        let url = match url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => reached_at(store, bound).await,
        };
        let me = directory
            .join(&url, TTL)
            .await
            .map_err(|e| format!("cannot join the other replicas: {}", e.into_api_error()))?;
        tracing::info!(tag = me.tag, url = %url, "joined the replicas on the store");
        let replicas = Arc::new(Replicas {
            store: store.clone(),
            me,
            peers: tokio::sync::Mutex::new(Peers {
                read_at: None,
                urls: HashMap::new(),
            }),
            client: HttpClient::new(gatehouse_dataplane::websocket::MAX_POST * 2),
            left: AtomicBool::new(false),
        });
        tokio::spawn(heartbeat(Arc::downgrade(&replicas)));
        Ok(Some(replicas))
    }

    /// The tag this replica's connection ids carry.
    pub fn tag(&self) -> u16 {
        self.me.tag
    }

    /// Whether `given` is the store's replica secret (compared in constant time).
    pub fn is_secret(&self, given: &[u8]) -> bool {
        let secret = self.me.secret.as_bytes();
        given.len() == secret.len()
            && given
                .iter()
                .zip(secret)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Leaves the replicas (the server is stopping).
    pub async fn leave(&self) {
        self.left.store(true, Ordering::Relaxed);
        if let Some(directory) = self.store.replicas() {
            if let Err(e) = directory.leave(&self.me).await {
                tracing::warn!(error = %e.into_api_error(), "could not leave the replicas");
            }
        }
    }

    /// Passes an `@connections` request to the replica tagged `tag`; `None` when no live
    /// replica has the tag or it cannot be reached (its connections are gone).
    pub async fn pass(
        &self,
        tag: u16,
        method: &Method,
        id: &str,
        passed: Passed<'_>,
        body: Bytes,
    ) -> Option<Response<Bytes>> {
        let url = self.url_of(tag).await?;
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
        let mut req = self.to_replica(method.clone(), format!("{url}{PATH}{encoded}"));
        if let Some(account) = passed.account {
            req = req.header(ACCOUNT, account);
        }
        if let Some((api_id, stage)) = passed.stage {
            req = req.header(STAGE, format!("{api_id}/{stage}"));
        }
        let req = req.body(gatehouse_http::body::full(body)).ok()?;
        match self.client.call(req, FORWARD_DEADLINE).await {
            Ok(resp) => Some(resp),
            Err(e) => {
                tracing::warn!(tag, url = %url, error = ?e, "a replica could not be reached: its connections are gone");
                None
            }
        }
    }

    /// Asks every other live replica for `path_and_query` (one of gatehouse's own GETs
    /// between replicas, with the store's secret): each one's tag and answer body, `None`
    /// for one that could not be reached or refused.
    pub async fn ask_others(&self, path_and_query: &str) -> Vec<(u16, Option<Bytes>)> {
        let others: Vec<(u16, String)> = {
            let mut peers = self.peers.lock().await;
            self.refresh(&mut peers, false).await;
            let urls = peers.urls.iter();
            urls.filter(|(tag, _)| **tag != self.me.tag)
                .map(|(tag, url)| (*tag, url.clone()))
                .collect()
        };
        let asks = others
            .into_iter()
            .map(|(tag, url)| async move { (tag, self.ask(&url, path_and_query).await) });
        futures_util::future::join_all(asks).await
    }

    /// The answer body of the replica at `url` to a GET of `path_and_query`.
    async fn ask(&self, url: &str, path_and_query: &str) -> Option<Bytes> {
        let req = self
            .to_replica(Method::GET, format!("{url}{path_and_query}"))
            .body(gatehouse_http::body::empty())
            .ok()?;
        let resp = match self.client.call(req, FORWARD_DEADLINE).await {
            Ok(resp) if resp.status().is_success() => resp,
            answered => {
                tracing::warn!(url = %url, answer = ?answered.map(|r| r.status()), "a replica did not answer");
                return None;
            }
        };
        Some(resp.into_body())
    }

    /// A request to another replica at `url`, carrying the store's secret.
    fn to_replica(&self, method: Method, url: String) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(url)
            .header(SECRET, &self.me.secret)
    }

    /// The URL of the live replica tagged `tag`.
    async fn url_of(&self, tag: u16) -> Option<String> {
        let mut peers = self.peers.lock().await;
        let missing = !peers.urls.contains_key(&tag);
        self.refresh(&mut peers, missing).await;
        peers.urls.get(&tag).cloned()
    }

    /// Reads the live replicas again when the list is older than [`PEERS_FRESH`], or (a tag
    /// being `missing` from it) older than [`PEERS_RETRY`].
    async fn refresh(&self, peers: &mut Peers, missing: bool) {
        let age = peers.read_at.map(|at| at.elapsed());
        let stale = age.is_none_or(|a| a > PEERS_FRESH);
        let retry = missing && age.is_none_or(|a| a > PEERS_RETRY);
        if !(stale || retry) {
            return;
        }
        let Some(directory) = self.store.replicas() else {
            return;
        };
        match directory.live(TTL).await {
            Ok(live) => {
                peers.urls = live.into_iter().map(|p| (p.tag, p.url)).collect();
                peers.read_at = Some(Instant::now());
            }
            Err(e) => {
                tracing::warn!(error = %e.into_api_error(), "could not read the live replicas");
            }
        }
    }

    /// Whether `headers` show the store's replica secret (a request from another replica).
    pub fn sent_by_one(replicas: Option<&Replicas>, headers: &http::HeaderMap) -> bool {
        let secret = headers
            .get(SECRET)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        replicas.is_some_and(|r| r.is_secret(secret))
    }
}

/// Renews the heartbeat every [`BEAT`] until the replica leaves or is dropped.
async fn heartbeat(replicas: Weak<Replicas>) {
    let mut tick = tokio::time::interval(BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(r) = replicas.upgrade() else { return };
        if r.left.load(Ordering::Relaxed) {
            return;
        }
        let Some(directory) = r.store.replicas() else {
            return;
        };
        match directory.beat(&r.me).await {
            Ok(true) => {}
            Ok(false) => tracing::error!(
                tag = r.me.tag,
                "this replica was presumed dead and its tag taken by another: requests for its connections now go there"
            ),
            Err(e) => tracing::warn!(error = %e.into_api_error(), "could not renew this replica's heartbeat"),
        }
    }
}

/// Where the others reach a replica listening on `bound`: that address, or for an
/// unspecified one the address the store sees this process at (loopback if none).
async fn reached_at(store: &SharedStore, bound: SocketAddr) -> String {
    let mut addr = bound;
    if addr.ip().is_unspecified() {
        let seen = match store.replicas() {
            Some(d) => d.address_seen().await.ok().flatten(),
            None => None,
        };
        addr.set_ip(seen.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()));
    }
    format!("http://{addr}")
}
