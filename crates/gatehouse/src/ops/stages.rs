//! The Stage API: CreateStage, GetStage, GetStages, UpdateStage, DeleteStage,
//! DeleteRouteSettings, DeleteAccessLogSettings, ResetAuthorizersCache:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages.html>.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::stage::{StageInput, StageRules};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{time, Stage};

use super::crud::{change, read, record};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::{ApiPath, RouteSettingsPath, StagePath};
use crate::wire;
use crate::wire::stages::StageOut;

fn rules(tree: &ApiTree, ctx: &Ctx) -> StageRules {
    StageRules {
        profile: ctx.profile,
        ..StageRules::new(
            tree.api.protocol_type,
            ctx.api_label(&tree.api.api_id),
            tree.routes.iter().map(|r| r.route_key.clone()).collect(),
        )
    }
}

/// BadRequestException unless `deployment_id` names a deployment of the API.
fn check_deployment(tree: &ApiTree, deployment_id: Option<&str>) -> ApiResult<()> {
    match deployment_id {
        Some(id) if !tree.has_deployment(id) => Err(ApiError::bad_request(format!(
            "Deployment id does not exist: {id}"
        ))),
        _ => Ok(()),
    }
}

/// The stage named `name` in `tree`, or the NotFoundException `missing`.
fn stage_in<'t>(tree: &'t mut ApiTree, name: &str, missing: &ApiError) -> ApiResult<&'t mut Stage> {
    tree.stage_mut(name).ok_or_else(|| missing.clone())
}

/// POST /v2/apis/{apiId}/stages → 201 Stage.
pub async fn create_stage(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let api_id = path.api_id;
    let body: StageInput = wire::parse_body(&input.body)?;
    let now = time::now();
    let max = svc.config.max_stages_per_api;
    let (c, label) = (ctx.clone(), ctx.api_label(&api_id));
    let name = body.stage_name.clone().unwrap_or_default();
    let tree = change(svc, ctx, &api_id, move |tree| {
        let stage = Stage::create(body, &rules(tree, &c), now)?;
        if tree.stage(&stage.stage_name).is_some() {
            return Err(ApiError::conflict(format!(
                "Stage {} already exists for API {label}",
                stage.stage_name
            )));
        }
        if tree.stages.len() >= max {
            return Err(ApiError::quota("Stages"));
        }
        check_deployment(tree, stage.deployment_id.as_deref())?;
        let (name, auto) = (stage.stage_name.clone(), stage.auto_deploy);
        tree.stages.push(stage);
        if auto {
            tree.auto_deploy_stage(&name, now, false);
        }
        Ok(())
    })
    .await?;
    Reply::json(&StageOut::new(record(&tree.stages, &name)?))
}

/// Runs `f` on the tree of the stage `path` names, once that stage is known to exist, and
/// returns the tree after it.
async fn modify_stage(
    svc: &Service,
    ctx: &Ctx,
    path: &StagePath,
    f: impl FnOnce(&mut ApiTree, &ApiError) -> ApiResult<()> + Send + 'static,
) -> ApiResult<ApiTree> {
    let missing = ctx.stage_not_found(&path.api_id, &path.stage_name);
    let name = path.stage_name.clone();
    change(svc, ctx, &path.api_id, move |tree| {
        stage_in(tree, &name, &missing)?;
        f(tree, &missing)
    })
    .await
}

/// PATCH /v2/apis/{apiId}/stages/{stageName} → 200 Stage (merge semantics).
pub async fn update_stage(
    svc: &Service,
    ctx: &Ctx,
    path: StagePath,
    input: Input,
) -> ApiResult<Reply> {
    let mut body: StageInput = wire::parse_body(&input.body)?;
    // Not members of UpdateStageRequest's body: ignored like any unknown member.
    body.stage_name = None;
    body.tags = None;
    let now = time::now();
    let name = path.stage_name.clone();
    let (c, n) = (ctx.clone(), name.clone());
    let tree = modify_stage(svc, ctx, &path, move |tree, missing| {
        let rules = rules(tree, &c);
        check_deployment(tree, body.deployment_id.as_deref())?;
        let stage = stage_in(tree, &n, missing)?;
        if stage.api_gateway_managed
            && (body.auto_deploy == Some(false) || body.deployment_id.is_some())
        {
            return Err(ApiError::bad_request(format!(
                "Cannot change autoDeploy or deploymentId of stage {n}: it is managed by API Gateway (created by quick create)"
            )));
        }
        let was_auto = stage.auto_deploy;
        stage.apply(body, &rules, now)?;
        if stage.auto_deploy && !was_auto {
            tree.auto_deploy_stage(&n, now, false);
        }
        Ok(())
    })
    .await?;
    Reply::json(&StageOut::new(record(&tree.stages, &name)?))
}

/// DELETE /v2/apis/{apiId}/stages/{stageName} → 204.
pub async fn delete_stage(svc: &Service, ctx: &Ctx, path: StagePath, _: Input) -> ApiResult<Reply> {
    let name = path.stage_name.clone();
    modify_stage(svc, ctx, &path, move |tree, _| {
        if tree.stage(&name).is_some_and(|s| s.api_gateway_managed) {
            return Err(ApiError::bad_request(format!(
                "Cannot delete stage {name}: it is managed by API Gateway (created by quick create); delete the API instead"
            )));
        }
        tree.stages.retain(|s| s.stage_name != name);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// DELETE …/stages/{stageName}/routesettings/{routeKey} → 204; NotFound if the stage has no
/// settings for that route key.
pub async fn delete_route_settings(
    svc: &Service,
    ctx: &Ctx,
    path: RouteSettingsPath,
    _: Input,
) -> ApiResult<Reply> {
    let RouteSettingsPath {
        api_id,
        stage_name: name,
        route_key: key,
    } = path;
    let label = format!("{}:{name}", ctx.api_label(&api_id));
    let now = time::now();
    let stage = StagePath {
        api_id,
        stage_name: name.clone(),
    };
    modify_stage(svc, ctx, &stage, move |tree, missing| {
        let stage = stage_in(tree, &name, missing)?;
        if stage.route_settings.remove(&key).is_none() {
            return Err(ApiError::not_found(format!(
                "Invalid route settings key specified: no route settings for route key {key} on stage {label}"
            )));
        }
        stage.last_updated = now.max(stage.created);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// DELETE …/stages/{stageName}/accesslogsettings → 204; turns access logging off.
pub async fn delete_access_log_settings(
    svc: &Service,
    ctx: &Ctx,
    path: StagePath,
    _: Input,
) -> ApiResult<Reply> {
    let name = path.stage_name.clone();
    let now = time::now();
    modify_stage(svc, ctx, &path, move |tree, missing| {
        let stage = stage_in(tree, &name, missing)?;
        if stage.access_log_settings.take().is_some() {
            stage.last_updated = now.max(stage.created);
        }
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// DELETE …/stages/{stageName}/cache/authorizers → 204. gatehouse caches no authorizer
/// results, so there is nothing to flush; the stage must exist.
pub async fn reset_authorizers_cache(
    svc: &Service,
    ctx: &Ctx,
    path: StagePath,
    _: Input,
) -> ApiResult<Reply> {
    let _: Stage = read(svc, ctx, &path.api_id, &path.stage_name).await?;
    Reply::empty()
}
