//! Token buckets: the management API's per-account throttling takes from them, and the data
//! plane's per-route limits will too.
//!
//! A bucket holds up to `burst` tokens and refills at `rate` tokens a second; a call takes
//! one token from each bucket it names, all or none. [`LocalBuckets`] keeps them in the
//! process; a store may keep them for every process that uses it
//! (`Store::shared_buckets`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;

use crate::error::ApiResult;

/// One bucket a call takes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSpec {
    /// Its name, unique per owner (`all`, `create-deployment`).
    pub name: &'static str,
    /// Tokens added per second.
    pub rate: f64,
    /// Most tokens held (and held at first use).
    pub burst: f64,
}

/// Where token buckets are kept.
#[async_trait]
pub trait TokenBuckets: Send + Sync {
    /// Takes one token from each of `owner`'s `buckets` at once: `true` if every one had a
    /// token; `false` (and nothing taken) if any was empty. Fails only when the buckets'
    /// keeper (a database) does.
    async fn take(&self, owner: &str, buckets: &[BucketSpec]) -> ApiResult<bool>;
}

/// One bucket: up to `burst` tokens, refilled at `rate` a second.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket of `burst` tokens at `now`.
    pub fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    /// Refills the bucket to `now` and takes a token: `false` (and nothing taken) when it
    /// has none.
    pub fn take(&mut self, rate: f64, burst: f64, now: Instant) -> bool {
        self.refill(rate, burst, now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }

    fn refill(&mut self, rate: f64, burst: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = now;
    }
}

/// Buckets kept in this process.
#[derive(Debug, Default)]
pub struct LocalBuckets {
    /// owner → (bucket name, bucket); an owner's key is allocated once, at first use.
    buckets: Mutex<HashMap<String, Held, foldhash::fast::RandomState>>,
}

/// An owner's buckets, by name.
type Held = Vec<(&'static str, Bucket)>;

impl LocalBuckets {
    /// Empty buckets (each starts full at first use).
    pub fn new() -> LocalBuckets {
        LocalBuckets::default()
    }

    /// [`TokenBuckets::take`] at time `now`.
    pub fn take_at(&self, owner: &str, buckets: &[BucketSpec], now: Instant) -> bool {
        let Ok(mut map) = self.buckets.lock() else {
            return true;
        };
        let held = match map.get_mut(owner) {
            Some(held) => held,
            None => map.entry(owner.to_string()).or_default(),
        };
        let mut allowed = true;
        for spec in buckets {
            let at = match held.iter().position(|(name, _)| *name == spec.name) {
                Some(at) => at,
                None => {
                    held.push((spec.name, Bucket::full(spec.burst, now)));
                    held.len() - 1
                }
            };
            let b = &mut held[at].1;
            b.refill(spec.rate, spec.burst, now);
            allowed &= b.tokens >= 1.0;
        }
        if allowed {
            for (_, b) in held
                .iter_mut()
                .filter(|(name, _)| buckets.iter().any(|s| s.name == *name))
            {
                b.tokens -= 1.0;
            }
        }
        allowed
    }
}

#[async_trait]
impl TokenBuckets for LocalBuckets {
    async fn take(&self, owner: &str, buckets: &[BucketSpec]) -> ApiResult<bool> {
        Ok(self.take_at(owner, buckets, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const ALL: BucketSpec = BucketSpec {
        name: "all",
        rate: 10.0,
        burst: 40.0,
    };

    #[test]
    fn a_bucket_allows_the_burst_then_the_rate() {
        let b = LocalBuckets::new();
        let start = Instant::now();
        let ok = (0..100).filter(|_| b.take_at("a", &[ALL], start)).count();
        assert_eq!(ok, 40);
        assert!(b.take_at("b", &[ALL], start), "owners are separate");
        let later = start + Duration::from_millis(500);
        let ok = (0..100).filter(|_| b.take_at("a", &[ALL], later)).count();
        assert_eq!(ok, 5, "10 per second refill");
    }

    #[test]
    fn a_refused_call_takes_from_no_bucket() {
        let b = LocalBuckets::new();
        let start = Instant::now();
        let slow = BucketSpec {
            name: "slow",
            rate: 0.2,
            burst: 1.0,
        };
        let all = BucketSpec {
            name: "all",
            rate: 0.0,
            burst: 2.0,
        };
        assert!(b.take_at("a", &[all, slow], start));
        assert!(!b.take_at("a", &[all, slow], start));
        assert!(b.take_at("a", &[all], start), "`all` kept its token");
    }
}
