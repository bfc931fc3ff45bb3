//! Route responses and integration responses (WebSocket APIs): full CRUD.
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes-routeid-routeresponses.html>,
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations-integrationid-integrationresponses.html>.
//!
//! Both are children of the API that belong to one route or integration; the two families
//! share their reads (an owned record is found only under its owner) and their listing.

use gatehouse_core::compat::{self, Profile};
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::integration::Integration;
use gatehouse_core::model::responses::{
    IntegrationResponse, IntegrationResponseInput, RouteResponse, RouteResponseInput,
};
use gatehouse_core::model::route::Route;
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{ids, time, ProtocolType};
use gatehouse_core::store::{Kind, Record};

use super::crud::{change, list_children_where, read, record, remove_one};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{IntegrationPath, IntegrationResponsePath, RoutePath, RouteResponsePath};
use crate::wire::{self, ToWire};

/// A record that belongs to another record of the same API (its owner).
trait Owned: Record + ToWire {
    /// The owner's record type.
    type Owner: Record;
    /// What the AWS error texts call the family (`Route responses`).
    const FAMILY: &'static str;
    /// The owner's id.
    fn owner(&self) -> &str;
}

impl Owned for RouteResponse {
    type Owner = Route;
    const FAMILY: &'static str = "Route responses";
    fn owner(&self) -> &str {
        &self.route_id
    }
}

impl Owned for IntegrationResponse {
    type Owner = Integration;
    const FAMILY: &'static str = "Integration responses";
    fn owner(&self) -> &str {
        &self.integration_id
    }
}

/// Reads record `key` of owner `owner` (which must exist) of API `api_id`.
async fn read_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    key: &str,
) -> ApiResult<T> {
    let _: T::Owner = read(svc, ctx, api_id, owner).await?;
    let found: T = read(svc, ctx, api_id, key).await?;
    if found.owner() != owner {
        return Err(ctx.not_found(T::KIND, api_id, key));
    }
    Ok(found)
}

/// Answers a Get of an owned record.
async fn get_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    key: &str,
) -> ApiResult<Reply> {
    let found: T = read_owned(svc, ctx, api_id, owner, key).await?;
    let reply = Reply::json(&found.to_wire());
    reply
}

/// Answers a listing of the records of owner `owner`.
async fn list_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let _: T::Owner = read(svc, ctx, api_id, owner).await?;
    list_children_where::<T>(svc, ctx, api_id, input, owner, |r: &T| r.owner() == owner).await
}

/// Checks that the family may exist on this API, and that the owner exists.
fn check_owner(
    tree: &ApiTree,
    profile: Profile,
    family: &str,
    owner_exists: bool,
    missing: &ApiError,
) -> ApiResult<()> {
    compat::websocket_only(
        profile,
        tree.api.protocol_type == ProtocolType::WebSocket,
        family,
    )
    .map_err(ApiError::bad_request)?;
    if owner_exists {
        Ok(())
    } else {
        Err(missing.clone())
    }
}

/// POST /v2/apis/{apiId}/routes/{routeId}/routeresponses → 201 RouteResponse.
pub async fn create_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RoutePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: RouteResponseInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let missing = ctx.not_found(Kind::Route, &path.api_id, &path.route_id);
    let (id, route_id) = (ids::random_id(6), path.route_id.clone());
    let rid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let exists = tree.routes.iter().any(|r| r.route_id == route_id);
        check_owner(tree, profile, RouteResponse::FAMILY, exists, &missing)?;
        if tree
            .route_responses
            .iter()
            .any(|r| r.route_response_id == rid)
        {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let rr = RouteResponse::create(route_id.clone(), rid, body, profile)?;
        if tree
            .route_responses
            .iter()
            .any(|r| r.route_id == route_id && r.route_response_key == rr.route_response_key)
        {
            return Err(ApiError::conflict(format!(
                "Route response with key {} already exists for this route",
                rr.route_response_key
            )));
        }
        tree.route_responses.push(rr);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(&record(&tree.route_responses, &id)?.to_wire())
}

/// GET /v2/apis/{apiId}/routes/{routeId}/routeresponses → 200 RouteResponses.
pub async fn get_route_responses(
    svc: &Service,
    ctx: &Ctx,
    path: RoutePath,
    input: Input,
) -> ApiResult<Reply> {
    list_owned::<RouteResponse>(svc, ctx, &path.api_id, &path.route_id, &input).await
}

/// GET /v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId} → 200.
pub async fn get_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RouteResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    get_owned::<RouteResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.route_id,
        &path.route_response_id,
    )
    .await
}

/// PATCH /v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId} → 200.
pub async fn update_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RouteResponsePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: RouteResponseInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let _: RouteResponse = read_owned(
        svc,
        ctx,
        &path.api_id,
        &path.route_id,
        &path.route_response_id,
    )
    .await?;
    let missing = ctx.not_found(Kind::RouteResponse, &path.api_id, &path.route_response_id);
    let (id, route_id) = (path.route_response_id.clone(), path.route_id.clone());
    let rid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let mut rr = tree
            .route_responses
            .iter()
            .find(|r| r.route_response_id == rid && r.route_id == route_id)
            .cloned()
            .ok_or(missing)?;
        rr.apply(body, profile)?;
        if tree.route_responses.iter().any(|r| {
            r.route_id == route_id
                && r.route_response_id != rid
                && r.route_response_key == rr.route_response_key
        }) {
            return Err(ApiError::conflict(format!(
                "Route response with key {} already exists for this route",
                rr.route_response_key
            )));
        }
        if let Some(slot) = tree
            .route_responses
            .iter_mut()
            .find(|r| r.route_response_id == rid)
        {
            *slot = rr;
        }
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(&record(&tree.route_responses, &id)?.to_wire())
}

/// DELETE /v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId} → 204.
pub async fn delete_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RouteResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    let now = time::now();
    let missing = ctx.not_found(Kind::RouteResponse, &path.api_id, &path.route_response_id);
    let route_missing = ctx.not_found(Kind::Route, &path.api_id, &path.route_id);
    let (id, route_id) = (path.route_response_id.clone(), path.route_id.clone());
    change(svc, ctx, &path.api_id, move |tree| {
        if !tree.routes.iter().any(|r| r.route_id == route_id) {
            return Err(route_missing);
        }
        remove_one(
            &mut tree.route_responses,
            |r| r.route_response_id == id && r.route_id == route_id,
            missing,
        )?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// POST /v2/apis/{apiId}/integrations/{integrationId}/integrationresponses → 201.
pub async fn create_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: IntegrationResponseInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let missing = ctx.not_found(Kind::Integration, &path.api_id, &path.integration_id);
    let (id, owner) = (ids::random_id(6), path.integration_id.clone());
    let iid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let exists = tree.integration(&owner).is_some();
        check_owner(tree, profile, IntegrationResponse::FAMILY, exists, &missing)?;
        if tree
            .integration_responses
            .iter()
            .any(|r| r.integration_response_id == iid)
        {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let ir = IntegrationResponse::create(owner.clone(), iid, body, profile)?;
        check_integration_response_key_free(tree, &ir)?;
        tree.integration_responses.push(ir);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(&record(&tree.integration_responses, &id)?.to_wire())
}

fn check_integration_response_key_free(tree: &ApiTree, ir: &IntegrationResponse) -> ApiResult<()> {
    if tree.integration_responses.iter().any(|r| {
        r.integration_id == ir.integration_id
            && r.integration_response_id != ir.integration_response_id
            && r.integration_response_key == ir.integration_response_key
    }) {
        return Err(ApiError::conflict(format!(
            "Integration response with key {} already exists for this integration",
            ir.integration_response_key
        )));
    }
    Ok(())
}

/// GET /v2/apis/{apiId}/integrations/{integrationId}/integrationresponses → 200.
pub async fn get_integration_responses(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationPath,
    input: Input,
) -> ApiResult<Reply> {
    list_owned::<IntegrationResponse>(svc, ctx, &path.api_id, &path.integration_id, &input).await
}

/// GET …/integrationresponses/{integrationResponseId} → 200 IntegrationResponse.
pub async fn get_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    get_owned::<IntegrationResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.integration_id,
        &path.integration_response_id,
    )
    .await
}

/// PATCH …/integrationresponses/{integrationResponseId} → 200 IntegrationResponse.
pub async fn update_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationResponsePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: IntegrationResponseInput = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let _: IntegrationResponse = read_owned(
        svc,
        ctx,
        &path.api_id,
        &path.integration_id,
        &path.integration_response_id,
    )
    .await?;
    let missing = ctx.not_found(
        Kind::IntegrationResponse,
        &path.api_id,
        &path.integration_response_id,
    );
    let (id, owner) = (
        path.integration_response_id.clone(),
        path.integration_id.clone(),
    );
    let iid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let mut ir = tree
            .integration_responses
            .iter()
            .find(|r| r.integration_response_id == iid && r.integration_id == owner)
            .cloned()
            .ok_or(missing)?;
        ir.apply(body, profile)?;
        check_integration_response_key_free(tree, &ir)?;
        if let Some(slot) = tree
            .integration_responses
            .iter_mut()
            .find(|r| r.integration_response_id == iid)
        {
            *slot = ir;
        }
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::json(&record(&tree.integration_responses, &id)?.to_wire())
}

/// DELETE …/integrationresponses/{integrationResponseId} → 204.
pub async fn delete_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    let now = time::now();
    let missing = ctx.not_found(
        Kind::IntegrationResponse,
        &path.api_id,
        &path.integration_response_id,
    );
    let owner_missing = ctx.not_found(Kind::Integration, &path.api_id, &path.integration_id);
    let (id, owner) = (
        path.integration_response_id.clone(),
        path.integration_id.clone(),
    );
    change(svc, ctx, &path.api_id, move |tree| {
        if tree.integration(&owner).is_none() {
            return Err(owner_missing);
        }
        remove_one(
            &mut tree.integration_responses,
            |r| r.integration_response_id == id && r.integration_id == owner,
            missing,
        )?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}
