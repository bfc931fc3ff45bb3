//! Fault injection (`--fault OPERATION=ACTION[@RATE][#COUNT]`): chosen operations fail or
//! slow down, so clients can test their retry and error paths; the operation does not run.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use gatehouse_core::error::{ApiError, ErrorKind};
use rand::RngExt;

use super::throttle::TOO_MANY_REQUESTS;
use crate::api::Operation;

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

/// The exceptions a fault rule may answer with.
fn injectable() -> impl Iterator<Item = ErrorKind> {
    ErrorKind::ALL.iter().copied().filter(|k| k.injectable())
}

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
            let kind = injectable().find(|k| k.name() == action).ok_or_else(|| {
                bad(&format!(
                    "unknown exception {action}; use one of {}",
                    injectable()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            FaultAction::Fail(kind)
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

impl FromStr for FaultRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FaultRule::parse(s.trim())
    }
}

impl<'de> serde::Deserialize<'de> for FaultRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for FaultRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
