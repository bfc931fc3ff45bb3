//! CreateAuthorizer, UpdateAuthorizer, DeleteAuthorizer (GetAuthorizer and GetAuthorizers
//! are the generic child handlers):
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html>.
//! Every change redeploys the API's auto-deploy stages (a deployment freezes authorizers).

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::authorizer::{Authorizer, AuthorizerInput};
use gatehouse_core::model::route::AuthorizationType;
use gatehouse_core::model::time;
use gatehouse_core::model::tree::Quota;
use gatehouse_core::store::Kind;

use super::crud::{change, record};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{ApiPath, AuthorizerPath};
use crate::wire;

/// POST /v2/apis/{apiId}/authorizers → 201 Authorizer.
pub async fn create_authorizer(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: AuthorizerInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let id = ctx.new_id(6);
    let aid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        if tree.authorizers.iter().any(|a| a.authorizer_id == aid) {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let authorizer = Authorizer::create(aid, body, tree.api.protocol_type, profile)?;
        tree.check_room(Quota::Authorizers)?;
        tree.authorizers.push(authorizer);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.authorizers, &id)?)
}

/// PATCH /v2/apis/{apiId}/authorizers/{authorizerId} → 200 Authorizer.
pub async fn update_authorizer(
    svc: &Service,
    ctx: &Ctx,
    path: AuthorizerPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: AuthorizerInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let id = path.authorizer_id.clone();
    let missing = ctx.not_found(Kind::Authorizer, &path.api_id, &id);
    let aid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let protocol = tree.api.protocol_type;
        let authorizer = tree
            .authorizers
            .iter_mut()
            .find(|a| a.authorizer_id == aid)
            .ok_or(missing)?;
        authorizer.apply(body, protocol, profile)?;
        let kind = authorizer.authorizer_type;
        // A route that uses it must still find the type its authorization type needs.
        if let Some(r) = tree.routes.iter().find(|r| {
            r.authorizer_id.as_deref() == Some(aid.as_str())
                && !AuthorizationType::accepts(r.authorization_type, kind)
        }) {
            return Err(ApiError::conflict(format!(
                "Cannot change the type of authorizer '{aid}', is referenced in route: {}",
                r.route_key
            )));
        }
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.authorizers, &id)?)
}

/// DELETE /v2/apis/{apiId}/authorizers/{authorizerId} → 204; refused (409) while a route
/// uses it, in AWS's words.
pub async fn delete_authorizer(
    svc: &Service,
    ctx: &Ctx,
    path: AuthorizerPath,
    _: Input,
) -> ApiResult<Reply> {
    let id = path.authorizer_id.clone();
    let missing = ctx.not_found(Kind::Authorizer, &path.api_id, &id);
    let now = time::now();
    change(svc, ctx, &path.api_id, move |tree| {
        let authorizer = tree
            .authorizers
            .iter()
            .find(|a| a.authorizer_id == id)
            .ok_or(missing)?;
        if let Some(r) = tree
            .routes
            .iter()
            .find(|r| r.authorizer_id.as_deref() == Some(id.as_str()))
        {
            return Err(ApiError::conflict(format!(
                "Cannot delete authorizer '{}', is referenced in route: {}",
                authorizer.name, r.route_key
            )));
        }
        tree.authorizers.retain(|a| a.authorizer_id != id);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}
