//! CreateDeployment, GetDeployment, GetDeployments, UpdateDeployment, DeleteDeployment:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-deployments.html>.

use axum::http::StatusCode;
use serde::Deserialize;

use super::{change, get_child, list_children, Ctx, Input, Reply, Service};
use crate::error::{ApiError, ApiResult};
use crate::model::deployment::Deployment;
use crate::model::time;
use crate::store::Kind;
use crate::wire::{self, DeploymentOut};

/// The members CreateDeployment and UpdateDeployment accept.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentInput {
    description: Option<String>,
    stage_name: Option<String>,
}

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
pub async fn create_deployment(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
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
    Reply::json(StatusCode::CREATED, &DeploymentOut::new(created))
}

/// GET /v2/apis/{apiId}/deployments/{deploymentId} → 200 Deployment.
pub async fn get_deployment(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    get_child::<Deployment>(svc, ctx, &input).await
}

/// GET /v2/apis/{apiId}/deployments → 200 {items, nextToken}.
pub async fn get_deployments(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    list_children::<Deployment>(svc, ctx, &input).await
}

/// PATCH /v2/apis/{apiId}/deployments/{deploymentId} → 200 Deployment (description only).
pub async fn update_deployment(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, id) = (input.label(0)?, input.label(1)?.to_string());
    let body: DeploymentInput = wire::parse_body(&input.body)?;
    check_description(&body.description)?;
    let missing = ctx.child_not_found(api_id, Kind::Deployment, &id);
    let did = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let d = tree.deployment_mut(&did).ok_or(missing)?;
        if let Some(desc) = body.description {
            d.description = Some(desc);
        }
        Ok(())
    })
    .await?;
    let d = tree
        .deployments
        .iter()
        .find(|d| d.deployment_id == id)
        .ok_or_else(|| ApiError::internal("deployment missing after change"))?;
    Reply::json(StatusCode::OK, &DeploymentOut::new(d))
}

/// DELETE /v2/apis/{apiId}/deployments/{deploymentId} → 204; refused while a stage uses it.
pub async fn delete_deployment(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, id) = (input.label(0)?, input.label(1)?.to_string());
    let missing = ctx.child_not_found(api_id, Kind::Deployment, &id);
    change(svc, ctx, api_id, move |tree| {
        if !tree.has_deployment(&id) {
            return Err(missing);
        }
        if let Some(s) = tree
            .stages
            .iter()
            .find(|s| s.deployment_id.as_deref() == Some(id.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "Active stages pointing to this deployment must be moved or deleted (stage {})",
                s.stage_name
            )));
        }
        tree.deployments.retain(|d| d.deployment_id != id);
        Ok(())
    })
    .await?;
    Reply::no_content()
}
