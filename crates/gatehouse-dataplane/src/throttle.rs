//! Throttling, in two layers as on AWS. Every invoke request takes a token from its
//! account's bucket for the region (all APIs together; AWS's default quota is 10,000 requests
//! a second with a burst of 5,000, adjustable like a quota increase), then, when the stage
//! sets a limit for the route (its `routeSettings`, else its `defaultRouteSettings`), from
//! that route's bucket. A limit that is absent is not a limit of 0; a limit of 0 refuses
//! every request, as on AWS.
//!
//! The account bucket is kept per process. When the store keeps shared buckets (PostgreSQL),
//! a route's bucket is one bucket in the database for every replica, exact (one transaction
//! per request, refilled by the database's clock).

use std::sync::Mutex;
use std::time::Instant;

use gatehouse_core::model::stage::{RouteSettings, Stage};
use gatehouse_core::store::SharedStore;
use gatehouse_core::token_bucket::{Bucket, BucketSpec, LocalBuckets};

use crate::gateway::{not_served, refuse, GatewayError, Refusal};

/// The throttle step: the account's bucket, then the route's.
pub struct Throttle {
    store: SharedStore,
    /// Route buckets kept in this process (when the store shares none).
    buckets: LocalBuckets,
    /// The account-level limit per region.
    account: Limits,
}

/// Whose route bucket a request takes from.
pub struct Owner<'a> {
    /// The account that owns the API.
    pub account: &'a str,
    /// The API's region.
    pub region: &'a str,
    /// The API.
    pub api_id: &'a str,
    /// The route's key.
    pub route_key: &'a str,
}

impl Throttle {
    /// A throttle with `account` as the account-level limit, route buckets shared through
    /// `store` when it shares them.
    pub fn new(store: SharedStore, account: Limits) -> Throttle {
        Throttle {
            store,
            buckets: LocalBuckets::new(),
            account,
        }
    }

    /// Takes a token at `now` from the account's bucket (`account_bucket`), then from the
    /// route's when `stage` limits it; a refusal is 429. A route bucket the store shares is
    /// not asked here: what to ask it is returned, for [`Throttle::admit_shared`].
    pub fn admit(
        &self,
        account_bucket: &Held,
        stage: &Stage,
        owner: &Owner<'_>,
        now: Instant,
    ) -> Result<Option<SharedAsk>, Refusal> {
        if !account_bucket.admit(self.account, now) {
            return Err(not_served(
                GatewayError::Throttled,
                "the account's invoke quota is used up (--invoke-rate-limit, --invoke-burst-limit)",
            ));
        }
        let Some(limits) = route_limits(stage, owner.route_key, self.account) else {
            return Ok(None);
        };
        let key = [
            owner.account,
            owner.region,
            owner.api_id,
            &stage.stage_name,
            owner.route_key,
        ]
        .join("|");
        if self.store.shared_buckets().is_some() {
            return Ok(Some(SharedAsk { key, limits }));
        }
        match admit(&self.buckets, &key, limits, now) {
            true => Ok(None),
            false => Err(route_throttled()),
        }
    }

    /// Takes a token from a route bucket every replica shares; a refusal is 429.
    pub async fn admit_shared(&self, ask: SharedAsk) -> Result<(), Refusal> {
        let Some(shared) = self.store.shared_buckets() else {
            return Ok(());
        };
        match admit_shared(shared, &ask.key, ask.limits).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(route_throttled()),
            Err(e) => Err(refuse(GatewayError::Internal, e.message)),
        }
    }
}

/// The refusal of a request over its route's (or stage's) throttling limits.
fn route_throttled() -> Refusal {
    not_served(
        GatewayError::Throttled,
        "over the route's throttling limits (the stage's route settings)",
    )
}

/// A route bucket to ask in the store: its key and limits.
pub struct SharedAsk {
    key: String,
    limits: Limits,
}

/// A rate (requests a second) and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Requests a second, sustained.
    pub rate: f64,
    /// Requests at once.
    pub burst: f64,
}

impl Limits {
    /// Whether these limits refuse every request (a rate or a burst of 0, as on AWS).
    fn refuse_all(self) -> bool {
        self.rate <= 0.0 || self.burst <= 0.0
    }
}

impl Default for Limits {
    /// AWS's default account-level quota per region: 10,000 a second, burst 5,000.
    fn default() -> Self {
        Limits {
            rate: 10_000.0,
            burst: 5_000.0,
        }
    }
}

/// The limits the stage sets for `route_key` (the route's settings, else the stage's
/// defaults; a member neither sets is the account's), or `None` when it sets none.
pub fn route_limits(stage: &Stage, route_key: &str, account: Limits) -> Option<Limits> {
    let route: Option<&RouteSettings> = stage.route_settings.get(route_key);
    let default = &stage.default_route_settings;
    let rate = route
        .and_then(|r| r.throttling_rate_limit)
        .or(default.throttling_rate_limit);
    let burst = route
        .and_then(|r| r.throttling_burst_limit)
        .or(default.throttling_burst_limit)
        .map(f64::from);
    if rate.is_none() && burst.is_none() {
        return None;
    }
    Some(Limits {
        rate: rate.unwrap_or(account.rate),
        burst: burst.unwrap_or(account.burst),
    })
}

fn spec(limits: Limits) -> [BucketSpec; 1] {
    [BucketSpec {
        name: "invoke",
        rate: limits.rate,
        burst: limits.burst,
    }]
}

/// Takes a token from buckets shared by every replica; `false` means 429.
pub async fn admit_shared(
    buckets: &dyn gatehouse_core::token_bucket::TokenBuckets,
    owner: &str,
    limits: Limits,
) -> gatehouse_core::error::ApiResult<bool> {
    if limits.refuse_all() {
        return Ok(false);
    }
    buckets.take(owner, &spec(limits)).await
}

/// A bucket in this process that requests take from through a handle, not a lookup by
/// name: an account's for a region, held by each of the account's resolved stages there.
#[derive(Debug, Default)]
pub struct Held(Mutex<Option<Bucket>>);

impl Held {
    /// Takes a token at `now` (the bucket starts full at first use); `false` means 429.
    pub fn admit(&self, limits: Limits, now: Instant) -> bool {
        if limits.refuse_all() {
            return false;
        }
        let Ok(mut bucket) = self.0.lock() else {
            return true;
        };
        bucket
            .get_or_insert_with(|| Bucket::full(limits.burst, now))
            .take(limits.rate, limits.burst, now)
    }
}

/// Takes a token from `owner`'s bucket in this process at `now`; `false` means 429.
pub fn admit(buckets: &LocalBuckets, owner: &str, limits: Limits, now: Instant) -> bool {
    if limits.refuse_all() {
        return false;
    }
    buckets.take_at(owner, &spec(limits), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_without_limits_leaves_only_the_account_limit() {
        let mut stage: Stage = serde_json::from_value(serde_json::json!({
            "stageName": "s", "created": 0, "lastUpdated": 0, "defaultRouteSettings": {}
        }))
        .unwrap();
        assert_eq!(route_limits(&stage, "GET /x", Limits::default()), None);
        stage.default_route_settings.throttling_burst_limit = Some(0);
        let l = route_limits(&stage, "GET /x", Limits::default()).unwrap();
        assert_eq!((l.rate, l.burst), (10_000.0, 0.0), "a burst of 0 refuses");
        let buckets = LocalBuckets::new();
        assert!(!admit(&buckets, "r", l, Instant::now()));
        assert!(!Held::default().admit(l, Instant::now()));
    }

    #[test]
    fn a_held_bucket_gives_its_burst_then_refills() {
        let limits = Limits {
            rate: 10.0,
            burst: 2.0,
        };
        let (held, t0) = (Held::default(), Instant::now());
        assert!(held.admit(limits, t0) && held.admit(limits, t0));
        assert!(!held.admit(limits, t0));
        assert!(held.admit(limits, t0 + std::time::Duration::from_millis(100)));
    }
}
