//! Reading, listing and changing records the same way for every kind: one record in its
//! wire shape, a page of them, a change to a root's tree in one transaction.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::store::{self, Page, Record, StoreError, Tree};

use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::PathParams;
use crate::wire::{self, page, ToWire};

/// Runs `f` on root `id`'s tree in one store transaction; returns the tree after it.
pub async fn change_root<T: Tree>(
    svc: &Service,
    ctx: &Ctx,
    id: &str,
    f: impl FnOnce(&mut T) -> ApiResult<()> + Send + 'static,
) -> ApiResult<T> {
    svc.store
        .change(&ctx.scope, id, Box::new(f))
        .await
        .map_err(|e| ctx.store_error(e, id, None))
}

/// Removes the one item of `items` that `is_it` picks; `missing` when there is none.
pub fn remove_one<T>(
    items: &mut Vec<T>,
    is_it: impl Fn(&T) -> bool,
    missing: ApiError,
) -> ApiResult<()> {
    let before = items.len();
    items.retain(|item| !is_it(item));
    if items.len() == before {
        return Err(missing);
    }
    Ok(())
}

/// Stores a new root drawn by `draw` (which picks a random id each time); on the rare id
/// collision, draws again (six draws in all, as many as any caller needs).
pub async fn create_root<T: Tree>(
    svc: &Service,
    ctx: &Ctx,
    mut draw: impl FnMut() -> ApiResult<T>,
) -> ApiResult<T> {
    let mut attempts = 0;
    loop {
        let tree = draw()?;
        match svc.store.create(&ctx.scope, &tree).await {
            Ok(()) => return Ok(tree),
            Err(StoreError::Conflict) if attempts < 5 => attempts += 1,
            Err(e) => return Err(ctx.store_error(e, tree.root().key(), None)),
        }
    }
}

/// Runs `f` on API `api_id`'s tree in one store transaction; returns the tree after it.
pub async fn change(
    svc: &Service,
    ctx: &Ctx,
    api_id: &str,
    f: impl FnOnce(&mut ApiTree) -> ApiResult<()> + Send + 'static,
) -> ApiResult<ApiTree> {
    change_root(svc, ctx, api_id, f).await
}

/// Record `key` of `items` (a tree's list after a change that kept or made it).
pub fn record<'t, T: Record>(items: &'t [T], key: &str) -> ApiResult<&'t T> {
    items
        .iter()
        .find(|r| r.key() == key)
        .ok_or_else(|| ApiError::internal(format!("{} missing after change", T::KIND.as_str())))
}

/// Reads child record `key` of root `root_id`.
pub async fn read<T: Record>(svc: &Service, ctx: &Ctx, root_id: &str, key: &str) -> ApiResult<T> {
    store::get::<T>(svc.store.as_ref(), &ctx.scope, root_id, key)
        .await
        .map_err(|e| ctx.store_error(e, root_id, Some(key)))
}

/// Answers a Get of child record `key` of root `root_id`, in its wire shape.
pub async fn get_child<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    root_id: &str,
    key: &str,
) -> ApiResult<Reply> {
    let doc = svc
        .store
        .get_doc(&ctx.scope, root_id, T::KIND, key)
        .await
        .map_err(|e| ctx.store_error(e, root_id, Some(key)))?;
    Reply::json_text(svc.renders.render::<T>(&doc)?)
}

/// The page a listing request asks for (`maxResults`, `nextToken`).
pub fn page_request(input: &Input, listing: &str) -> ApiResult<page::PageRequest> {
    page::parse(
        wire::query_param(&input.query, "maxResults"),
        wire::query_param(&input.query, "nextToken"),
        listing,
    )
}

/// The `nextToken` after `found`, if records follow it.
pub fn next_token<T>(listing: &str, found: &Page<T>) -> Option<String> {
    match found.items.last() {
        Some((seq, _)) if found.more => Some(page::token(listing, *seq)),
        _ => None,
    }
}

/// Answers a paginated listing of root `root_id`'s children of type `T`:
/// `{items, nextToken}`.
pub async fn list_children<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    root_id: &str,
    input: &Input,
) -> ApiResult<Reply> {
    let listing = format!(
        "{}|{}|{}|{root_id}",
        T::KIND.as_str(),
        ctx.scope.account,
        ctx.scope.region
    );
    let req = page_request(input, &listing)?;
    let found = svc
        .store
        .list_docs(&ctx.scope, root_id, T::KIND, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, root_id, None))?;
    page_reply::<T>(svc, &listing, &found)
}

/// Answers a paginated listing of root `root_id`'s children of type `T` that `keep` accepts
/// (the responses of one route, …); `scope` names the subset in the pagination token.
pub async fn list_children_where<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    root_id: &str,
    input: &Input,
    scope: &str,
    keep: impl Fn(&T) -> bool,
) -> ApiResult<Reply> {
    let listing = format!(
        "{}|{}|{}|{root_id}|{scope}",
        T::KIND.as_str(),
        ctx.scope.account,
        ctx.scope.region
    );
    let req = page_request(input, &listing)?;
    let mut found: Page<String> = Page {
        items: Vec::new(),
        more: false,
    };
    let mut after = req.after;
    'scan: loop {
        let chunk = svc
            .store
            .list_docs(&ctx.scope, root_id, T::KIND, after, 500)
            .await
            .map_err(|e| ctx.store_error(e, root_id, None))?;
        for (seq, doc) in chunk.items {
            after = seq;
            let record: T =
                serde_json::from_str(&doc).map_err(|e| StoreError::from(e).into_api_error())?;
            if keep(&record) {
                if found.items.len() == req.limit {
                    found.more = true;
                    break 'scan;
                }
                found.items.push((seq, doc));
            }
        }
        if !chunk.more {
            break;
        }
    }
    page_reply::<T>(svc, &listing, &found)
}

/// `{"items":[...],"nextToken":"..."}` (as `wire::ListOut` serializes it; the list member is
/// the type's [`ToWire::LIST_MEMBER`]) from a page of
/// stored documents, each rendered once.
fn page_reply<T: Record + ToWire>(
    svc: &Service,
    listing: &str,
    found: &Page<String>,
) -> ApiResult<Reply> {
    let mut body = Vec::with_capacity(64 + found.items.iter().map(|(_, d)| d.len()).sum::<usize>());
    body.extend_from_slice(b"{\"");
    body.extend_from_slice(T::LIST_MEMBER.as_bytes());
    body.extend_from_slice(b"\":[");
    for (i, (_, doc)) in found.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&svc.renders.render::<T>(doc)?);
    }
    body.push(b']');
    if let Some(token) = next_token(listing, found) {
        body.extend_from_slice(b",\"nextToken\":");
        body.extend_from_slice(wire::to_json(&token)?.as_bytes());
    }
    body.push(b'}');
    Reply::json_text(body)
}

/// A Get of one child record (GetStage, GetRoute, …): the record of type `T` the path's
/// last label names, under the root its first label names, in its wire shape.
pub async fn get<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    path: impl PathParams,
    _: Input,
) -> ApiResult<Reply> {
    get_child::<T>(svc, ctx, path.root_id(), path.key()).await
}

/// A paginated listing of child records (GetStages, GetRoutes, …): the records of type `T`
/// under the root the path's first label names.
pub async fn list<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    path: impl PathParams,
    input: Input,
) -> ApiResult<Reply> {
    list_children::<T>(svc, ctx, path.root_id(), &input).await
}

/// A Get of one root record (GetVpcLink, …): the root of type `T` the path's first label
/// names, in its wire shape.
pub async fn get_root<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    path: impl PathParams,
    _: Input,
) -> ApiResult<Reply> {
    let id = path.root_id();
    let doc = svc
        .store
        .get_root(&ctx.scope, T::KIND, id)
        .await
        .map_err(|e| ctx.store_error(e, id, None))?;
    Reply::json_text(svc.renders.render::<T>(&doc)?)
}

/// A paginated listing of root records of type `T` (GetVpcLinks, …): `{items, nextToken}`.
pub async fn list_roots<T: Record + ToWire>(
    svc: &Service,
    ctx: &Ctx,
    _: impl PathParams,
    input: Input,
) -> ApiResult<Reply> {
    let listing = format!(
        "{}|{}|{}",
        T::KIND.as_str(),
        ctx.scope.account,
        ctx.scope.region
    );
    let req = page_request(&input, &listing)?;
    let found = svc
        .store
        .list_roots(&ctx.scope, T::KIND, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, "", None))?;
    page_reply::<T>(svc, &listing, &found)
}
