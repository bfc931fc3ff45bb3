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
use gatehouse_core::model::{time, ProtocolType};
use gatehouse_core::store::Record;

use super::crud::{change, list_children_where, read, record, remove_one};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{IntegrationPath, IntegrationResponsePath, RoutePath, RouteResponsePath};
use crate::wire::{self, ToWire};

/// A record that belongs to another record of the same API (its owner), kept in the API's
/// tree; each owner's records have distinct response keys.
trait Owned: Record + ToWire {
    /// The owner's record type.
    type Owner: Record;
    /// What it is created and updated from.
    type Input: serde::de::DeserializeOwned + Send + 'static;
    /// What the AWS error texts call the family (`Route responses`).
    const FAMILY: &'static str;
    /// The AWS conflict text for a response key its owner already has, around the key
    /// (`Route response with key ` … ` already exists for this route`).
    const KEY_TAKEN: (&'static str, &'static str);
    /// The owner's id.
    fn owner(&self) -> &str;
    /// Its response key.
    fn response_key(&self) -> &str;
    /// The family's records in an API's tree.
    fn all(tree: &ApiTree) -> &Vec<Self>;
    /// The same, to change.
    fn all_mut(tree: &mut ApiTree) -> &mut Vec<Self>;
    /// Whether the tree holds owner `id`.
    fn owner_exists(tree: &ApiTree, id: &str) -> bool;
    /// A new record `id` of owner `owner`.
    fn create(owner: String, id: String, input: Self::Input, profile: Profile) -> ApiResult<Self>;
    /// Applies an update.
    fn apply(&mut self, input: Self::Input, profile: Profile) -> ApiResult<()>;
}

impl Owned for RouteResponse {
    type Owner = Route;
    type Input = RouteResponseInput;
    const FAMILY: &'static str = "Route responses";
    const KEY_TAKEN: (&'static str, &'static str) =
        ("Route response with key ", " already exists for this route");
    fn owner(&self) -> &str {
        &self.route_id
    }
    fn response_key(&self) -> &str {
        &self.route_response_key
    }
    fn all(tree: &ApiTree) -> &Vec<Self> {
        &tree.route_responses
    }
    fn all_mut(tree: &mut ApiTree) -> &mut Vec<Self> {
        &mut tree.route_responses
    }
    fn owner_exists(tree: &ApiTree, id: &str) -> bool {
        tree.routes.iter().any(|r| r.route_id == id)
    }
    fn create(owner: String, id: String, input: Self::Input, profile: Profile) -> ApiResult<Self> {
        RouteResponse::create(owner, id, input, profile)
    }
    fn apply(&mut self, input: Self::Input, profile: Profile) -> ApiResult<()> {
        RouteResponse::apply(self, input, profile)
    }
}

impl Owned for IntegrationResponse {
    type Owner = Integration;
    type Input = IntegrationResponseInput;
    const FAMILY: &'static str = "Integration responses";
    const KEY_TAKEN: (&'static str, &'static str) = (
        "Integration response with key ",
        " already exists for this integration",
    );
    fn owner(&self) -> &str {
        &self.integration_id
    }
    fn response_key(&self) -> &str {
        &self.integration_response_key
    }
    fn all(tree: &ApiTree) -> &Vec<Self> {
        &tree.integration_responses
    }
    fn all_mut(tree: &mut ApiTree) -> &mut Vec<Self> {
        &mut tree.integration_responses
    }
    fn owner_exists(tree: &ApiTree, id: &str) -> bool {
        tree.integration(id).is_some()
    }
    fn create(owner: String, id: String, input: Self::Input, profile: Profile) -> ApiResult<Self> {
        IntegrationResponse::create(owner, id, input, profile)
    }
    fn apply(&mut self, input: Self::Input, profile: Profile) -> ApiResult<()> {
        IntegrationResponse::apply(self, input, profile)
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

/// Answers a Create: a record of owner `owner` with a new id, whose response key the owner
/// does not have yet.
async fn create_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let body: T::Input = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let missing = ctx.not_found(<T::Owner as Record>::KIND, api_id, owner);
    let (id, owner) = (ctx.new_id(6), owner.to_string());
    let new_id = id.clone();
    let tree = change(svc, ctx, api_id, move |tree| {
        let exists = T::owner_exists(tree, &owner);
        check_owner(tree, profile, T::FAMILY, exists, &missing)?;
        if T::all(tree).iter().any(|r| r.key() == new_id) {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let created = T::create(owner, new_id, body, profile)?;
        check_key_free(tree, &created)?;
        T::all_mut(tree).push(created);
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    let reply = Reply::json(&record(T::all(&tree), &id)?.to_wire());
    reply
}

/// Refuses `r` when another record of its owner has its response key.
fn check_key_free<T: Owned>(tree: &ApiTree, r: &T) -> ApiResult<()> {
    if T::all(tree).iter().any(|o| {
        o.owner() == r.owner() && o.key() != r.key() && o.response_key() == r.response_key()
    }) {
        let (before, after) = T::KEY_TAKEN;
        return Err(ApiError::conflict(format!(
            "{before}{}{after}",
            r.response_key()
        )));
    }
    Ok(())
}

/// Answers an Update of record `id` of owner `owner`.
async fn update_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    id: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let body: T::Input = wire::parse_body(&input.body)?;
    let (profile, now) = (ctx.profile, time::now());
    let _: T = read_owned(svc, ctx, api_id, owner, id).await?;
    let missing = ctx.not_found(T::KIND, api_id, id);
    let (key, owner) = (id.to_string(), owner.to_string());
    let tree = change(svc, ctx, api_id, move |tree| {
        let mut changed = T::all(tree)
            .iter()
            .find(|r| r.key() == key && r.owner() == owner)
            .cloned()
            .ok_or(missing)?;
        changed.apply(body, profile)?;
        check_key_free(tree, &changed)?;
        if let Some(slot) = T::all_mut(tree).iter_mut().find(|r| r.key() == key) {
            *slot = changed;
        }
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    let reply = Reply::json(&record(T::all(&tree), id)?.to_wire());
    reply
}

/// Answers a Delete of record `id` of owner `owner` (which must exist).
async fn delete_owned<T: Owned>(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    owner: &str,
    id: &str,
) -> ApiResult<Reply> {
    let now = time::now();
    let missing = ctx.not_found(T::KIND, api_id, id);
    let owner_missing = ctx.not_found(<T::Owner as Record>::KIND, api_id, owner);
    let (key, owner) = (id.to_string(), owner.to_string());
    change(svc, ctx, api_id, move |tree| {
        if !T::owner_exists(tree, &owner) {
            return Err(owner_missing);
        }
        remove_one(
            T::all_mut(tree),
            |r| r.key() == key && r.owner() == owner,
            missing,
        )?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// POST /v2/apis/{apiId}/routes/{routeId}/routeresponses → 201 RouteResponse.
pub async fn create_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RoutePath,
    input: Input,
) -> ApiResult<Reply> {
    create_owned::<RouteResponse>(svc, ctx, &path.api_id, &path.route_id, &input).await
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
    update_owned::<RouteResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.route_id,
        &path.route_response_id,
        &input,
    )
    .await
}

/// DELETE /v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId} → 204.
pub async fn delete_route_response(
    svc: &Service,
    ctx: &Ctx,
    path: RouteResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    delete_owned::<RouteResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.route_id,
        &path.route_response_id,
    )
    .await
}

/// POST /v2/apis/{apiId}/integrations/{integrationId}/integrationresponses → 201.
pub async fn create_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationPath,
    input: Input,
) -> ApiResult<Reply> {
    create_owned::<IntegrationResponse>(svc, ctx, &path.api_id, &path.integration_id, &input).await
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
    update_owned::<IntegrationResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.integration_id,
        &path.integration_response_id,
        &input,
    )
    .await
}

/// DELETE …/integrationresponses/{integrationResponseId} → 204.
pub async fn delete_integration_response(
    svc: &Service,
    ctx: &Ctx,
    path: IntegrationResponsePath,
    _: Input,
) -> ApiResult<Reply> {
    delete_owned::<IntegrationResponse>(
        svc,
        ctx,
        &path.api_id,
        &path.integration_id,
        &path.integration_response_id,
    )
    .await
}
