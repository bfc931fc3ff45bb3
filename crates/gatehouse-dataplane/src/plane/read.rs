//! What the server asks of the data plane besides serving a request: its access logs and
//! metrics, each route's last minutes, the WebSocket connections, which stage a custom
//! domain or an API names, why a request would match the route it does, and the inspector's
//! traces with the routes their deployment considered.

use std::sync::Arc;

use gatehouse_core::model::{time, Scope};

use super::DataPlane;
use crate::gateway::Refusal;
use crate::observe::access_log::AccessLogs;
use crate::observe::inspector::{self, Trace};
use crate::routing::explain::{Candidate, Explanation};
use crate::routing::resolve::Resolved;
use crate::routing::router::Router;
use crate::routing::target::{Entry, Target};
use crate::websocket::WebSockets;

/// What [`DataPlane::explain`] found: the API and stage, their deployment's routes, and
/// what those make of the request.
pub struct Explained {
    /// The API and stage.
    pub resolved: Arc<Resolved>,
    /// The deployment's routes.
    pub router: Arc<Router>,
    /// The router's choice and why.
    pub explanation: Explanation,
}

/// One recorded invocation and the routes its deployment considered (none when the
/// deployment cannot be read any more).
pub struct Inspected {
    /// The trace.
    pub trace: Arc<Trace>,
    /// Every route, in AWS's priority order, with its verdict.
    pub candidates: Option<Vec<Candidate>>,
}

impl DataPlane {
    /// The access logs.
    pub fn logs(&self) -> &AccessLogs {
        &self.observe.logs
    }

    /// The invocation metrics, the WebSocket metrics and the inspector's memory, as
    /// Prometheus text.
    pub fn render_metrics(&self) -> String {
        let mut text = self.observe.metrics.render();
        text.push_str(&self.websockets.render_metrics());
        let (traces, bytes) = self.observe.inspector.held();
        text.push_str(&format!(
            "# HELP gatehouse_inspector_traces Invocations the inspector keeps.\n\
             # TYPE gatehouse_inspector_traces gauge\n\
             gatehouse_inspector_traces {traces}\n\
             # HELP gatehouse_inspector_bytes Bytes the inspector's traces take, roughly.\n\
             # TYPE gatehouse_inspector_bytes gauge\n\
             gatehouse_inspector_bytes {bytes}\n"
        ));
        text
    }

    /// The last five minutes of each route of `stage` of API `api_id`, for charts (see
    /// [`crate::observe::recent`]).
    pub fn recent(&self, api_id: &str, stage: &str) -> serde_json::Map<String, serde_json::Value> {
        self.observe.metrics.recent(api_id, stage, time::now())
    }

    /// The WebSocket connections this process holds (`@connections`).
    pub fn websockets(&self) -> &WebSockets {
        &self.websockets
    }

    /// The invoke target of a request to a custom domain name, if `host` is one (see
    /// [`crate::routing::domains::Domains::target`]).
    pub async fn domain_target(&self, host: &str, path: &str) -> Option<Target> {
        self.domains.target(host, path).await
    }

    /// The protocol of API `api_id` (in `region`, when the request names one), if there is
    /// one.
    pub async fn protocol_of(
        &self,
        region: Option<&str>,
        api_id: &str,
    ) -> Option<gatehouse_core::model::api::ProtocolType> {
        self.routing.protocol(region, api_id).await
    }

    /// What the deployment of `stage` of API `api_id` (found in `region` when one is named,
    /// else wherever it is) does with a `method` request for `path` (after the stage), and
    /// why; or why nothing serves it. Nothing is invoked.
    pub async fn explain(
        &self,
        region: Option<&str>,
        api_id: &str,
        stage: &str,
        method: &str,
        path: &str,
    ) -> Result<Explained, Refusal> {
        let target = Target {
            api_id: api_id.to_string(),
            region: region.map(str::to_string),
            path: path.to_string(),
            domain: None,
            entry: Entry::Mapped {
                stage: stage.to_string(),
            },
        };
        let resolved = self.routing.resolve(&target, path).await?;
        let router = match resolved.router() {
            Some(router) => router,
            None => self
                .routing
                .router_of(&resolved)
                .await
                .map_err(|e| e.found_in(&resolved.account, &resolved.region))?,
        };
        let explanation = router.explain(method, path);
        Ok(Explained {
            resolved,
            router,
            explanation,
        })
    }

    /// The account and region that hold API `api_id` (in `region` when one is named, else
    /// wherever it is, as invoke URLs find it).
    pub async fn scope_of(&self, region: Option<&str>, api_id: &str) -> Result<Scope, Refusal> {
        self.routing.scope_of(region, api_id).await
    }

    /// The inspector's traces of `stage` of API `api_id` (found in `region` when one is
    /// named, else wherever it is), newest first, each with the candidates its deployment
    /// considered (worked out now, from that deployment), and the API's owner.
    pub async fn invocations(
        &self,
        region: Option<&str>,
        api_id: &str,
        stage: &str,
    ) -> Result<(Scope, Vec<Inspected>), Refusal> {
        let scope = self.routing.scope_of(region, api_id).await?;
        let traces = self.observe.inspector.traces(&scope.region, api_id, stage);
        let mut inspected = Vec::with_capacity(traces.len());
        for trace in traces {
            inspected.push(self.inspected(&scope, trace).await);
        }
        Ok((scope, inspected))
    }

    /// `trace` (of an API `scope` holds) with the candidates its deployment considered.
    pub async fn inspected(&self, scope: &Scope, trace: Arc<Trace>) -> Inspected {
        let router = match &trace.deployment_id {
            Some(d) => self.routing.router(scope, &trace.api_id, d).await.ok(),
            None => None,
        };
        let candidates = router.map(|r| {
            r.explain(trace.method.as_str(), trace.route_path())
                .candidates
        });
        Inspected { trace, candidates }
    }

    /// Every trace the inspector keeps from now on, with its region.
    pub fn watch_invocations(&self) -> tokio::sync::broadcast::Receiver<inspector::Watched> {
        self.observe.inspector.watch()
    }
}
