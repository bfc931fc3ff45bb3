//! Per-account throttling as AWS does it for the management API
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>): 10 requests
//! per second with a burst of 40 per account, and the operations AWS paces on their own
//! ([`PACED`]: CreateDeployment once every 5 seconds, CreateVpcLink every 15, …). A
//! throttled call gets 429 `TooManyRequestsException` `{"message":"Too Many Requests"}`.
//!
//! The buckets are the store's when it shares them among replicas (PostgreSQL), else this
//! process's.

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::store::Store;
use gatehouse_core::token_bucket::{BucketSpec, LocalBuckets, TokenBuckets};

use crate::api::Operation;

/// AWS's message for a throttled call.
pub const TOO_MANY_REQUESTS: &str = "Too Many Requests";

/// Throttling settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleConfig {
    /// Sustained requests per second per account.
    pub rate: f64,
    /// Burst size per account.
    pub burst: f64,
    /// Seconds between CreateDeployment calls per account.
    pub deploy_interval: f64,
}

/// The operations AWS allows once every so many seconds per account, beside the account's
/// bucket: (operation, bucket name, seconds between calls). CreateDeployment's interval is
/// a setting (`--throttle-deploy-interval`); this is its default.
const PACED: &[(Operation, &str, f64)] = &[
    (Operation::CreateDeployment, "create-deployment", 5.0),
    (Operation::CreateVpcLink, "create-vpc-link", 15.0),
    (Operation::DeleteVpcLink, "delete-vpc-link", 30.0),
    (Operation::CreateDomainName, "create-domain-name", 30.0),
    (Operation::UpdateDomainName, "update-domain-name", 30.0),
    (Operation::DeleteDomainName, "delete-domain-name", 30.0),
];

/// Per-account throttling.
#[derive(Debug)]
pub struct Throttle {
    /// The account's bucket, for every call.
    all: [BucketSpec; 1],
    /// For each paced operation: the account's bucket and the operation's.
    paced: Vec<(Operation, [BucketSpec; 2])>,
    local: LocalBuckets,
}

impl Throttle {
    /// Throttling with `config`.
    pub fn new(config: ThrottleConfig) -> Throttle {
        let all = BucketSpec {
            name: "all",
            rate: config.rate,
            burst: config.burst,
        };
        let paced = PACED
            .iter()
            .map(|&(op, name, seconds)| {
                let seconds = if op == Operation::CreateDeployment {
                    config.deploy_interval
                } else {
                    seconds
                };
                let rate = if seconds > 0.0 { 1.0 / seconds } else { 1e9 };
                let own = BucketSpec {
                    name,
                    rate,
                    burst: 1.0,
                };
                (op, [all, own])
            })
            .collect();
        Throttle {
            all: [all],
            paced,
            local: LocalBuckets::new(),
        }
    }

    /// The buckets `op` takes from.
    pub fn buckets(&self, op: Operation) -> &[BucketSpec] {
        self.paced
            .iter()
            .find(|(paced, _)| *paced == op)
            .map_or(&self.all[..], |(_, buckets)| &buckets[..])
    }

    /// Takes a token from each of `op`'s buckets for `account` (the store's buckets when
    /// it shares them, else this process's), or refuses with 429. A refused call takes
    /// nothing.
    pub async fn check(&self, store: &dyn Store, account: &str, op: Operation) -> ApiResult<()> {
        let buckets: &dyn TokenBuckets = match store.shared_buckets() {
            Some(shared) => shared,
            None => &self.local,
        };
        match buckets.take(account, self.buckets(op)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::new(ErrorKind::TooManyRequests, TOO_MANY_REQUESTS)),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn local(t: &Throttle, op: Operation, at: Instant) -> bool {
        t.local.take_at("a", t.buckets(op), at)
    }

    #[test]
    fn create_deployment_once_every_five_seconds() {
        let t = Throttle::new(ThrottleConfig {
            rate: 10.0,
            burst: 40.0,
            deploy_interval: 5.0,
        });
        let start = Instant::now();
        assert!(local(&t, Operation::CreateDeployment, start));
        assert!(!local(
            &t,
            Operation::CreateDeployment,
            start + Duration::from_secs(4)
        ));
        assert!(local(
            &t,
            Operation::CreateDeployment,
            start + Duration::from_secs(5)
        ));
        // A refused deployment does not spend the account's general tokens.
        let t = Throttle::new(ThrottleConfig {
            burst: 2.0,
            rate: 0.0,
            deploy_interval: 5.0,
        });
        assert!(local(&t, Operation::CreateDeployment, start));
        assert!(!local(&t, Operation::CreateDeployment, start));
        assert!(local(&t, Operation::GetStage, start));
    }

    #[test]
    fn vpc_links_are_paced_as_aws_paces_them() {
        let t = Throttle::new(ThrottleConfig {
            rate: 10.0,
            burst: 40.0,
            deploy_interval: 5.0,
        });
        let start = Instant::now();
        assert!(local(&t, Operation::CreateVpcLink, start));
        assert!(!local(
            &t,
            Operation::CreateVpcLink,
            start + Duration::from_secs(14)
        ));
        assert!(local(
            &t,
            Operation::CreateVpcLink,
            start + Duration::from_secs(15)
        ));
        assert!(local(&t, Operation::DeleteVpcLink, start));
        assert!(!local(
            &t,
            Operation::DeleteVpcLink,
            start + Duration::from_secs(29)
        ));
        assert!(local(&t, Operation::GetVpcLinks, start));
    }
}
