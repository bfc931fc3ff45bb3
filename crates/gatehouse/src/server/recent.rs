//! `GET /_gatehouse/metrics/recent?apiId=…&stage=…[&region=…]`: each route's last five
//! minutes on this replica, in ten-second slots (requests per second by status class, p50
//! and p99 latency), from the counters `/_gatehouse/metrics` keeps; the console draws them.
//! In strict mode only the account that owns the API (or an admin credential) may read them.

use gatehouse_core::error::ApiResult;
use http::request::Parts;
use http::StatusCode;
use serde_json::json;

use super::app::App;
use super::asked::{owned_api, Asked};
use crate::ops::Reply;

/// Answers `GET /_gatehouse/metrics/recent`.
pub async fn answer(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let asked = Asked::of(parts)?;
    let (api_id, stage) = (asked.required("apiId")?, asked.required("stage")?);
    let denied = "Only the account that owns the API may read its metrics";
    let scope = owned_api(app, parts, &asked, api_id, denied).await?;
    let routes = app.dataplane.recent(api_id, stage);
    let body = json!({
        "apiId": api_id,
        "region": scope.region,
        "stage": stage,
        "slotSeconds": gatehouse_dataplane::observe::recent::SLOT_SECONDS,
        "routes": routes,
    });
    Ok((StatusCode::OK, Reply::json(&body)?))
}
