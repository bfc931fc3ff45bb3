//! CreateIntegration, GetIntegration, GetIntegrations, UpdateIntegration, DeleteIntegration:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html>.
//! Every change redeploys the API's auto-deploy stages.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::integration::{Integration, IntegrationInput};
use gatehouse_core::model::{ids, time};
use gatehouse_core::store::Kind;

use super::crud::{change, record};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{ApiPath, IntegrationPath};
use crate::wire;

/// POST /v2/apis/{apiId}/integrations → 201 Integration.
pub async fn create_integration(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let api_id = &path.api_id;
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
    Reply::json(record(&tree.integrations, &id)?)
}

/// PATCH /v2/apis/{apiId}/integrations/{integrationId} → 200 Integration. Managed
/// integrations may be updated.
pub async fn update_integration(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationPath,
    input: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.integration_id.clone());
    let body: IntegrationInput = wire::parse_body(&input.body)?;
    let missing = ctx.not_found(Kind::Integration, api_id, &id);
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
    Reply::json(record(&tree.integrations, &id)?)
}

/// DELETE /v2/apis/{apiId}/integrations/{integrationId} → 204. Refused while a route
/// targets it, and for managed integrations.
pub async fn delete_integration(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationPath,
    _: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.integration_id.clone());
    let missing = ctx.not_found(Kind::Integration, api_id, &id);
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
    Reply::empty()
}
