//! CreateIntegration, GetIntegration, GetIntegrations, UpdateIntegration, DeleteIntegration:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html>.
//! Every change redeploys the API's auto-deploy stages.

use axum::http::StatusCode;

use super::{change, get_child, list_children, Ctx, Input, Reply, Service, ID_TAKEN};
use crate::error::{ApiError, ApiResult};
use crate::model::integration::{Integration, IntegrationInput};
use crate::model::tree::ApiTree;
use crate::model::{ids, time};
use crate::store::Kind;
use crate::wire;

fn integration_of(tree: &ApiTree, id: &str) -> ApiResult<Integration> {
    tree.integration(id)
        .cloned()
        .ok_or_else(|| ApiError::internal("integration missing after change"))
}

/// POST /v2/apis/{apiId}/integrations → 201 Integration.
pub async fn create_integration(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    let body: IntegrationInput = wire::parse_body(&input.body)?;
    let now = time::now();
    let id = ids::random_id(7);
    let iid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        if tree.integration(&iid).is_some() {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let integration = Integration::create(iid, body, tree.api.protocol_type)?;
        tree.integrations.push(integration);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(StatusCode::CREATED, &integration_of(&tree, &id)?)
}

/// GET /v2/apis/{apiId}/integrations/{integrationId} → 200 Integration.
pub async fn get_integration(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    get_child::<Integration>(svc, ctx, &input).await
}

/// GET /v2/apis/{apiId}/integrations → 200 {items, nextToken}.
pub async fn get_integrations(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    list_children::<Integration>(svc, ctx, &input).await
}

/// PATCH /v2/apis/{apiId}/integrations/{integrationId} → 200 Integration. Managed
/// integrations may be updated.
pub async fn update_integration(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, id) = (input.label(0)?, input.label(1)?.to_string());
    let body: IntegrationInput = wire::parse_body(&input.body)?;
    let missing = ctx.child_not_found(api_id, Kind::Integration, &id);
    let now = time::now();
    let iid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let protocol = tree.api.protocol_type;
        let integration = tree.integration_mut(&iid).ok_or(missing)?;
        integration.apply(body, protocol)?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(StatusCode::OK, &integration_of(&tree, &id)?)
}

/// DELETE /v2/apis/{apiId}/integrations/{integrationId} → 204. Refused while a route
/// targets it, and for managed integrations.
pub async fn delete_integration(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let (api_id, id) = (input.label(0)?, input.label(1)?.to_string());
    let missing = ctx.child_not_found(api_id, Kind::Integration, &id);
    let now = time::now();
    change(svc, ctx, api_id, move |tree| {
        let integration = tree.integration(&id).ok_or(missing)?;
        if integration.api_gateway_managed {
            return Err(ApiError::bad_request(format!(
                "Cannot delete integration {id}: it is managed by API Gateway (created by quick create)"
            )));
        }
        tree.check_integration_unused(&id)?;
        tree.integrations.retain(|i| i.integration_id != id);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::no_content()
}
