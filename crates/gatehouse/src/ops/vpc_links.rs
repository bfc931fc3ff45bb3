//! CreateVpcLink, UpdateVpcLink, DeleteVpcLink (GetVpcLink and GetVpcLinks are the generic
//! root handlers): <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html>.

use gatehouse_core::compat::Rule;
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::integration::{ConnectionType, Integration};
use gatehouse_core::model::route::Route;
use gatehouse_core::model::vpc_link::{VpcLink, VpcLinkInput, VpcLinkTree};
use gatehouse_core::model::{time, ProtocolType, Scope};
use gatehouse_core::store::{self, Kind, Page, StoreError, Tree};

use super::crud::{change_root, create_root};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::VpcLinkPath;
use crate::wire;
use crate::wire::vpc_links::VpcLinkOut;

/// POST /v2/vpclinks → 201 VpcLink (status `PENDING`, as AWS answers while it provisions).
pub async fn create_vpc_link(svc: &Service, ctx: &Ctx, _: (), input: Input) -> ApiResult<Reply> {
    let body: VpcLinkInput = wire::parse_body(&input.body)?;
    // The id is drawn (again, on a collision) when the link is stored.
    let link = VpcLink::create(String::new(), body, time::now(), ctx.profile)?;
    let tree = create_root(svc, ctx, || {
        let mut tree = VpcLinkTree::with_root(link.clone());
        tree.vpc_link.vpc_link_id = ctx.new_id(6);
        Ok(tree)
    })
    .await?;
    if ctx.profile.enforces(Rule::VpcLinkProvisioning) {
        Reply::json(&VpcLinkOut::just_created(&tree.vpc_link))
    } else {
        Reply::json(&VpcLinkOut::new(&tree.vpc_link))
    }
}

/// PATCH /v2/vpclinks/{vpcLinkId} → 200 VpcLink (the name only).
pub async fn update_vpc_link(
    svc: &Service,
    ctx: &Ctx,
    path: VpcLinkPath,
    input: Input,
) -> ApiResult<Reply> {
    let mut body: VpcLinkInput = wire::parse_body(&input.body)?;
    // Not members of UpdateVpcLinkRequest: ignored like any unknown member.
    body.subnet_ids = None;
    body.security_group_ids = None;
    body.tags = None;
    let tree = change_root(
        svc,
        ctx,
        &path.vpc_link_id,
        move |tree: &mut VpcLinkTree| tree.vpc_link.apply(body),
    )
    .await?;
    Reply::json(&VpcLinkOut::new(&tree.vpc_link))
}

/// DELETE /v2/vpclinks/{vpcLinkId} → 202 `{}`; refused while an integration of an HTTP API
/// connects through it.
pub async fn delete_vpc_link(
    svc: &Service,
    ctx: &Ctx,
    path: VpcLinkPath,
    _: Input,
) -> ApiResult<Reply> {
    let id = &path.vpc_link_id;
    let _: VpcLink = svc
        .store
        .root(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_error(e, id, None))?;
    if let Some(users) = users_of(svc, &ctx.scope, id)
        .await
        .map_err(|e| ctx.store_error(e, id, None))?
    {
        return Err(ApiError::bad_request(format!(
            "Cannot delete vpc link. Vpc link '{id}', is referenced in [{}] in format of [Method:Resource].",
            users.join(", ")
        )));
    }
    svc.store
        .delete_root(&ctx.scope, Kind::VpcLink, id)
        .await
        .map_err(|e| ctx.store_error(e, id, None))?;
    Reply::json_text("{}")
}

/// Every page of a listing, from `fetch(after, limit)`.
async fn all<T, F, Fut>(mut fetch: F) -> store::StoreResult<Vec<T>>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = store::StoreResult<Page<T>>>,
{
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = fetch(after).await?;
        after = page.items.last().map_or(after, |(seq, _)| *seq);
        out.extend(page.items.into_iter().map(|(_, item)| item));
        if !page.more {
            return Ok(out);
        }
    }
}

/// What uses VPC link `id`, as AWS lists it (`METHOD:routeId` for each route whose
/// integration connects through it), or `None` if no integration of an HTTP API in `scope`
/// does.
async fn users_of(
    svc: &Service,
    scope: &Scope,
    id: &str,
) -> store::StoreResult<Option<Vec<String>>> {
    const PAGE: usize = 500;
    let store = svc.store.as_ref();
    let apis = all(|after| store.list_apis(scope, after, PAGE)).await?;
    let mut used = false;
    let mut users = Vec::new();
    for api in apis
        .iter()
        .filter(|a| a.protocol_type == ProtocolType::Http)
    {
        let api_id = api.api_id.as_str();
        let integrations: Vec<Integration> =
            all(|after| store::list(store, scope, api_id, after, PAGE)).await?;
        let through: Vec<&Integration> = integrations
            .iter()
            .filter(|i| {
                i.connection_type == ConnectionType::VpcLink
                    && i.connection_id.as_deref() == Some(id)
            })
            .collect();
        if through.is_empty() {
            continue;
        }
        used = true;
        let routes: Vec<Route> =
            all(|after| store::list(store, scope, api_id, after, PAGE)).await?;
        for i in through {
            let target = format!("integrations/{}", i.integration_id);
            let method = i.integration_method.as_deref().unwrap_or("ANY");
            users.extend(
                routes
                    .iter()
                    .filter(|r| r.target.as_deref() == Some(target.as_str()))
                    .map(|r| format!("{method}:{}", r.route_id)),
            );
        }
    }
    Ok(used.then_some(users))
}

/// Checks, before a change, that VPC link `id` exists in the caller's scope; a missing one
/// is what an integration of an HTTP API may not connect through.
pub async fn vpc_link_exists(svc: &Service, ctx: &Ctx, id: &str) -> ApiResult<bool> {
    match svc.store.root::<VpcLink>(&ctx.scope, id).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(ctx.store_error(e, id, None)),
    }
}
