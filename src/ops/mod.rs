//! Every operation gatehouse implements, routed from one table ([`ROUTES`]).
//!
//! Paths are matched on the raw (still percent-encoded) path split on `/`; each label is
//! percent-decoded afterwards, so `%24default` is `$default` and `GET%20%2Fpets` is one label.

use std::sync::{Arc, LazyLock};

use axum::http::{Method, StatusCode};

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::model::Scope;
use crate::store::{SharedStore, StoreError};
use crate::wire;

pub mod api;
pub mod stage;

/// Settings that change what operations do.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Most stages one API may have (AWS's default quota: 10).
    pub max_stages_per_api: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            max_stages_per_api: 10,
        }
    }
}

/// What every operation can reach.
#[derive(Clone)]
pub struct Service {
    /// The store.
    pub store: SharedStore,
    /// Operation settings.
    pub config: Arc<ServiceConfig>,
}

/// The caller, resolved before the operation runs.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The account and region the request acts in.
    pub scope: Scope,
}

impl Ctx {
    /// `{accountId}:{apiId}`, as AWS names an API in messages.
    pub fn api_label(&self, api_id: &str) -> String {
        format!("{}:{api_id}", self.scope.account)
    }

    /// NotFoundException for an API, in AWS's words.
    pub fn api_not_found(&self, api_id: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid API identifier specified {}",
            self.api_label(api_id)
        ))
    }

    /// NotFoundException for a stage.
    pub fn stage_not_found(&self, api_id: &str, stage: &str) -> ApiError {
        ApiError::not_found(format!(
            "Invalid stage identifier specified {}:{stage}",
            self.api_label(api_id)
        ))
    }

    /// Maps a store failure on API `api_id` (and stage `stage`, if any) to the public error.
    pub fn store_error(&self, e: StoreError, api_id: &str, stage: Option<&str>) -> ApiError {
        match e {
            StoreError::ApiNotFound => self.api_not_found(api_id),
            StoreError::StageNotFound => self.stage_not_found(api_id, stage.unwrap_or("")),
            StoreError::Conflict => ApiError::conflict(match stage {
                Some(s) => format!(
                    "Stage {s} already exists for API {}",
                    self.api_label(api_id)
                ),
                None => format!("API {} already exists", self.api_label(api_id)),
            }),
            StoreError::StageQuota(n) => ApiError::bad_request(format!(
                "Unable to create stage: API {} already has the maximum number of stages ({n})",
                self.api_label(api_id)
            )),
            other => other.into_api_error(),
        }
    }
}

/// An operation's input as it came off the wire.
pub struct Input {
    /// Decoded path labels, in path order.
    pub labels: Vec<String>,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// The raw body.
    pub body: axum::body::Bytes,
}

impl Input {
    /// Path label `i`.
    pub fn label(&self, i: usize) -> ApiResult<&str> {
        self.labels
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| ApiError::internal("route table and operation disagree"))
    }
}

/// An operation's success: status and optional JSON body.
#[derive(Debug)]
pub struct Reply {
    /// The model's success code.
    pub status: StatusCode,
    /// JSON body; `None` for 204.
    pub body: Option<String>,
}

impl Reply {
    /// A JSON reply.
    pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult<Reply> {
        Ok(Reply {
            status,
            body: Some(wire::to_json(value)?),
        })
    }

    /// 204 No Content.
    pub fn no_content() -> ApiResult<Reply> {
        Ok(Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
        })
    }
}

/// The operations, named as in the AWS model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// POST /v2/apis
    CreateApi,
    /// GET /v2/apis
    GetApis,
    /// GET /v2/apis/{apiId}
    GetApi,
    /// PATCH /v2/apis/{apiId}
    UpdateApi,
    /// DELETE /v2/apis/{apiId}
    DeleteApi,
    /// POST /v2/apis/{apiId}/stages
    CreateStage,
    /// GET /v2/apis/{apiId}/stages
    GetStages,
    /// GET /v2/apis/{apiId}/stages/{stageName}
    GetStage,
    /// PATCH /v2/apis/{apiId}/stages/{stageName}
    UpdateStage,
    /// DELETE /v2/apis/{apiId}/stages/{stageName}
    DeleteStage,
    /// DELETE /v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}
    DeleteRouteSettings,
    /// DELETE /v2/apis/{apiId}/stages/{stageName}/accesslogsettings
    DeleteAccessLogSettings,
    /// DELETE /v2/apis/{apiId}/stages/{stageName}/cache/authorizers
    ResetAuthorizersCache,
}

/// The route table: method, path template, operation. The one place routes are listed.
pub const ROUTES: &[(Method, &str, Operation)] = &[
    (Method::POST, "/v2/apis", Operation::CreateApi),
    (Method::GET, "/v2/apis", Operation::GetApis),
    (Method::GET, "/v2/apis/{apiId}", Operation::GetApi),
    (Method::PATCH, "/v2/apis/{apiId}", Operation::UpdateApi),
    (Method::DELETE, "/v2/apis/{apiId}", Operation::DeleteApi),
    (
        Method::POST,
        "/v2/apis/{apiId}/stages",
        Operation::CreateStage,
    ),
    (Method::GET, "/v2/apis/{apiId}/stages", Operation::GetStages),
    (
        Method::GET,
        "/v2/apis/{apiId}/stages/{stageName}",
        Operation::GetStage,
    ),
    (
        Method::PATCH,
        "/v2/apis/{apiId}/stages/{stageName}",
        Operation::UpdateStage,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/stages/{stageName}",
        Operation::DeleteStage,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}",
        Operation::DeleteRouteSettings,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/stages/{stageName}/accesslogsettings",
        Operation::DeleteAccessLogSettings,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/stages/{stageName}/cache/authorizers",
        Operation::ResetAuthorizersCache,
    ),
];

/// A route template split into segments: `Some(literal)` or `None` for a label.
type Template = Vec<Option<&'static str>>;

/// The route table with templates split into segments.
static COMPILED: LazyLock<Vec<(Method, Template, Operation)>> = LazyLock::new(|| {
    ROUTES
        .iter()
        .map(|(m, template, op)| {
            let segs = template
                .split('/')
                .skip(1)
                .map(|s| (!s.starts_with('{')).then_some(s))
                .collect();
            (m.clone(), segs, *op)
        })
        .collect()
});

/// Finds the operation for `method` and the raw `path`, with its decoded labels.
pub fn route(method: &Method, path: &str) -> ApiResult<(Operation, Vec<String>)> {
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    for (m, template, op) in COMPILED.iter() {
        if m != method || template.len() != segs.len() {
            continue;
        }
        let matches = template
            .iter()
            .zip(&segs)
            .all(|(t, s)| t.map_or(!s.is_empty(), |lit| lit == *s));
        if matches {
            let labels = template
                .iter()
                .zip(&segs)
                .filter(|(t, _)| t.is_none())
                .map(|(_, s)| wire::decode_label(s))
                .collect::<ApiResult<Vec<_>>>()?;
            return Ok((*op, labels));
        }
    }
    Err(ApiError::new(
        ErrorKind::UnknownOperation,
        format!("No operation matches {method} {path}"),
    ))
}

/// Runs `op`.
pub async fn call(svc: &Service, ctx: &Ctx, op: Operation, input: Input) -> ApiResult<Reply> {
    match op {
        Operation::CreateApi => api::create_api(svc, ctx, input).await,
        Operation::GetApis => api::get_apis(svc, ctx, input).await,
        Operation::GetApi => api::get_api(svc, ctx, input).await,
        Operation::UpdateApi => api::update_api(svc, ctx, input).await,
        Operation::DeleteApi => api::delete_api(svc, ctx, input).await,
        Operation::CreateStage => stage::create_stage(svc, ctx, input).await,
        Operation::GetStages => stage::get_stages(svc, ctx, input).await,
        Operation::GetStage => stage::get_stage(svc, ctx, input).await,
        Operation::UpdateStage => stage::update_stage(svc, ctx, input).await,
        Operation::DeleteStage => stage::delete_stage(svc, ctx, input).await,
        Operation::DeleteRouteSettings => stage::delete_route_settings(svc, ctx, input).await,
        Operation::DeleteAccessLogSettings => {
            stage::delete_access_log_settings(svc, ctx, input).await
        }
        Operation::ResetAuthorizersCache => stage::reset_authorizers_cache(svc, ctx, input).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_on_the_raw_path_and_decodes_labels_after() {
        let (op, labels) = route(
            &Method::DELETE,
            "/v2/apis/abc/stages/%24default/routesettings/GET%20%2Fpets",
        )
        .unwrap();
        assert_eq!(op, Operation::DeleteRouteSettings);
        assert_eq!(labels, ["abc", "$default", "GET /pets"]);
        assert_eq!(
            route(&Method::GET, "/v2/apis/abc/stages/%24default")
                .unwrap()
                .0,
            Operation::GetStage
        );
        assert!(route(&Method::GET, "/v2/apis//stages").is_err());
        assert!(route(&Method::PUT, "/v2/apis").is_err());
        assert!(route(&Method::GET, "/v2/apis/a/b/c/d/e/f").is_err());
    }
}
