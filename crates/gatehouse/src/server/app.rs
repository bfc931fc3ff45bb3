//! The application state every request handler reads, built from checked settings and an
//! opened store.

use std::sync::Arc;
use std::time::Instant;

use gatehouse_core::store::SharedStore;
use gatehouse_dataplane::observe::access_log::AccessLogs;
use gatehouse_dataplane::{Config as DataPlaneConfig, DataPlane};
use tokio::sync::Semaphore;

use super::metrics::Metrics;
use super::replicas::Replicas;
use crate::auth::{Authenticator, Defaults};
use crate::guards::faults::Faults;
use crate::guards::throttle::Throttle;
use crate::ops::{Service, ServiceConfig};
use crate::settings::{Checked, Settings, Timeouts};

/// Which fronts a listener admits (see [`super::front`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// Every front: the main listener.
    All,
    /// Invoke URLs only (`--invoke-listen`).
    InvokeOnly,
}

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    /// Operations and their store.
    pub service: Service,
    /// Resolves (and in strict mode verifies) each caller.
    pub auth: Arc<Authenticator>,
    /// Body size limit in bytes.
    pub body_limit: usize,
    /// Per-account throttling, when on.
    pub throttle: Option<Arc<Throttle>>,
    /// Injected faults.
    pub faults: Arc<Faults>,
    /// Requests that may run at once; the rest are shed with 503.
    pub permits: Arc<Semaphore>,
    /// The number of permits.
    pub max_concurrent: usize,
    /// Connection timeouts.
    pub timeouts: Timeouts,
    /// When the server was built (for uptime).
    pub started: Instant,
    /// `memory`, `sqlite` or `postgres`.
    pub store_kind: &'static str,
    /// Request counters and latency histograms.
    pub metrics: Arc<Metrics>,
    /// Serves invoke URLs.
    pub dataplane: Arc<DataPlane>,
    /// Which fronts this listener admits.
    pub listener: Listener,
    /// Whether the web console is served (`--console on`).
    pub console: bool,
    /// The other replicas on the store (PostgreSQL), through which their connections are
    /// reached.
    pub replicas: Option<Arc<Replicas>>,
}

impl App {
    /// Builds the application state from settings, what [`Settings::check`] made of them,
    /// an opened store and, on a store several replicas share, this one's membership.
    pub fn new(
        settings: &Settings,
        checked: Checked,
        store: SharedStore,
        replicas: Option<Arc<Replicas>>,
    ) -> App {
        let defaults = Defaults {
            account: settings.default_account.clone(),
            region: settings.default_region.clone(),
        };
        let auth = Arc::new(Authenticator::new(checked.mode, defaults));
        let dataplane = DataPlane::new(
            store.clone(),
            DataPlaneConfig {
                default_region: settings.default_region.clone(),
                lambda_endpoint: settings.lambda_endpoint.clone(),
                lambda_endpoints: settings.lambda_endpoints.clone(),
                iam: Some(auth.clone()),
                account_limits: gatehouse_dataplane::throttle::Limits {
                    rate: settings.invoke_rate_limit,
                    burst: settings.invoke_burst_limit,
                },
                websocket_limits: checked.websocket,
                websocket_connect_limits: gatehouse_dataplane::throttle::Limits {
                    rate: settings.websocket_connect_rate_limit,
                    burst: settings.websocket_connect_rate_limit,
                },
                replica_tag: replicas.as_ref().map_or(0, |r| r.tag()),
                inspector: gatehouse_dataplane::observe::inspector::Limits {
                    per_stage: settings.inspector_records,
                    memory: settings.inspector_memory.saturating_mul(1024 * 1024),
                    body_bytes: match settings.record_bodies {
                        crate::settings::Switch::On => settings.inspector_body_bytes,
                        crate::settings::Switch::Off => 0,
                    },
                },
            },
            AccessLogs::with_sink(checked.access_log),
        );
        App {
            listener: Listener::All,
            console: settings.console == crate::settings::Switch::On,
            replicas,
            dataplane: Arc::new(dataplane),
            service: Service::new(
                store,
                ServiceConfig {
                    max_stages_per_api: settings.max_stages_per_api as usize,
                    profile: settings.compat,
                    api_endpoint_template: settings.api_endpoint_template.clone(),
                },
            ),
            auth,
            body_limit: settings.body_limit,
            throttle: checked.throttle.map(|c| Arc::new(Throttle::new(c))),
            faults: Arc::new(Faults::new(checked.faults)),
            permits: Arc::new(Semaphore::new(settings.max_concurrent_requests)),
            max_concurrent: settings.max_concurrent_requests,
            timeouts: checked.timeouts,
            started: Instant::now(),
            store_kind: settings.store.kind(),
            metrics: Arc::new(Metrics::default()),
        }
    }
}
