//! WebSocket APIs: connections opened on the same URLs as HTTP APIs' invoke URLs, their
//! `$connect`, messages and `$disconnect` run as AWS runs them, and the `@connections`
//! operations on the connections this process holds.
//!
//! [`connect`] answers a handshake (the `$connect` route decides, during the upgrade);
//! [`session`] serves an open connection (route selection by [`select`], integrations by
//! [`integrate`], events by [`events`]) and fires `$disconnect` once it closes; the
//! [`registry`] is what `@connections` reads and reaches.

pub mod authorize;
pub mod connect;
pub mod events;
pub mod handshake;
pub mod ids;
pub mod integrate;
pub mod registry;
pub mod select;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use gatehouse_core::token_bucket::LocalBuckets;

use self::integrate::Integrator;
use self::registry::{Command, Info, Registry, Unreached};
use crate::observe::access_log::AccessLogs;
use crate::observe::inspector::Inspector;
use crate::observe::websocket::WebSocketMetrics;
use crate::routing::resolve::Resolver;
use crate::throttle::{self, Throttle};

/// AWS's limit on `PostToConnection`'s data (the model's `Data` maximum).
pub const MAX_POST: usize = 131_072;

/// A connection's time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Closed after this long without data either way (AWS: 10 minutes).
    pub idle: Duration,
    /// Closed after this long whatever happens (AWS: 2 hours).
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle: Duration::from_secs(600),
            max_duration: Duration::from_secs(7200),
        }
    }
}

/// What connections need while they live: the registry, the stage's deployment, the
/// integrations, the access logs and the metrics.
pub struct Env {
    /// The open connections.
    pub registry: Registry,
    /// Resolves a connection's stage for each message (a redeployment reaches open
    /// connections).
    pub resolver: Arc<Resolver>,
    /// Calls integrations.
    pub integrator: Integrator,
    /// The stages' access logs.
    pub logs: Arc<AccessLogs>,
    /// The invocation inspector (each event is kept as a trace while it records).
    pub inspector: Arc<Inspector>,
    /// The WebSocket metrics.
    pub metrics: WebSocketMetrics,
    /// Idle and maximum-duration limits.
    pub limits: Limits,
    /// Verifies `AWS_IAM` handshakes' signatures (none: such routes answer 403).
    pub iam: Option<Arc<dyn crate::auth::iam::IamCheck>>,
    /// The stage and route throttles (the same as HTTP APIs').
    pub throttle: Arc<Throttle>,
    /// The accounts' new-connection rates.
    pub connects: Connects,
}

/// Each account's limit on new connections per region (AWS's quota: 500 a second).
pub struct Connects {
    limits: throttle::Limits,
    buckets: LocalBuckets,
}

/// Takes a request's tokens from the account's bucket and from the stage's limit for
/// `route_key` (for a connection's `$connect` and each of its messages); `Err` is the
/// gateway's refusal (429, or 500 when shared buckets cannot be read).
pub async fn throttle(
    env: &Env,
    r: &crate::routing::resolve::Resolved,
    region: &str,
    route_key: &str,
) -> Result<(), crate::gateway::Refusal> {
    let owner = throttle::Owner {
        account: &r.account,
        region,
        api_id: &r.api_id,
        route_key,
    };
    let now = std::time::Instant::now();
    match env
        .throttle
        .admit(&r.account_bucket, &r.stage, &owner, now)?
    {
        None => Ok(()),
        Some(shared) => env.throttle.admit_shared(shared).await,
    }
}

impl Connects {
    /// New connections held to `limits` per account and region.
    pub fn new(limits: throttle::Limits) -> Connects {
        Connects {
            limits,
            buckets: LocalBuckets::new(),
        }
    }

    /// Takes a token for a new connection of `account` in `region`; `false` means 429.
    pub fn admit(&self, account: &str, region: &str) -> bool {
        let key = [account, "|", region].concat();
        throttle::admit(&self.buckets, &key, self.limits, std::time::Instant::now())
    }
}

/// Why an `@connections` operation did not reach its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionError {
    /// No such open connection here (closed, never existed, or still in `$connect`).
    Gone,
    /// The data is larger than a post may be.
    TooLarge,
    /// The connection's queue is full.
    Busy,
}

/// Which connections an `@connections` request may reach: those of one API's stage (its
/// endpoint's URL), or any.
#[derive(Debug, Clone, Copy)]
pub enum Reach<'a> {
    /// The connections of `api_id`'s stage `stage`.
    Stage {
        /// The API.
        api_id: &'a str,
        /// The stage.
        stage: &'a str,
    },
    /// Any connection.
    Any,
}

/// The WebSocket data plane.
pub struct WebSockets {
    env: Arc<Env>,
}

impl WebSockets {
    /// WebSockets served with `env`.
    pub fn new(env: Env) -> WebSockets {
        WebSockets { env: Arc::new(env) }
    }

    /// What connections live with.
    pub fn env(&self) -> &Arc<Env> {
        &self.env
    }

    /// The open connection `id`, if `reach` reaches it.
    fn reached(&self, id: &str, reach: Reach<'_>) -> Result<Arc<registry::Live>, ConnectionError> {
        let live = self.env.registry.get(id).ok_or(ConnectionError::Gone)?;
        match reach {
            Reach::Stage { api_id, stage }
                if live.info.api_id != api_id || live.info.stage != stage =>
            {
                Err(ConnectionError::Gone)
            }
            _ => Ok(live),
        }
    }

    /// `PostToConnection`: `data` goes to connection `id` as one message.
    pub fn post(&self, id: &str, reach: Reach<'_>, data: Bytes) -> Result<(), ConnectionError> {
        if data.len() > MAX_POST {
            return Err(ConnectionError::TooLarge);
        }
        self.reached(id, reach)?;
        self.env
            .registry
            .tell(id, Command::Send(data))
            .map_err(unreached)
    }

    /// `GetConnection`: what is known of connection `id`, and when it was last active.
    pub fn get(&self, id: &str, reach: Reach<'_>) -> Result<(Info, i64), ConnectionError> {
        let live = self.reached(id, reach)?;
        Ok((live.info.clone(), live.last_active()))
    }

    /// `DeleteConnection`: connection `id` is closed (and `$disconnect` fires).
    pub fn delete(&self, id: &str, reach: Reach<'_>) -> Result<(), ConnectionError> {
        self.reached(id, reach)?;
        self.env
            .registry
            .tell(id, Command::Close)
            .map_err(unreached)
    }

    /// The connections of `stage` of API `api_id` in `region` this process holds, oldest
    /// first, each with when it was last active.
    pub fn on_stage(&self, region: &str, api_id: &str, stage: &str) -> Vec<(Info, i64)> {
        let open = self.env.registry.on_stage(region, api_id, stage);
        open.iter()
            .map(|l| (l.info.clone(), l.last_active()))
            .collect()
    }

    /// Which replica holds connection `id`.
    pub fn holder(&self, id: &str) -> registry::Holder {
        self.env.registry.holder(id)
    }

    /// The WebSocket metrics, as Prometheus text.
    pub fn render_metrics(&self) -> String {
        self.env.metrics.render(self.env.registry.count())
    }
}

fn unreached(u: Unreached) -> ConnectionError {
    match u {
        Unreached::Gone => ConnectionError::Gone,
        Unreached::Busy => ConnectionError::Busy,
    }
}
