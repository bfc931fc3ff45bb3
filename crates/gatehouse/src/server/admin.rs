//! gatehouse's own endpoints (not AWS operations): health, info, metrics, and state reset
//! (also at moto's `/moto-api/reset`, so test suites written for moto's server mode run
//! unchanged).

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use gatehouse_core::error::ApiResult;
use gatehouse_core::model::time;

use super::app::App;
use crate::auth::{sigv4, Mode};
use crate::ops::Reply;
use crate::wire;

/// Whether `path` is one of gatehouse's own endpoints (not counted in request metrics).
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/_gatehouse/") || path.starts_with("/moto-api/")
}

fn json(status: StatusCode, value: &serde_json::Value) -> ApiResult<(StatusCode, Reply)> {
    Ok((status, Reply::json(value)?))
}

/// Answers an admin endpoint, or `None` if `parts` names none.
pub async fn answer(app: &App, parts: &Parts) -> Option<ApiResult<(StatusCode, Reply)>> {
    let (method, path, query) = (&parts.method, parts.uri.path(), parts.uri.query());
    let uptime = app.started.elapsed().as_secs();
    let version = env!("CARGO_PKG_VERSION");
    Some(match (method, path) {
        (&Method::GET, "/_gatehouse/health") => match app.service.store.ping().await {
            Ok(()) => json(
                StatusCode::OK,
                &serde_json::json!({"status": "ok", "store": "ok", "version": version, "uptimeSeconds": uptime}),
            ),
            Err(e) => json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({"status": "unavailable", "store": e.to_string(), "version": version, "uptimeSeconds": uptime}),
            ),
        },
        (&Method::GET, "/_gatehouse/info") => json(
            StatusCode::OK,
            &serde_json::json!({
                "version": version,
                "uptimeSeconds": uptime,
                "store": app.store_kind,
                "auth": match app.auth.mode { Mode::Open => "open", Mode::Strict(_) => "strict" },
                "throttle": app.throttle.is_some(),
                "compat": app.service.config.profile.name(),
                "defaultRegion": app.auth.defaults.region,
                "defaultAccount": app.auth.defaults.account,
            }),
        ),
        (&Method::GET, "/_gatehouse/metrics") => {
            let stored = match app.service.store.stats().await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot count stored records for metrics");
                    None
                }
            };
            let in_flight = app.max_concurrent - app.permits.available_permits();
            let text = app.metrics.render(stored, in_flight, app.started.elapsed());
            Ok((
                StatusCode::OK,
                Reply {
                    body: Some(text.into()),
                    content_type: "text/plain; version=0.0.4; charset=utf-8",
                },
            ))
        }
        (&Method::POST, "/_gatehouse/reset") | (&Method::POST, "/moto-api/reset") => {
            let signed = sigv4::Request {
                method: method.as_str(),
                path,
                query,
                headers: &parts.headers,
                body: b"",
            };
            if let Err(e) = app.auth.authorize_admin(&signed, time::now()) {
                return Some(Err(e));
            }
            let account = wire::parse_query(query)
                .ok()
                .and_then(|q| wire::query_param(&q, "account").map(str::to_string));
            match app.service.store.reset(account.as_deref()).await {
                Ok(()) => json(StatusCode::OK, &serde_json::json!({"status": "ok"})),
                Err(e) => Err(e.into_api_error()),
            }
        }
        _ => return None,
    })
}
