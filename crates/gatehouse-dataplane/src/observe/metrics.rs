//! Invocation metrics per API, stage and route, in the Prometheus text format: requests by
//! status class, and the sums and counts of response and integration latencies; and each
//! route's last minutes ([`Recent`]) for the console's charts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::recent::Recent;
use crate::context::Facts;

#[derive(Default)]
struct Counters {
    by_class: [u64; 5],
    latency_ms: u64,
    integration_ms: u64,
    integrations: u64,
    recent: Recent,
}

/// apiId → stage → routeKey → counters (nested, so that counting an invocation allocates
/// only the first time a series is seen).
type Series = BTreeMap<String, BTreeMap<String, BTreeMap<String, Counters>>>;

/// Invocation counters per API, stage and route.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts one invocation, which took `micros`.
    pub fn record(&self, facts: &Facts, micros: u64) {
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        let stage = if facts.stage.is_empty() {
            "-"
        } else {
            &facts.stage
        };
        let route = facts.route_key.as_deref().unwrap_or("-");
        // An API that was not found is `-` (a request naming ids at random makes no series).
        let api = if facts.api_id.is_empty() {
            "-"
        } else {
            &facts.api_id
        };
        // Each level's key is copied only when the series is new.
        let stages = match series.get_mut(api) {
            Some(stages) => stages,
            None => series.entry(api.to_string()).or_default(),
        };
        let routes = match stages.get_mut(stage) {
            Some(routes) => routes,
            None => stages.entry(stage.to_string()).or_default(),
        };
        let c = match routes.get_mut(route) {
            Some(c) => c,
            None => routes.entry(route.to_string()).or_default(),
        };
        let class = usize::from(facts.status / 100).clamp(1, 5) - 1;
        c.by_class[class] += 1;
        c.latency_ms += facts.response_latency_ms;
        if let Some(l) = facts.integration_latency_ms {
            c.integration_ms += l;
            c.integrations += 1;
        }
        c.recent.record(facts.time, facts.status, micros);
    }

    /// The last minutes of each route of `stage` of API `api_id` that has had invocations
    /// (`-`: requests no route took), as of `now` (seconds since the epoch).
    pub fn recent(&self, api_id: &str, stage: &str, now: i64) -> Map<String, Value> {
        let Ok(series) = self.series.lock() else {
            return Map::new();
        };
        let routes = series.get(api_id).and_then(|stages| stages.get(stage));
        routes
            .into_iter()
            .flatten()
            .map(|(route, c)| (route.clone(), c.recent.shown(now)))
            .collect()
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(nested) = self.series.lock() else {
            return out;
        };
        let series: Vec<((&String, &String, &String), &Counters)> = nested
            .iter()
            .flat_map(|(api, stages)| {
                stages.iter().flat_map(move |(stage, routes)| {
                    routes
                        .iter()
                        .map(move |(route, c)| ((api, stage, route), c))
                })
            })
            .collect();
        out.push_str("# HELP gatehouse_invocations_total Invoke requests by API, stage, route and status class.\n# TYPE gatehouse_invocations_total counter\n");
        for ((api, stage, route), c) in series.iter() {
            for (i, n) in c.by_class.iter().enumerate().filter(|(_, n)| **n > 0) {
                let _ = writeln!(
                    out,
                    "gatehouse_invocations_total{{api=\"{}\",stage=\"{}\",route=\"{}\",status=\"{}xx\"}} {n}",
                    escape(api), escape(stage), escape(route), i + 1
                );
            }
        }
        for (name, help, pick) in [
            (
                "gatehouse_invocation_latency_seconds",
                "Time from request to response.",
                0,
            ),
            (
                "gatehouse_integration_latency_seconds",
                "Time the integration took.",
                1,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
            for ((api, stage, route), c) in series.iter() {
                let (sum, count) = if pick == 0 {
                    (c.latency_ms, c.by_class.iter().sum::<u64>())
                } else {
                    (c.integration_ms, c.integrations)
                };
                let labels = format!(
                    "api=\"{}\",stage=\"{}\",route=\"{}\"",
                    escape(api),
                    escape(stage),
                    escape(route)
                );
                let _ = writeln!(out, "{name}_sum{{{labels}}} {}", sum as f64 / 1000.0);
                let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
            }
        }
        out
    }
}
