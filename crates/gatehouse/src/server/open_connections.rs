//! `GET /_gatehouse/connections?apiId=…&stage=…[&region=…]`: a WebSocket stage's open
//! connections, oldest first, with when each connected and was last active (what
//! GetConnection says of each) and the replica that holds it: this replica's, and on a
//! store several replicas share, each other live replica's (asked at
//! `/_gatehouse/replica/stage-connections` with the store's secret; one that does not answer
//! is named in `unreached`). Send to one or close it through the `@connections` API. In
//! strict mode only the account that owns the API (or an admin credential) may list them.

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::time;
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Value};

use super::app::App;
use super::asked::{owned_api, Asked};
use super::replicas::Replicas;
use crate::ops::Reply;

/// Answers `GET /_gatehouse/connections`.
pub async fn answer(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let asked = Asked::of(parts)?;
    let (api_id, stage) = (asked.required("apiId")?, asked.required("stage")?);
    let denied = "Only the account that owns the API may list its connections";
    let scope = owned_api(app, parts, &asked, api_id, denied).await?;
    let mut connections = held(app, &scope.region, api_id, stage);
    let mut unreached = Vec::new();
    if let Some(replicas) = &app.replicas {
        let enc = |v: &str| {
            percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let path = format!(
            "{PEERS_PATH}?region={}&apiId={}&stage={}",
            enc(&scope.region),
            enc(api_id),
            enc(stage)
        );
        for (tag, answer) in replicas.ask_others(&path).await {
            let listed = answer.and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok());
            match listed {
                Some(theirs) => connections.extend(theirs),
                None => unreached.push(tag),
            }
        }
    }
    connections.sort_by(|a, b| a["connectedAt"].as_str().cmp(&b["connectedAt"].as_str()));
    let body = json!({"apiId": api_id, "region": scope.region, "stage": stage,
                      "connections": connections, "unreached": unreached});
    Ok((StatusCode::OK, Reply::json(&body)?))
}

/// Where replicas ask each other for a stage's connections.
pub const PEERS_PATH: &str = "/_gatehouse/replica/stage-connections";

/// Answers another replica's `GET /_gatehouse/replica/stage-connections`: the connections
/// this replica holds (403 without the store's secret).
pub async fn answer_replica(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    if !Replicas::sent_by_one(app.replicas.as_deref(), &parts.headers) {
        return Err(ApiError::new(ErrorKind::Forbidden, "Forbidden"));
    }
    let asked = Asked::of(parts)?;
    let (region, api_id) = (asked.required("region")?, asked.required("apiId")?);
    let held = held(app, region, api_id, asked.required("stage")?);
    Ok((StatusCode::OK, Reply::json(&held)?))
}

/// The connections of a stage this replica holds.
fn held(app: &App, region: &str, api_id: &str, stage: &str) -> Vec<Value> {
    let replica = app.replicas.as_ref().map_or(0, |r| r.tag());
    let open = app.dataplane.websockets().on_stage(region, api_id, stage);
    open.iter()
        .map(|(info, last_active)| {
            json!({
                "connectionId": info.id,
                "connectedAt": time::rfc3339_millis(info.connected_at),
                "lastActiveAt": time::rfc3339_millis(*last_active),
                "sourceIp": info.source_ip,
                "userAgent": info.user_agent,
                "replica": replica,
            })
        })
        .collect()
}
