//! gatehouse's own endpoints (not AWS operations): health, info, metrics, state reset (also
//! at moto's `/moto-api/reset`, so test suites written for moto's server mode run
//! unchanged), and the stages' access logs.

use gatehouse_core::error::ApiResult;
use gatehouse_core::model::time;
use http::request::Parts;
use http::{Method, StatusCode};

use super::app::App;
use crate::auth::{sigv4, Mode};
use crate::ops::Reply;
use crate::wire;

fn json(status: StatusCode, value: &serde_json::Value) -> ApiResult<(StatusCode, Reply)> {
    Ok((status, Reply::json(value)?))
}

/// Answers moto's endpoint (`POST /moto-api/reset`), or `None` if `parts` names none.
pub async fn moto(app: &App, parts: &Parts) -> Option<ApiResult<(StatusCode, Reply)>> {
    match (&parts.method, parts.uri.path()) {
        (&Method::POST, "/moto-api/reset") => Some(reset(app, parts).await),
        _ => None,
    }
}

/// Answers an admin endpoint (`/_gatehouse/…`), or `None` if `parts` names none.
pub async fn answer(app: &App, parts: &Parts) -> Option<ApiResult<(StatusCode, Reply)>> {
    let (method, path) = (&parts.method, parts.uri.path());
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
            let mut text = app.metrics.render(stored, in_flight, app.started.elapsed());
            text.push_str(&app.dataplane.render_metrics());
            Ok((
                StatusCode::OK,
                Reply {
                    body: Some(text.into()),
                    content_type: "text/plain; version=0.0.4; charset=utf-8",
                },
            ))
        }
        (&Method::POST, "/_gatehouse/reset") => reset(app, parts).await,
        (&Method::GET, p) if p.starts_with("/_gatehouse/console") && app.console => {
            return super::console::answer(p).map(Ok)
        }
        (&Method::GET, "/_gatehouse/explain") => super::explain::answer(app, parts).await,
        (&Method::GET, super::open_connections::PEERS_PATH) => {
            super::open_connections::answer_replica(app, parts).await
        }
        (&Method::GET, "/_gatehouse/connections") => {
            super::open_connections::answer(app, parts).await
        }
        (&Method::GET, "/_gatehouse/diff") => super::diff::answer(app, parts).await,
        (&Method::GET, "/_gatehouse/metrics/recent") => super::recent::answer(app, parts).await,
        (&Method::GET, "/_gatehouse/invocations") => super::inspect::answer(app, parts).await,
        (&Method::GET, p) if p.starts_with("/_gatehouse/access-log/") => {
            return Some(access_log(
                app,
                parts,
                &p["/_gatehouse/access-log/".len()..],
            ))
        }
        _ => return None,
    })
}

/// `POST /_gatehouse/reset[?account=A]` (and moto's `POST /moto-api/reset`): deletes every
/// record (of one account). In strict mode only an admin credential may.
async fn reset(app: &App, parts: &Parts) -> ApiResult<(StatusCode, Reply)> {
    let query = parts.uri.query();
    let signed = sigv4::Request::bodyless(parts);
    app.auth.authorize_admin(&signed, time::now())?;
    let account = wire::parse_query(query)
        .ok()
        .and_then(|q| wire::query_param(&q, "account").map(str::to_string));
    match app.service.store.reset(account.as_deref()).await {
        Ok(()) => json(StatusCode::OK, &serde_json::json!({"status": "ok"})),
        Err(e) => Err(e.into_api_error()),
    }
}

/// `GET /_gatehouse/access-log/{apiId}/{stageName}[?region=R]`: the stage's last 1,000
/// access-log lines as plain text, oldest first. In strict mode the request must be signed
/// by the account that owns the API (or an admin credential).
fn access_log(app: &App, parts: &Parts, rest: &str) -> ApiResult<(StatusCode, Reply)> {
    let (api_id, stage) = rest.split_once('/').unwrap_or((rest, ""));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let (api_id, stage) = (decode(api_id), decode(stage));
    let query = wire::parse_query(parts.uri.query())?;
    let region = wire::query_param(&query, "region")
        .map(str::to_string)
        .unwrap_or_else(|| app.auth.defaults.region.clone());
    let found = app.dataplane.logs().lines(&region, &api_id, &stage);
    let owner = found.as_ref().map(|(account, _)| account.as_str());
    let signed = sigv4::Request::bodyless(parts);
    let denied = "Only the account that owns the API may read its access log";
    app.auth
        .owner_or_admin(&signed, owner, denied, time::now())?;
    let lines = found.map(|(_, lines)| lines).unwrap_or_default();
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Ok((
        StatusCode::OK,
        Reply {
            body: Some(text.into()),
            content_type: "text/plain; charset=utf-8",
        },
    ))
}
