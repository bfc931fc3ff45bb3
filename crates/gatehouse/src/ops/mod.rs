//! Every operation gatehouse implements, routed from one table ([`ROUTES`]).
//!
//! Paths are matched on the raw (still percent-encoded) path split on `/`; each label is
//! percent-decoded afterwards, so `%24default` is `$default` and `GET%20%2Fpets` is one label.

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::http::{Method, StatusCode};

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::model::tree::ApiTree;
use crate::model::Scope;
use crate::store::{self, Child, Kind, SharedStore, StoreError};
use crate::wire::{self, page};

pub mod api;
pub mod deployment;
pub mod integration;
pub mod render;
pub mod route;
pub mod stage;
pub mod tags;

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
    /// Wire JSON of stored documents, rendered once each.
    pub renders: Arc<render::RenderCache>,
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

    /// NotFoundException for a child record of `kind` with key `key`.
    pub fn child_not_found(&self, api_id: &str, kind: Kind, key: &str) -> ApiError {
        match kind {
            Kind::Stage => self.stage_not_found(api_id, key),
            Kind::Route => ApiError::not_found(format!(
                "Invalid Route identifier specified {}:{key}",
                self.api_label(api_id)
            )),
            Kind::Integration => ApiError::not_found(format!(
                "Invalid Integration identifier specified {}:{key}",
                self.api_label(api_id)
            )),
            Kind::Deployment | Kind::Snapshot => ApiError::not_found(format!(
                "Invalid Deployment identifier specified {}:{key}",
                self.api_label(api_id)
            )),
        }
    }

    /// Maps a store failure on API `api_id` (and child `key`, if any) to the public error.
    pub fn store_error(&self, e: StoreError, api_id: &str, key: Option<&str>) -> ApiError {
        match e {
            StoreError::ApiNotFound => self.api_not_found(api_id),
            StoreError::NotFound(kind) => self.child_not_found(api_id, kind, key.unwrap_or("")),
            StoreError::Conflict => ApiError::conflict(
                "Unable to complete operation due to concurrent modification. Please try again later.",
            ),
            other => other.into_api_error(),
        }
    }
}

/// The answer to the (astronomically rare) draw of a new random id that is already taken.
pub const ID_TAKEN: &str =
    "Unable to complete operation due to concurrent modification. Please try again later.";

/// Runs `f` on API `api_id`'s tree in one store transaction; returns the tree after it.
pub async fn change(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    f: impl FnOnce(&mut ApiTree) -> ApiResult<()> + Send + 'static,
) -> ApiResult<ApiTree> {
    svc.store
        .modify(&ctx.scope, api_id, Box::new(f))
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))
}

/// Answers Get{Stage,Route,Integration,Deployment}: child `{label 1}` of API `{label 0}`
/// in its wire shape.
pub async fn get_child<T: Child + wire::ToWire>(
    svc: &Service,
    ctx: &Ctx,
    input: &Input,
) -> ApiResult<Reply> {
    let (api_id, key) = (input.label(0)?, input.label(1)?);
    let doc = svc
        .store
        .get_doc(&ctx.scope, api_id, T::KIND, key)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(key)))?;
    Reply::json_text(StatusCode::OK, svc.renders.render::<T>(&doc)?)
}

/// Reads child record `key` of API `api_id`.
pub async fn read<T: Child>(svc: &Service, ctx: &Ctx, api_id: &str, key: &str) -> ApiResult<T> {
    store::get::<T>(svc.store.as_ref(), &ctx.scope, api_id, key)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(key)))
}

/// The page a listing request asks for (`maxResults`, `nextToken`).
pub fn page_request(input: &Input, listing: &str) -> ApiResult<page::PageRequest> {
    page::parse(
        wire::query_param(&input.query, "maxResults"),
        wire::query_param(&input.query, "nextToken"),
        listing,
    )
}

/// The `nextToken` after `found`, if records follow it.
pub fn next_token<T>(listing: &str, found: &store::Page<T>) -> Option<String> {
    match found.items.last() {
        Some((seq, _)) if found.more => Some(page::token(listing, *seq)),
        _ => None,
    }
}

/// Answers a paginated Get{Stages,Routes,Integrations,Deployments}: `{items, nextToken}`.
pub async fn list_children<T>(svc: &Service, ctx: &Ctx, input: &Input) -> ApiResult<Reply>
where
    T: Child + wire::ToWire,
{
    let api_id = input.label(0)?;
    let listing = format!(
        "{}|{}|{}|{api_id}",
        T::KIND.as_str(),
        ctx.scope.account,
        ctx.scope.region
    );
    let req = page_request(input, &listing)?;
    let found = svc
        .store
        .list_docs(&ctx.scope, api_id, T::KIND, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    // `{"items":[...],"nextToken":"..."}` (as wire::ListOut serializes it), from the
    // rendered items.
    let mut body = Vec::with_capacity(64 + found.items.iter().map(|(_, d)| d.len()).sum::<usize>());
    body.extend_from_slice(b"{\"items\":[");
    for (i, (_, doc)) in found.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&svc.renders.render::<T>(doc)?);
    }
    body.push(b']');
    if let Some(token) = next_token(&listing, &found) {
        body.extend_from_slice(b",\"nextToken\":");
        body.extend_from_slice(wire::to_json(&token)?.as_bytes());
    }
    body.push(b'}');
    Reply::json_text(StatusCode::OK, body)
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

/// The media type of every AWS operation's body.
pub const JSON: &str = "application/json";

/// An operation's success: status and optional JSON body.
#[derive(Debug)]
pub struct Reply {
    /// The model's success code.
    pub status: StatusCode,
    /// Body; `None` for 204. Bytes, so a cached rendering is sent without a copy.
    pub body: Option<Bytes>,
    /// The body's media type.
    pub content_type: &'static str,
}

impl Reply {
    /// A JSON reply.
    pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> ApiResult<Reply> {
        Ok(Reply {
            status,
            body: Some(wire::to_json(value)?.into()),
            content_type: JSON,
        })
    }

    /// A reply whose JSON body is already rendered.
    pub fn json_text(status: StatusCode, body: impl Into<Bytes>) -> ApiResult<Reply> {
        Ok(Reply {
            status,
            body: Some(body.into()),
            content_type: JSON,
        })
    }

    /// 204 No Content.
    pub fn no_content() -> ApiResult<Reply> {
        Ok(Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            content_type: JSON,
        })
    }
}

/// Defines [`Operation`] with its AWS model names.
macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// The operations, named as in the AWS model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$doc])* $name,)*
        }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// The operation's name in the AWS model (`GetStage`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// The operation with AWS model name `name`.
            pub fn from_name(name: &str) -> Option<Operation> {
                Self::ALL.iter().copied().find(|op| op.name() == name)
            }
        }
    };
}

operations! {
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
    /// POST /v2/apis/{apiId}/routes
    CreateRoute,
    /// GET /v2/apis/{apiId}/routes
    GetRoutes,
    /// GET /v2/apis/{apiId}/routes/{routeId}
    GetRoute,
    /// PATCH /v2/apis/{apiId}/routes/{routeId}
    UpdateRoute,
    /// DELETE /v2/apis/{apiId}/routes/{routeId}
    DeleteRoute,
    /// POST /v2/apis/{apiId}/integrations
    CreateIntegration,
    /// GET /v2/apis/{apiId}/integrations
    GetIntegrations,
    /// GET /v2/apis/{apiId}/integrations/{integrationId}
    GetIntegration,
    /// PATCH /v2/apis/{apiId}/integrations/{integrationId}
    UpdateIntegration,
    /// DELETE /v2/apis/{apiId}/integrations/{integrationId}
    DeleteIntegration,
    /// POST /v2/apis/{apiId}/deployments
    CreateDeployment,
    /// GET /v2/apis/{apiId}/deployments
    GetDeployments,
    /// GET /v2/apis/{apiId}/deployments/{deploymentId}
    GetDeployment,
    /// PATCH /v2/apis/{apiId}/deployments/{deploymentId}
    UpdateDeployment,
    /// DELETE /v2/apis/{apiId}/deployments/{deploymentId}
    DeleteDeployment,
    /// POST /v2/tags/{resource-arn}
    TagResource,
    /// DELETE /v2/tags/{resource-arn}
    UntagResource,
    /// GET /v2/tags/{resource-arn}
    GetTags,
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
    (
        Method::POST,
        "/v2/apis/{apiId}/routes",
        Operation::CreateRoute,
    ),
    (Method::GET, "/v2/apis/{apiId}/routes", Operation::GetRoutes),
    (
        Method::GET,
        "/v2/apis/{apiId}/routes/{routeId}",
        Operation::GetRoute,
    ),
    (
        Method::PATCH,
        "/v2/apis/{apiId}/routes/{routeId}",
        Operation::UpdateRoute,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/routes/{routeId}",
        Operation::DeleteRoute,
    ),
    (
        Method::POST,
        "/v2/apis/{apiId}/integrations",
        Operation::CreateIntegration,
    ),
    (
        Method::GET,
        "/v2/apis/{apiId}/integrations",
        Operation::GetIntegrations,
    ),
    (
        Method::GET,
        "/v2/apis/{apiId}/integrations/{integrationId}",
        Operation::GetIntegration,
    ),
    (
        Method::PATCH,
        "/v2/apis/{apiId}/integrations/{integrationId}",
        Operation::UpdateIntegration,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/integrations/{integrationId}",
        Operation::DeleteIntegration,
    ),
    (
        Method::POST,
        "/v2/apis/{apiId}/deployments",
        Operation::CreateDeployment,
    ),
    (
        Method::GET,
        "/v2/apis/{apiId}/deployments",
        Operation::GetDeployments,
    ),
    (
        Method::GET,
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        Operation::GetDeployment,
    ),
    (
        Method::PATCH,
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        Operation::UpdateDeployment,
    ),
    (
        Method::DELETE,
        "/v2/apis/{apiId}/deployments/{deploymentId}",
        Operation::DeleteDeployment,
    ),
    (
        Method::POST,
        "/v2/tags/{resource-arn}",
        Operation::TagResource,
    ),
    (
        Method::DELETE,
        "/v2/tags/{resource-arn}",
        Operation::UntagResource,
    ),
    (Method::GET, "/v2/tags/{resource-arn}", Operation::GetTags),
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

/// The most segments any route template has (`/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}`).
const MAX_SEGMENTS: usize = 7;

/// Finds the operation for `method` and the raw `path`, with its decoded labels.
pub fn route(method: &Method, path: &str) -> ApiResult<(Operation, Vec<String>)> {
    let no_match = || {
        ApiError::new(
            ErrorKind::UnknownOperation,
            format!("No operation matches {method} {path}"),
        )
    };
    // The path's segments, on the stack: longer paths match no route.
    let mut buf = [""; MAX_SEGMENTS];
    let mut n = 0;
    for seg in path.split('/').skip(1) {
        let slot = buf.get_mut(n).ok_or_else(no_match)?;
        *slot = seg;
        n += 1;
    }
    let segs = &buf[..n];
    for (m, template, op) in COMPILED.iter() {
        if m != method || template.len() != segs.len() {
            continue;
        }
        let matches = template
            .iter()
            .zip(segs)
            .all(|(t, s)| t.map_or(!s.is_empty(), |lit| lit == *s));
        if matches {
            let labels = template
                .iter()
                .zip(segs)
                .filter(|(t, _)| t.is_none())
                .map(|(_, s)| wire::decode_label(s))
                .collect::<ApiResult<Vec<_>>>()?;
            return Ok((*op, labels));
        }
    }
    Err(no_match())
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
        Operation::CreateRoute => route::create_route(svc, ctx, input).await,
        Operation::GetRoutes => route::get_routes(svc, ctx, input).await,
        Operation::GetRoute => route::get_route(svc, ctx, input).await,
        Operation::UpdateRoute => route::update_route(svc, ctx, input).await,
        Operation::DeleteRoute => route::delete_route(svc, ctx, input).await,
        Operation::CreateIntegration => integration::create_integration(svc, ctx, input).await,
        Operation::GetIntegrations => integration::get_integrations(svc, ctx, input).await,
        Operation::GetIntegration => integration::get_integration(svc, ctx, input).await,
        Operation::UpdateIntegration => integration::update_integration(svc, ctx, input).await,
        Operation::DeleteIntegration => integration::delete_integration(svc, ctx, input).await,
        Operation::CreateDeployment => deployment::create_deployment(svc, ctx, input).await,
        Operation::GetDeployments => deployment::get_deployments(svc, ctx, input).await,
        Operation::GetDeployment => deployment::get_deployment(svc, ctx, input).await,
        Operation::UpdateDeployment => deployment::update_deployment(svc, ctx, input).await,
        Operation::DeleteDeployment => deployment::delete_deployment(svc, ctx, input).await,
        Operation::TagResource => tags::tag_resource(svc, ctx, input).await,
        Operation::UntagResource => tags::untag_resource(svc, ctx, input).await,
        Operation::GetTags => tags::get_tags(svc, ctx, input).await,
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
        assert!(route(&Method::GET, &"/x".repeat(100)).is_err());
    }

    #[test]
    fn no_template_is_longer_than_the_segment_buffer() {
        let longest = COMPILED.iter().map(|(_, t, _)| t.len()).max();
        assert_eq!(longest, Some(MAX_SEGMENTS));
    }
}
