//! CreateDeployment, GetDeployment, GetDeployments, UpdateDeployment, DeleteDeployment:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html>.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::time;
use gatehouse_core::store::Kind;

use super::crud::{change, record};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::{ApiPath, DeploymentPath};
use crate::wire;
use crate::wire::deployments::{DeploymentInput, DeploymentOut};

fn check_description(d: &Option<String>) -> ApiResult<()> {
    match d {
        Some(d) if d.chars().count() > 1024 => Err(ApiError::bad_request(
            "Invalid description: must be at most 1024 characters",
        )),
        _ => Ok(()),
    }
}

/// POST /v2/apis/{apiId}/deployments → 201 Deployment. With `stageName`, that stage is
/// pointed at the new deployment.
pub async fn create_deployment(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    let body: DeploymentInput = wire::parse_body(&input.body)?;
    check_description(&body.description)?;
    let missing = body
        .stage_name
        .as_deref()
        .map(|s| ctx.stage_not_found(api_id, s));
    let label = ctx.api_label(api_id);
    let now = time::now();
    let tree = change(svc, ctx, api_id, move |tree| {
        if let (Some(name), Some(missing)) = (&body.stage_name, missing) {
            let stage = tree.stage(name).ok_or(missing)?;
            if stage.auto_deploy {
                return Err(ApiError::bad_request(format!(
                    "Deployment ID cannot be set on this stage {label}:{name} because AutoDeploy is enabled."
                )));
            }
        }
        let id = tree.deploy(body.description, false, now)?;
        if let Some(stage) = body.stage_name.and_then(|n| tree.stage_mut(&n)) {
            stage.deployment_id = Some(id);
            stage.last_updated = now.max(stage.created);
        }
        Ok(())
    })
    .await?;
    let created = tree
        .deployments
        .last()
        .ok_or_else(|| ApiError::internal("deployment missing after change"))?;
    Reply::json(&DeploymentOut::new(created))
}

/// PATCH /v2/apis/{apiId}/deployments/{deploymentId} → 200 Deployment (description only).
pub async fn update_deployment(
    svc: &Service,
    ctx: &Ctx,
    path: DeploymentPath,
    input: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.deployment_id.clone());
    let body: DeploymentInput = wire::parse_body(&input.body)?;
    check_description(&body.description)?;
    let missing = ctx.not_found(Kind::Deployment, api_id, &id);
    let did = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let d = tree.deployment_mut(&did).ok_or(missing)?;
        if let Some(desc) = body.description {
            d.description = Some(desc);
        }
        Ok(())
    })
    .await?;
    Reply::json(&DeploymentOut::new(record(&tree.deployments, &id)?))
}

/// DELETE /v2/apis/{apiId}/deployments/{deploymentId} → 204; refused while a stage uses it.
pub async fn delete_deployment(
    svc: &Service,
    ctx: &Ctx,
    path: DeploymentPath,
    _: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.deployment_id.clone());
    let missing = ctx.not_found(Kind::Deployment, api_id, &id);
    change(svc, ctx, api_id, move |tree| {
        if !tree.has_deployment(&id) {
            return Err(missing);
        }
        if tree
            .stages
            .iter()
            .any(|s| s.deployment_id.as_deref() == Some(id.as_str()))
        {
            return Err(ApiError::bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        tree.deployments.retain(|d| d.deployment_id != id);
        Ok(())
    })
    .await?;
    Reply::empty()
}
