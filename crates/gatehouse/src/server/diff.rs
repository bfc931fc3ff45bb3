//! `GET /_gatehouse/diff?apiId=…&from=…&to=…[&region=…]`: what changed between two
//! deployments of an API (`from` and `to` are deployment ids, or `live` for the
//! configuration as it is now): routes, integrations and authorizers added, removed or
//! changed (with the members that changed), and whether CORS changed. A stage whose
//! deployment differs from `live` has undeployed changes. In strict mode only the account
//! that owns the API (or an admin credential) may ask.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::deployment::Snapshot;
use gatehouse_core::model::snapshot_diff::diff;
use gatehouse_core::model::Scope;
use gatehouse_core::store::{self, StoreError};
use http::request::Parts;
use http::StatusCode;
use serde_json::json;

use super::app::App;
use super::asked::{owned_api, Asked};
use crate::ops::Reply;

/// The name that stands for the live configuration.
const LIVE: &str = "live";

/// Answers `GET /_gatehouse/diff`.
pub async fn answer(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let asked = Asked::of(parts)?;
    let (api_id, from) = (asked.required("apiId")?, asked.required("from")?);
    let to = asked.get("to").unwrap_or(LIVE);
    let denied = "Only the account that owns the API may compare its deployments";
    let scope = owned_api(app, parts, &asked, api_id, denied).await?;
    let old = snapshot(app, &scope, api_id, from).await?;
    let new = snapshot(app, &scope, api_id, to).await?;
    let changes = diff(&old, &new);
    let body = json!({
        "apiId": api_id,
        "from": from,
        "to": to,
        "same": changes.is_empty(),
        "changes": changes,
    });
    Ok((StatusCode::OK, Reply::json(&body)?))
}

/// Deployment `which`'s snapshot, or the live configuration's.
async fn snapshot(app: &App, scope: &Scope, api_id: &str, which: &str) -> ApiResult<Snapshot> {
    let store = app.service.store.as_ref();
    let read = match which {
        LIVE => store::live_snapshot(store, scope, api_id).await,
        id => store::get_snapshot(store, scope, api_id, id).await,
    };
    read.map_err(|e| match e {
        StoreError::NotFound(_) => {
            ApiError::not_found(format!("Unable to find Deployment {which}"))
        }
        other => other.into_api_error(),
    })
}
