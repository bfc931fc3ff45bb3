//! `GET /_gatehouse/explain?apiId=…&stage=…&method=…&path=…[&region=…]`: which route of the
//! stage's deployment a request would match and why, every route listed in AWS's priority
//! order with its verdict; nothing is invoked. The router's own choice
//! ([`gatehouse_dataplane::DataPlane::explain`]). In strict mode only the account that owns the
//! API (or an admin credential) may ask.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_dataplane::plane::read::Explained;
use http::request::Parts;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::app::App;
use super::asked::{may_read, Asked};
use crate::ops::Reply;

/// What a request asks to have explained.
struct Explaining {
    api_id: String,
    stage: String,
    method: String,
    path: String,
    region: Option<String>,
}

/// Answers `GET /_gatehouse/explain`.
pub async fn answer(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let asked = asked(parts)?;
    let found = app
        .dataplane
        .explain(
            asked.region.as_deref(),
            &asked.api_id,
            &asked.stage,
            &asked.method,
            &asked.path,
        )
        .await;
    let owner = match &found {
        Ok(explained) => Some(&*explained.resolved.account),
        Err(refusal) => refusal.found.as_ref().map(|f| &*f.account),
    };
    let denied = "Only the account that owns the API may ask how its stages route";
    may_read(app, parts, owner, denied)?;
    let explained = found.map_err(|refusal| ApiError::not_found(refusal.why))?;
    Ok((StatusCode::OK, Reply::json(&rendered(&asked, &explained))?))
}

/// The request's query, checked.
fn asked(parts: &Parts) -> ApiResult<Explaining> {
    let asked = Asked::of(parts)?;
    let path = asked.get("path").unwrap_or("/");
    Ok(Explaining {
        api_id: asked.required("apiId")?.to_string(),
        stage: asked.required("stage")?.to_string(),
        method: asked.get("method").unwrap_or("GET").to_ascii_uppercase(),
        path: match path.starts_with('/') {
            true => path.to_string(),
            false => format!("/{path}"),
        },
        region: asked.get("region").map(str::to_string),
    })
}

/// The explanation as JSON.
fn rendered(asked: &Explaining, explained: &Explained) -> Value {
    let (r, e) = (&explained.resolved, &explained.explanation);
    let matched = e.matched.as_deref().and_then(|key| {
        let route = explained.router.routes().iter().find(|c| &*c.key == key)?;
        let params: Map<String, Value> = e
            .path_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        Some(json!({
            "routeKey": key,
            "routeId": route.route.route_id,
            "target": route.route.target,
            "authorizationType": route.route.authorization_type,
            "authorizerId": route.route.authorizer_id,
            "pathParameters": params,
        }))
    });
    let mut out = json!({
        "apiId": &*r.api_id,
        "region": &*r.region,
        "stage": &*r.stage_name,
        "deploymentId": r.stage.deployment_id,
        "method": asked.method,
        "path": asked.path,
        "matched": matched,
        "candidates": e.candidates,
    });
    if let (Some(reason), Some(map)) = (&e.reason, out.as_object_mut()) {
        map.insert("reason".into(), Value::String(reason.clone()));
    }
    out
}
