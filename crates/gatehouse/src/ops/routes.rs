//! CreateRoute, GetRoute, GetRoutes, UpdateRoute, DeleteRoute:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes.html>.
//! Every change redeploys the API's auto-deploy stages.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::route::{
    check_authorizer_update, validate_route_key, Route, RouteInput,
};
use gatehouse_core::model::time;
use gatehouse_core::model::tree::Quota;
use gatehouse_core::store::Kind;

use super::crud::{change, record};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{ApiPath, RequestParameterPath, RoutePath};
use crate::wire;

/// POST /v2/apis/{apiId}/routes → 201 Route.
pub async fn create_route(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    let body: RouteInput = wire::parse_body(&input.body)?;
    let (now, profile) = (time::now(), ctx.profile);
    let id = ctx.new_id(7);
    let rid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        if tree.routes.iter().any(|r| r.route_id == rid) {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let route = Route::create(rid.clone(), body)?;
        validate_route_key(tree.api.protocol_type, &route.route_key)?;
        tree.check_route_key_free(&route.route_key, None)?;
        tree.check_target(route.target.as_deref(), profile)?;
        tree.check_room(Quota::Routes)?;
        tree.routes.push(route);
        tree.settle_route_authorizer(&rid, profile)?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.routes, &id)?)
}

/// PATCH /v2/apis/{apiId}/routes/{routeId} → 200 Route.
pub async fn update_route(
    svc: &Service,
    ctx: &Ctx,
    path: RoutePath,
    input: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.route_id.clone());
    let body: RouteInput = wire::parse_body(&input.body)?;
    let missing = ctx.not_found(Kind::Route, api_id, &id);
    let (now, profile) = (time::now(), ctx.profile);
    check_authorizer_update(&body, profile)?;
    let rid = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let protocol = tree.api.protocol_type;
        if let Some(key) = &body.route_key {
            validate_route_key(protocol, key)?;
            tree.check_route_key_free(key, Some(&rid))?;
        }
        tree.check_target(body.target.as_deref(), profile)?;
        let route = tree.route_mut(&rid).ok_or(missing)?;
        if route.api_gateway_managed
            && (body.route_key.as_ref().is_some_and(|k| *k != route.route_key)
                || body.target.as_ref().is_some_and(|t| Some(t) != route.target.as_ref()))
        {
            return Err(ApiError::bad_request(
                "Cannot change the route key or target of a route managed by API Gateway; use UpdateApi with routeKey or target",
            ));
        }
        route.apply(body)?;
        tree.settle_route_authorizer(&rid, profile)?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.routes, &id)?)
}

/// DELETE /v2/apis/{apiId}/routes/{routeId} → 204.
pub async fn delete_route(svc: &Service, ctx: &Ctx, path: RoutePath, _: Input) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.route_id.clone());
    let missing = ctx.not_found(Kind::Route, api_id, &id);
    let now = time::now();
    change(svc, ctx, api_id, move |tree| {
        let route = tree.route_mut(&id).ok_or(missing)?;
        if route.api_gateway_managed {
            return Err(ApiError::bad_request(format!(
                "Cannot delete route {id}: it is managed by API Gateway (created by quick create)"
            )));
        }
        tree.routes.retain(|r| r.route_id != id);
        tree.route_responses.retain(|r| r.route_id != id);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// DELETE /v2/apis/{apiId}/routes/{routeId}/requestparameters/{requestParameterKey} → 204.
pub async fn delete_route_request_parameter(
    svc: &Service,
    ctx: &Ctx,
    path: RequestParameterPath,
    _: Input,
) -> ApiResult<Reply> {
    let (api_id, id) = (&path.api_id, path.route_id.clone());
    let key = path.request_parameter_key.clone();
    let missing = ctx.not_found(Kind::Route, api_id, &id);
    let now = time::now();
    change(svc, ctx, api_id, move |tree| {
        let route = tree.route_mut(&id).ok_or(missing)?;
        let removed = route
            .request_parameters
            .as_mut()
            .and_then(|params| params.remove(&key));
        if removed.is_none() {
            return Err(ApiError::not_found(format!(
                "Invalid request parameter key specified: {key}"
            )));
        }
        if route
            .request_parameters
            .as_ref()
            .is_some_and(|p| p.is_empty())
        {
            route.request_parameters = None;
        }
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}
