//! The Stage API: CreateStage, GetStage, GetStages, UpdateStage, DeleteStage,
//! DeleteRouteSettings, DeleteAccessLogSettings, ResetAuthorizersCache:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages.html>.

use axum::http::StatusCode;

use super::{Ctx, Input, Reply, Service};
use crate::error::{ApiError, ApiResult};
use crate::model::stage::{StageInput, StageRules};
use crate::model::{time, Stage};
use crate::store::Mutator;
use crate::wire::{self, page, ListOut, StageOut};

/// The rules a stage of API `api_id` is checked against (NotFound if the API is missing).
async fn rules(svc: &Service, ctx: &Ctx, api_id: &str) -> ApiResult<StageRules> {
    let api = svc
        .store
        .get_api(&ctx.scope, api_id)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Ok(StageRules {
        protocol: api.protocol_type,
        api_label: ctx.api_label(api_id),
    })
}

/// POST /v2/apis/{apiId}/stages → 201 Stage.
pub async fn create_stage(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    let rules = rules(svc, ctx, api_id).await?;
    let body: StageInput = wire::parse_body(&input.body)?;
    let stage = Stage::create(body, &rules, time::now())?;
    svc.store
        .create_stage(
            &ctx.scope,
            api_id,
            stage.clone(),
            svc.config.max_stages_per_api,
        )
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(&stage.stage_name)))?;
    Reply::json(StatusCode::CREATED, &StageOut::new(&stage))
}

/// GET /v2/apis/{apiId}/stages/{stageName} → 200 Stage.
pub async fn get_stage(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, name) = (input.label(0)?, input.label(1)?);
    let stage = svc
        .store
        .get_stage(&ctx.scope, api_id, name)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(name)))?;
    Reply::json(StatusCode::OK, &StageOut::new(&stage))
}

/// GET /v2/apis/{apiId}/stages → 200 {items, nextToken}.
pub async fn get_stages(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    let listing = format!("stages|{}|{}|{api_id}", ctx.scope.account, ctx.scope.region);
    let req = page::parse(
        wire::query_param(&input.query, "maxResults"),
        wire::query_param(&input.query, "nextToken"),
        &listing,
    )?;
    let found = svc
        .store
        .list_stages(&ctx.scope, api_id, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    let next_token = match found.items.last() {
        Some((seq, _)) if found.more => Some(page::token(&listing, *seq)),
        _ => None,
    };
    Reply::json(
        StatusCode::OK,
        &ListOut {
            items: found.items.iter().map(|(_, s)| StageOut::new(s)).collect(),
            next_token,
        },
    )
}

/// Applies `change` to stage `name` of API `api_id` and answers with `reply`.
async fn modify(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    name: &str,
    change: Mutator<Stage>,
) -> ApiResult<Stage> {
    svc.store
        .update_stage(&ctx.scope, api_id, name, change)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(name)))
}

/// PATCH /v2/apis/{apiId}/stages/{stageName} → 200 Stage (merge semantics).
pub async fn update_stage(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, name) = (input.label(0)?, input.label(1)?);
    let rules = rules(svc, ctx, api_id).await?;
    let mut body: StageInput = wire::parse_body(&input.body)?;
    // Not members of UpdateStageRequest's body: ignored like any unknown member.
    body.stage_name = None;
    body.tags = None;
    let now = time::now();
    let stage = modify(
        svc,
        ctx,
        api_id,
        name,
        Box::new(move |stage| stage.apply(body, &rules, now)),
    )
    .await?;
    Reply::json(StatusCode::OK, &StageOut::new(&stage))
}

/// DELETE /v2/apis/{apiId}/stages/{stageName} → 204.
pub async fn delete_stage(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, name) = (input.label(0)?, input.label(1)?);
    svc.store
        .delete_stage(&ctx.scope, api_id, name)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(name)))?;
    Reply::no_content()
}

/// DELETE …/stages/{stageName}/routesettings/{routeKey} → 204; NotFound if the stage has no
/// settings for that route key.
pub async fn delete_route_settings(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, name, key) = (
        input.label(0)?,
        input.label(1)?,
        input.label(2)?.to_string(),
    );
    let now = time::now();
    let label = format!("{}:{name}", ctx.api_label(api_id));
    modify(
        svc,
        ctx,
        api_id,
        name,
        Box::new(move |stage| {
            if stage.route_settings.remove(&key).is_none() {
                return Err(ApiError::not_found(format!(
                    "Invalid route settings key specified: no route settings for route key {key} on stage {label}"
                )));
            }
            stage.last_updated = now.max(stage.created);
            Ok(())
        }),
    )
    .await?;
    Reply::no_content()
}

/// DELETE …/stages/{stageName}/accesslogsettings → 204; turns access logging off.
pub async fn delete_access_log_settings(
    svc: &Service,
    ctx: &Ctx,
    input: Input,
) -> ApiResult<Reply> {
    let (api_id, name) = (input.label(0)?, input.label(1)?);
    let now = time::now();
    modify(
        svc,
        ctx,
        api_id,
        name,
        Box::new(move |stage| {
            if stage.access_log_settings.take().is_some() {
                stage.last_updated = now.max(stage.created);
            }
            Ok(())
        }),
    )
    .await?;
    Reply::no_content()
}

/// DELETE …/stages/{stageName}/cache/authorizers → 204. gatehouse caches no authorizer
/// results, so there is nothing to flush; the stage must exist.
pub async fn reset_authorizers_cache(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, name) = (input.label(0)?, input.label(1)?);
    svc.store
        .get_stage(&ctx.scope, api_id, name)
        .await
        .map_err(|e| ctx.store_error(e, api_id, Some(name)))?;
    Reply::no_content()
}
