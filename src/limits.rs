//! Protection and test aids applied before an operation runs: AWS-style per-account
//! throttling (token buckets) and fault injection.
//!
//! Throttling follows AWS's documented management-API quotas
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>): 10 requests
//! per second with a burst of 40 per account, and CreateDeployment once every 5 seconds. A
//! throttled call gets 429 `TooManyRequestsException` `{"message":"Too Many Requests"}`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::{ApiError, ErrorKind};
use crate::ops::Operation;

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

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            rate: 10.0,
            burst: 40.0,
            deploy_interval: 5.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, rate: f64, burst: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at = now;
    }
}

/// Per-account token buckets.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    /// (account, bucket name) → bucket.
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
}

impl Throttle {
    /// The buckets `op` takes from: (name, refill per second, burst).
    pub fn buckets(&self, op: Operation) -> Vec<(&'static str, f64, f64)> {
        let c = self.config;
        let mut b = vec![("all", c.rate, c.burst)];
        if op == Operation::CreateDeployment {
            let rate = if c.deploy_interval > 0.0 {
                1.0 / c.deploy_interval
            } else {
                1e9
            };
            b.push(("create-deployment", rate, 1.0));
        }
        b
    }

    /// Buckets for `config`.
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from each of `op`'s [`buckets`](Self::buckets) for `account` at `now`,
    /// or refuses with 429. A refused call takes nothing.
    pub fn check(&self, account: &str, op: Operation, now: Instant) -> Result<(), ApiError> {
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        let wanted = self.buckets(op);
        let mut refilled: Vec<Bucket> = wanted
            .iter()
            .map(|(name, rate, burst)| {
                let mut b = *map.entry((account.to_string(), name)).or_insert(Bucket {
                    tokens: *burst,
                    at: now,
                });
                b.refill(*rate, *burst, now);
                b
            })
            .collect();
        let allowed = refilled.iter().all(|b| b.tokens >= 1.0);
        for ((name, _, _), b) in wanted.iter().zip(refilled.iter_mut()) {
            if allowed {
                b.tokens -= 1.0;
            }
            map.insert((account.to_string(), name), *b);
        }
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(ErrorKind::TooManyRequests, TOO_MANY_REQUESTS))
        }
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer with this error instead of running the operation.
    Fail(ErrorKind),
    /// Wait this long, then run the operation.
    Delay(Duration),
}

/// One fault rule: `OPERATION=ACTION[@RATE][#COUNT]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Operation name as in the AWS model, or `*` for every operation.
    pub operation: String,
    /// What happens.
    pub action: FaultAction,
    /// Probability per matching call (default 1).
    pub rate: f64,
    /// At most this many times (default unlimited).
    pub count: Option<u64>,
    /// The rule as written, for messages.
    pub spec: String,
}

const ERROR_KINDS: &[ErrorKind] = &[
    ErrorKind::BadRequest,
    ErrorKind::AccessDenied,
    ErrorKind::NotFound,
    ErrorKind::Conflict,
    ErrorKind::TooManyRequests,
    ErrorKind::Internal,
    ErrorKind::ServiceUnavailable,
];

impl FaultRule {
    /// Parses `GetStages=TooManyRequestsException@0.3`, `CreateStage=ConflictException#2`,
    /// `GetStage=delay:250ms`, `*=ServiceUnavailableException@0.1`.
    pub fn parse(spec: &str) -> Result<FaultRule, String> {
        let bad = |why: &str| format!("invalid fault rule {spec:?}: {why}");
        let (operation, rest) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected OPERATION=ACTION[@RATE][#COUNT]"))?;
        let operation = operation.trim().to_string();
        if operation != "*" && Operation::from_name(&operation).is_none() {
            return Err(bad(&format!("unknown operation {operation}")));
        }
        let (rest, count) = match rest.split_once('#') {
            Some((r, c)) => (
                r,
                Some(
                    c.parse::<u64>()
                        .map_err(|_| bad("#COUNT must be a whole number"))?,
                ),
            ),
            None => (rest, None),
        };
        let (action, rate) = match rest.split_once('@') {
            Some((a, r)) => (
                a,
                r.parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| bad("@RATE must be a number from 0 to 1"))?,
            ),
            None => (rest, 1.0),
        };
        let action = if let Some(ms) = action.strip_prefix("delay:") {
            let ms = ms.strip_suffix("ms").unwrap_or(ms);
            FaultAction::Delay(Duration::from_millis(
                ms.parse()
                    .map_err(|_| bad("delay:MILLISECONDSms expected"))?,
            ))
        } else {
            let kind = ERROR_KINDS
                .iter()
                .find(|k| k.name() == action)
                .ok_or_else(|| {
                    bad(&format!(
                        "unknown exception {action}; use one of {}",
                        ERROR_KINDS
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            FaultAction::Fail(*kind)
        };
        Ok(FaultRule {
            operation,
            action,
            rate,
            count,
            spec: spec.to_string(),
        })
    }
}

/// The active fault rules, with their remaining counts.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    /// Faults from parsed rules.
    pub fn new(rules: Vec<FaultRule>) -> Faults {
        Faults {
            rules: Mutex::new(rules),
        }
    }

    /// Whether there are no rules (the fast path).
    pub fn is_empty(&self) -> bool {
        self.rules.lock().map(|r| r.is_empty()).unwrap_or(true)
    }

    /// What the first matching rule does to this call of `op`, if any.
    pub fn pick(&self, op: Operation) -> Option<(FaultAction, String)> {
        let mut rules = self.rules.lock().ok()?;
        let name = op.name();
        for rule in rules.iter_mut() {
            if rule.operation != "*" && rule.operation != name {
                continue;
            }
            if rule.count == Some(0) {
                continue;
            }
            if rule.rate < 1.0 && rand::rng().random::<f64>() >= rule.rate {
                continue;
            }
            if let Some(c) = rule.count.as_mut() {
                *c -= 1;
            }
            return Some((rule.action.clone(), rule.spec.clone()));
        }
        None
    }
}

/// The error an injected failure answers with.
pub fn injected(kind: ErrorKind, spec: &str) -> ApiError {
    if kind == ErrorKind::TooManyRequests {
        ApiError::new(kind, TOO_MANY_REQUESTS)
    } else {
        ApiError::new(kind, format!("Injected by gatehouse fault rule {spec}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_the_rate() {
        let t = Throttle::new(ThrottleConfig::default());
        let start = Instant::now();
        let ok = (0..100)
            .filter(|_| t.check("a", Operation::GetStage, start).is_ok())
            .count();
        assert_eq!(ok, 40);
        assert!(
            t.check("b", Operation::GetStage, start).is_ok(),
            "accounts are separate"
        );
        let later = start + Duration::from_millis(500);
        let ok = (0..100)
            .filter(|_| t.check("a", Operation::GetStage, later).is_ok())
            .count();
        assert_eq!(ok, 5, "10 per second refill");
    }

    #[test]
    fn create_deployment_once_every_five_seconds() {
        let t = Throttle::new(ThrottleConfig::default());
        let start = Instant::now();
        assert!(t.check("a", Operation::CreateDeployment, start).is_ok());
        assert!(t
            .check(
                "a",
                Operation::CreateDeployment,
                start + Duration::from_secs(4)
            )
            .is_err());
        assert!(t
            .check(
                "a",
                Operation::CreateDeployment,
                start + Duration::from_secs(5)
            )
            .is_ok());
        // A refused deployment does not spend the account's general tokens.
        let t = Throttle::new(ThrottleConfig {
            burst: 2.0,
            rate: 0.0,
            deploy_interval: 5.0,
        });
        assert!(t.check("a", Operation::CreateDeployment, start).is_ok());
        assert!(t.check("a", Operation::CreateDeployment, start).is_err());
        assert!(t.check("a", Operation::GetStage, start).is_ok());
    }

    #[test]
    fn fault_rules_parse_and_count_down() {
        let r = FaultRule::parse("GetStages=TooManyRequestsException@0.3").unwrap();
        assert_eq!((r.rate, r.count), (0.3, None));
        assert_eq!(r.action, FaultAction::Fail(ErrorKind::TooManyRequests));
        let r = FaultRule::parse("GetStage=delay:250ms#1").unwrap();
        assert_eq!(r.action, FaultAction::Delay(Duration::from_millis(250)));
        for bad in [
            "GetStage",
            "Nope=ConflictException",
            "GetStage=Bogus",
            "GetStage=ConflictException@2",
            "GetStage=ConflictException#x",
        ] {
            assert!(FaultRule::parse(bad).is_err(), "{bad}");
        }
        let f = Faults::new(vec![
            FaultRule::parse("CreateStage=ConflictException#2").unwrap()
        ]);
        assert!(f.pick(Operation::GetStage).is_none());
        assert!(f.pick(Operation::CreateStage).is_some());
        assert!(f.pick(Operation::CreateStage).is_some());
        assert!(f.pick(Operation::CreateStage).is_none());
    }
}
