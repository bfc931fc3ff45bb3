//! Stage and route throttling: a token bucket per stage and route key, its rate and burst
//! from the route's `routeSettings`, else the stage's `defaultRouteSettings`, else the
//! account's default (10,000 requests a second, burst 5,000). A limit that is absent is not
//! a limit of 0; a limit of 0 refuses every request, as on AWS.
//!
//! When the store keeps shared buckets (PostgreSQL) and the stage sets a limit for the
//! route, every replica takes from one bucket in the database, exactly (one transaction per
//! request, refilled by the database's clock); the account default is kept per process.

use gatehouse_core::model::stage::{RouteSettings, Stage};
use gatehouse_core::token_bucket::{BucketSpec, LocalBuckets};

/// AWS's default account-level rate (requests a second) per region.
pub const ACCOUNT_RATE: f64 = 10_000.0;
/// AWS's default account-level burst.
pub const ACCOUNT_BURST: f64 = 5_000.0;

/// The (rate, burst) a request to `route_key` on `stage` is held to.
pub fn limits(stage: &Stage, route_key: &str) -> (f64, f64) {
    let route: Option<&RouteSettings> = stage.route_settings.get(route_key);
    let default = &stage.default_route_settings;
    let rate = route
        .and_then(|r| r.throttling_rate_limit)
        .or(default.throttling_rate_limit)
        .unwrap_or(ACCOUNT_RATE);
    let burst = route
        .and_then(|r| r.throttling_burst_limit)
        .or(default.throttling_burst_limit)
        .map(f64::from)
        .unwrap_or(ACCOUNT_BURST);
    (rate, burst)
}

/// Whether the stage sets a limit (rate or burst) for `route_key` at all.
pub fn configured(stage: &Stage, route_key: &str) -> bool {
    let set =
        |r: &RouteSettings| r.throttling_rate_limit.is_some() || r.throttling_burst_limit.is_some();
    stage.route_settings.get(route_key).is_some_and(set) || set(&stage.default_route_settings)
}

/// Takes a token from buckets shared by every replica; `false` means 429.
pub async fn admit_shared(
    buckets: &dyn gatehouse_core::token_bucket::TokenBuckets,
    owner: &str,
    (rate, burst): (f64, f64),
) -> gatehouse_core::error::ApiResult<bool> {
    if rate <= 0.0 || burst <= 0.0 {
        return Ok(false);
    }
    buckets
        .take(
            owner,
            &[BucketSpec {
                name: "route",
                rate,
                burst,
            }],
        )
        .await
}

/// Takes a token for a request; `false` means 429.
pub fn admit(buckets: &LocalBuckets, owner: &str, (rate, burst): (f64, f64)) -> bool {
    if rate <= 0.0 || burst <= 0.0 {
        return false;
    }
    buckets.take_at(
        owner,
        &[BucketSpec {
            name: "route",
            rate,
            burst,
        }],
        std::time::Instant::now(),
    )
}
