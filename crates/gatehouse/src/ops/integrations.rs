//! CreateIntegration, GetIntegration, GetIntegrations, UpdateIntegration, DeleteIntegration:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html>.
//! Every change redeploys the API's auto-deploy stages.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::integration::{ConnectionType, Integration, IntegrationInput};
use gatehouse_core::model::tree::Quota;
use gatehouse_core::model::{time, ProtocolType};
use gatehouse_core::store::Kind;

use super::crud::{change, record};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use super::vpc_links::vpc_link_exists;
use crate::api::paths::{ApiPath, IntegrationPath};
use crate::wire;

/// The VPC link a request's `connectionId` names, and whether it exists (looked up before
/// the change; only HTTP APIs connect through VPC links of this API).
async fn named_vpc_link(
    svc: &Service,
    ctx: &Ctx,
    body: &IntegrationInput,
) -> ApiResult<Option<(String, bool)>> {
    match &body.connection_id {
        Some(id) => Ok(Some((id.clone(), vpc_link_exists(svc, ctx, id).await?))),
        None => Ok(None),
    }
}

/// Refuses an HTTP API integration that connects through a VPC link that does not exist.
fn check_vpc_link(
    integration: &Integration,
    protocol: ProtocolType,
    named: &Option<(String, bool)>,
) -> ApiResult<()> {
    match named {
        Some((id, false))
            if protocol == ProtocolType::Http
                && integration.connection_type == ConnectionType::VpcLink
                && integration.connection_id.as_deref() == Some(id.as_str()) =>
        {
            Err(ApiError::bad_request(format!(
                "Invalid connectionId: VPC link {id} does not exist"
            )))
        }
        _ => Ok(()),
    }
}

/// POST /v2/apis/{apiId}/integrations → 201 Integration.
pub async fn create_integration(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    let body: IntegrationInput = wire::parse_body(&input.body)?;
    let named = named_vpc_link(svc, ctx, &body).await?;
    let (now, profile) = (time::now(), ctx.profile);
    let id = ctx.new_id(7);
    let iid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        if tree.integration(&iid).is_some() {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let protocol = tree.api.protocol_type;
        let integration = Integration::create(iid, body, protocol, profile)?;
        check_vpc_link(&integration, protocol, &named)?;
        tree.check_room(Quota::Integrations)?;
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
    let named = named_vpc_link(svc, ctx, &body).await?;
    let missing = ctx.not_found(Kind::Integration, api_id, &id);
    let (now, profile) = (time::now(), ctx.profile);
    let iid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let protocol = tree.api.protocol_type;
        let integration = tree.integration_mut(&iid).ok_or(missing)?;
        integration.apply(body, protocol, profile)?;
        check_vpc_link(integration, protocol, &named)?;
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
        tree.integration_responses.retain(|r| r.integration_id != id);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}
