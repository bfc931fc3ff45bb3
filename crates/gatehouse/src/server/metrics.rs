//! Counters and latency histograms, rendered in the Prometheus text format at
//! `GET /_gatehouse/metrics`.
//!
//! Every operation gets its cells when the server is built (an array per operation, indexed
//! by outcome), so recording a request is a few relaxed atomic adds and takes no lock.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::api::Operation;
use gatehouse_core::error::ErrorKind;
use gatehouse_core::store::Stored;

/// Outcome cells per operation: success, then one per error kind.
const OUTCOMES: usize = ErrorKind::ALL.len() + 1;

/// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

fn outcome_index(kind: Option<ErrorKind>) -> usize {
    match kind {
        None => 0,
        Some(k) => ErrorKind::ALL
            .iter()
            .position(|x| *x == k)
            .map_or(0, |i| i + 1),
    }
}

fn outcome_name(i: usize) -> &'static str {
    match i.checked_sub(1) {
        None => "Success",
        Some(k) => ErrorKind::ALL.get(k).map_or("", |k| k.name()),
    }
}

#[derive(Default)]
struct Cells {
    outcomes: [AtomicU64; OUTCOMES],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Why a request was refused before it reached an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Over the concurrency cap (503).
    LoadShed,
    /// The body was over the limit (413).
    BodyLimit,
    /// Authentication failed (strict mode, or a malformed Authorization header).
    Auth,
    /// No operation is bound to the method and path.
    UnknownOperation,
}

impl Rejection {
    const ALL: [Rejection; 4] = [
        Rejection::LoadShed,
        Rejection::BodyLimit,
        Rejection::Auth,
        Rejection::UnknownOperation,
    ];

    fn name(self) -> &'static str {
        match self {
            Rejection::LoadShed => "load_shed",
            Rejection::BodyLimit => "body_limit",
            Rejection::Auth => "auth",
            Rejection::UnknownOperation => "unknown_operation",
        }
    }
}

/// The server's metrics.
pub struct Metrics {
    /// One set of cells per operation, in [`Operation::ALL`] order, then one for requests
    /// that reached no operation.
    ops: Vec<Cells>,
    throttled: AtomicU64,
    rejected: [AtomicU64; 4],
    store_errors: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            ops: (0..=Operation::ALL.len())
                .map(|_| Cells::default())
                .collect(),
            throttled: AtomicU64::new(0),
            rejected: Default::default(),
            store_errors: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records one answered request.
    pub fn record(&self, op: Option<Operation>, error: Option<ErrorKind>, latency: Duration) {
        let i = op.map_or(Operation::ALL.len(), Operation::index);
        let Some(cells) = self.ops.get(i) else {
            return;
        };
        cells.outcomes[outcome_index(error)].fetch_add(1, Ordering::Relaxed);
        // One cell per request: the first bucket that holds it (beyond the last bucket only
        // `count` grows); the exposition sums them into Prometheus' cumulative buckets.
        let secs = latency.as_secs_f64();
        if let Some(b) = BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .and_then(|i| cells.buckets.get(i))
        {
            b.fetch_add(1, Ordering::Relaxed);
        }
        cells.count.fetch_add(1, Ordering::Relaxed);
        cells
            .sum_micros
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
        match error {
            Some(ErrorKind::TooManyRequests) => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
            }
            Some(ErrorKind::Internal) | Some(ErrorKind::ServiceUnavailable) if op.is_some() => {
                // Operations fail with these only when the store did (or a fault was
                // injected as one).
                self.store_errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Records a request refused before it reached an operation.
    pub fn reject(&self, why: Rejection) {
        if let Some(i) = Rejection::ALL.iter().position(|r| *r == why) {
            self.rejected[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition (format 0.0.4). `in_flight`: requests being handled
    /// now (this one included).
    pub fn render(&self, stored: Option<Stored>, in_flight: usize, uptime: Duration) -> String {
        let mut out = String::with_capacity(8 * 1024);
        self.render_requests(&mut out);
        self.render_durations(&mut out);
        self.render_refusals(&mut out);
        if let Some(s) = stored {
            let apis = ("gatehouse_stored_apis", "APIs in the store.");
            gauge(&mut out, apis, s.apis);
            let stages = ("gatehouse_stored_stages", "Stages in the store.");
            gauge(&mut out, stages, s.stages);
        }
        let flight = (
            "gatehouse_requests_in_flight",
            "Requests being handled now (this scrape included).",
        );
        gauge(&mut out, flight, in_flight as u64);
        let up = (
            "gatehouse_uptime_seconds",
            "Seconds since the server started.",
        );
        gauge(&mut out, up, uptime.as_secs());
        out
    }

    /// `gatehouse_requests_total`, by operation and outcome.
    fn render_requests(&self, out: &mut String) {
        head(
            out,
            "gatehouse_requests_total",
            "counter",
            "Requests answered, by operation and outcome (Success or the exception name).",
        );
        for (i, cells) in self.ops.iter().enumerate() {
            for (o, n) in cells.outcomes.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "gatehouse_requests_total{{operation=\"{}\",outcome=\"{}\"}} {n}",
                        operation_name(i),
                        outcome_name(o)
                    );
                }
            }
        }
    }

    /// `gatehouse_request_duration_seconds`, a histogram per operation.
    fn render_durations(&self, out: &mut String) {
        head(
            out,
            "gatehouse_request_duration_seconds",
            "histogram",
            "Time from receiving a request to answering it, by operation.",
        );
        for (i, cells) in self.ops.iter().enumerate() {
            let count = cells.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let op = operation_name(i);
            let mut cumulative = 0;
            for (b, le) in cells.buckets.iter().zip(BUCKETS) {
                cumulative += b.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "gatehouse_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{le}\"}} {cumulative}"
                );
            }
            // Requests recorded while this ran may show in the buckets but not in `count`.
            let count = count.max(cumulative);
            let sum = cells.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "gatehouse_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {count}\n\
                 gatehouse_request_duration_seconds_sum{{operation=\"{op}\"}} {sum}\n\
                 gatehouse_request_duration_seconds_count{{operation=\"{op}\"}} {count}"
            );
        }
    }

    /// The counters of requests that did not reach (or get through) an operation: throttled,
    /// rejected by reason, failed in the store.
    fn render_refusals(&self, out: &mut String) {
        let throttled = (
            "gatehouse_throttled_requests_total",
            "Requests answered with 429 TooManyRequestsException.",
        );
        counter(out, throttled, self.throttled.load(Ordering::Relaxed));
        head(
            out,
            "gatehouse_rejected_requests_total",
            "counter",
            "Requests refused before reaching an operation, by reason.",
        );
        for (r, n) in Rejection::ALL.iter().zip(&self.rejected) {
            let _ = writeln!(
                out,
                "gatehouse_rejected_requests_total{{reason=\"{}\"}} {}",
                r.name(),
                n.load(Ordering::Relaxed)
            );
        }
        let store = (
            "gatehouse_store_errors_total",
            "Operations that failed because the store failed or was unavailable.",
        );
        counter(out, store, self.store_errors.load(Ordering::Relaxed));
    }
}

/// An operation's name by its index in the operation table.
fn operation_name(i: usize) -> &'static str {
    Operation::ALL.get(i).map_or("none", |o| o.name())
}

/// A metric's `# HELP` and `# TYPE` lines.
fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A counter without labels: its head and its value.
fn counter(out: &mut String, (name, help): (&str, &str), value: u64) {
    head(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A gauge without labels: its head and its value.
fn gauge(out: &mut String, (name, help): (&str, &str), value: u64) {
    head(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_outcome() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(outcome_index(Some(*k)), i + 1);
        }
        assert_eq!(outcome_index(None), 0);
    }

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record(Some(Operation::GetStage), None, Duration::from_micros(300));
        m.record(Some(Operation::GetStage), None, Duration::from_millis(3));
        m.record(
            Some(Operation::GetStage),
            Some(ErrorKind::NotFound),
            Duration::from_micros(100),
        );
        m.reject(Rejection::Auth);
        let text = m.render(Some(Stored { apis: 2, stages: 3 }), 1, Duration::ZERO);
        assert!(
            text.contains("gatehouse_requests_total{operation=\"GetStage\",outcome=\"Success\"} 2")
        );
        assert!(text.contains(
            "gatehouse_requests_total{operation=\"GetStage\",outcome=\"NotFoundException\"} 1"
        ));
        assert!(text.contains(
            "gatehouse_request_duration_seconds_bucket{operation=\"GetStage\",le=\"0.0005\"} 2"
        ));
        assert!(text.contains(
            "gatehouse_request_duration_seconds_bucket{operation=\"GetStage\",le=\"0.005\"} 3"
        ));
        assert!(text.contains("gatehouse_rejected_requests_total{reason=\"auth\"} 1"));
        assert!(text.contains("gatehouse_stored_stages 3"));
    }
}
