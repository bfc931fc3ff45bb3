//! `GET /_gatehouse/invocations?apiId=…&stage=…[&region=…][&route=…][&status=…]`: the
//! inspector's last invocations of a stage, newest first, each with what its facts say and
//! the routes its deployment considered, in AWS's priority order with their verdicts.
//! `route` keeps those of one route key (`-` for requests no route took); `status` those
//! with one status (`404`) or class (`4xx`). In strict mode only the account that owns the
//! API (or an admin credential) may read them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::Scope;
use gatehouse_dataplane::observe::inspector::Watched;
use gatehouse_dataplane::plane::read::Inspected;
use gatehouse_dataplane::DataPlane;
use gatehouse_http::body::{self, Body};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::StreamBody;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::app::App;
use super::asked::{may_read, owned_api, Asked};
use super::response;
use crate::ops::Reply;

/// Who may not read a stage's invocations.
const DENIED: &str = "Only the account that owns the API may read its invocations";

/// Answers `GET /_gatehouse/invocations`.
pub async fn answer(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let asked = Asked::of(parts)?;
    let (api_id, stage) = (asked.required("apiId")?, asked.required("stage")?);
    let found = app
        .dataplane
        .invocations(asked.get("region"), api_id, stage)
        .await;
    let owner = found.as_ref().ok().map(|(scope, _)| scope.account.as_str());
    may_read(app, parts, owner, DENIED)?;
    let (scope, inspected) = found.map_err(|refusal| ApiError::not_found(refusal.why))?;
    let (route, status) = (asked.get("route"), asked.get("status"));
    let invocations: Vec<Value> = inspected
        .iter()
        .filter(|i| route.is_none_or(|r| i.trace.route_key.as_deref().unwrap_or("-") == r))
        .filter(|i| status.is_none_or(|s| status_matches(s, i.trace.status)))
        .map(rendered)
        .collect();
    let body = json!({
        "apiId": api_id,
        "region": scope.region,
        "stage": stage,
        "invocations": invocations,
    });
    Ok((StatusCode::OK, Reply::json(&body)?))
}

/// Whether `status` is what `wanted` names: a status (`404`) or a class (`4xx`).
fn status_matches(wanted: &str, status: u16) -> bool {
    match wanted.strip_suffix("xx") {
        Some(class) => class == (status / 100).to_string(),
        None => wanted == status.to_string(),
    }
}

/// One invocation as JSON: its trace, and the candidates its deployment considered.
fn rendered(i: &Inspected) -> Value {
    let mut out = serde_json::to_value(&*i.trace).unwrap_or(Value::Null);
    if let Some(map) = out.as_object_mut() {
        map.insert("candidates".into(), json!(i.candidates));
    }
    out
}

/// `GET /_gatehouse/invocations/stream?apiId=…&stage=…[&region=…]`: the stage's invocations
/// as they happen, as server-sent events (`data: {trace}` each, the shape of
/// `/_gatehouse/invocations`'s items; a comment every 15 s keeps the connection busy).
pub async fn stream(app: &App, req: Request<Body>) -> Response<Body> {
    let (parts, _) = req.into_parts();
    match watched(app, &parts).await {
        Ok(events) => {
            let mut resp = Response::new(events);
            let headers = resp.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => response::error(e),
    }
}

/// What a watcher of a stage follows.
struct Watch {
    events: broadcast::Receiver<Watched>,
    dataplane: Arc<DataPlane>,
    scope: Scope,
    api_id: String,
    stage: String,
}

/// The event stream of the stage `parts` names, once its caller may read it.
async fn watched(app: &App, parts: &Parts) -> ApiResult<Body> {
    let asked = Asked::of(parts)?;
    let (api_id, stage) = (asked.required("apiId")?, asked.required("stage")?);
    let scope = owned_api(app, parts, &asked, api_id, DENIED).await?;
    let watch = Watch {
        events: app.dataplane.watch_invocations(),
        dataplane: app.dataplane.clone(),
        scope,
        api_id: api_id.to_string(),
        stage: stage.to_string(),
    };
    let hello = stream::once(async { frame(Bytes::from_static(b": watching\n\n")) });
    Ok(body::boxed(StreamBody::new(
        hello.chain(stream::unfold(watch, next_event)),
    )))
}

/// The next event of `watch`'s stage (or a comment after 15 s of none); none once the
/// inspector is gone.
async fn next_event(mut watch: Watch) -> Option<(Result<Frame<Bytes>, Infallible>, Watch)> {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(15), watch.events.recv()).await;
        let (region, trace) = match got {
            Err(_) => return Some((frame(Bytes::from_static(b": still watching\n\n")), watch)),
            Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Ok(kept)) => kept,
        };
        let ours = *region == *watch.scope.region
            && *trace.api_id == *watch.api_id
            && *trace.stage == *watch.stage;
        if ours {
            let inspected = watch.dataplane.inspected(&watch.scope, trace).await;
            let event = format!("data: {}\n\n", rendered(&inspected));
            return Some((frame(Bytes::from(event)), watch));
        }
    }
}

fn frame(data: Bytes) -> Result<Frame<Bytes>, Infallible> {
    Ok(Frame::data(data))
}
