//! The last minutes of a route's invocations, for the console's charts
//! (`GET /_gatehouse/metrics/recent`): requests by status class and a latency histogram per
//! ten-second slot, over the last five minutes. A slot is reused once its time has passed.

use serde_json::{json, Value};

/// Seconds one slot covers.
pub const SLOT_SECONDS: i64 = 10;

/// Slots kept (five minutes).
pub const SLOTS: usize = 30;

/// Latency buckets: two per power of two of microseconds, from 1 µs to about 70 s.
const BUCKETS: usize = 54;

#[derive(Clone, Copy)]
struct Slot {
    /// Which slot of time it holds (seconds since the epoch / SLOT_SECONDS).
    at: i64,
    by_class: [u32; 5],
    latency: [u32; BUCKETS],
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            at: -1,
            by_class: [0; 5],
            latency: [0; BUCKETS],
        }
    }
}

/// A route's last minutes.
pub struct Recent {
    slots: Box<[Slot; SLOTS]>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            slots: Box::new([Slot::default(); SLOTS]),
        }
    }
}

/// The latency bucket of `micros`: two per power of two.
fn bucket(micros: u64) -> usize {
    let micros = micros.max(1);
    let power = 63 - micros.leading_zeros() as usize;
    let upper_half = power > 0 && (micros >> (power - 1)) & 1 == 1;
    (2 * power + usize::from(upper_half)).min(BUCKETS - 1)
}

/// The microseconds bucket `b`'s invocations took at most.
fn bucket_top(b: usize) -> u64 {
    let (power, upper_half) = (b / 2, b % 2 == 1);
    let base = 1u64 << power;
    match (upper_half, power) {
        (false, 0) => 1,
        (false, _) => base + base / 2,
        (true, _) => 2 * base,
    }
}

impl Recent {
    /// Counts one invocation at `now` (seconds since the epoch) with `status`, taking
    /// `micros`.
    pub fn record(&mut self, now: i64, status: u16, micros: u64) {
        let at = now / SLOT_SECONDS;
        let slot = &mut self.slots[at.rem_euclid(SLOTS as i64) as usize];
        if slot.at != at {
            *slot = Slot {
                at,
                ..Slot::default()
            };
        }
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        slot.by_class[class] += 1;
        slot.latency[bucket(micros)] += 1;
    }

    /// The last five minutes before `now`, oldest slot first: each slot's start (seconds
    /// since the epoch), requests per second by status class, and its p50 and p99 latency
    /// in milliseconds (null when it had none).
    pub fn shown(&self, now: i64) -> Value {
        let newest = now / SLOT_SECONDS;
        let slots: Vec<Value> = (newest - SLOTS as i64 + 1..=newest)
            .map(|at| {
                let slot = &self.slots[at.rem_euclid(SLOTS as i64) as usize];
                let empty = Slot::default();
                let slot = if slot.at == at { slot } else { &empty };
                let rate = |n: u32| f64::from(n) / SLOT_SECONDS as f64;
                json!({
                    "start": at * SLOT_SECONDS,
                    "perSecond": {
                        "1xx": rate(slot.by_class[0]), "2xx": rate(slot.by_class[1]),
                        "3xx": rate(slot.by_class[2]), "4xx": rate(slot.by_class[3]),
                        "5xx": rate(slot.by_class[4]),
                    },
                    "p50Ms": percentile(&slot.latency, 0.50),
                    "p99Ms": percentile(&slot.latency, 0.99),
                })
            })
            .collect();
        Value::Array(slots)
    }
}

/// The `q` quantile of a histogram, in milliseconds (the top of the bucket it falls in).
fn percentile(latency: &[u32; BUCKETS], q: f64) -> Option<f64> {
    let total: u64 = latency.iter().map(|&n| u64::from(n)).sum();
    if total == 0 {
        return None;
    }
    let wanted = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (b, &n) in latency.iter().enumerate() {
        seen += u64::from(n);
        if seen >= wanted {
            return Some(bucket_top(b) as f64 / 1000.0);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values() {
        for micros in [1u64, 2, 3, 5, 7, 100, 1_000, 65_000, 1_000_000] {
            let b = bucket(micros);
            assert!(bucket_top(b) >= micros, "{micros} in {b}");
            assert!(b == 0 || bucket_top(b - 1) <= micros, "{micros} in {b}");
        }
    }

    #[test]
    fn slots_count_by_class_and_give_percentiles() {
        let mut r = Recent::default();
        for i in 0..100 {
            r.record(1_000, if i < 90 { 200 } else { 502 }, 1_000 + i);
        }
        r.record(1_000, 200, 900_000);
        let shown = r.shown(1_005);
        let last = &shown[SLOTS - 1];
        assert_eq!(last["start"], 1_000);
        assert_eq!(last["perSecond"]["2xx"], 9.1);
        assert_eq!(last["perSecond"]["5xx"], 1.0);
        assert_eq!(last["p50Ms"], 1.536);
        assert_eq!(last["p99Ms"], 1.536);
        // Five minutes later the slot has gone.
        let later = r.shown(1_000 + 300);
        assert!(later[SLOTS - 1]["p50Ms"].is_null());
        assert_eq!(later[0]["perSecond"]["2xx"], 0.0);
    }
}
