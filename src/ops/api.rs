//! CreateApi, GetApi, GetApis, UpdateApi, DeleteApi:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html>.

use axum::http::StatusCode;

use super::{Ctx, Input, Reply, Service};
use crate::error::ApiResult;
use crate::model::api::ApiInput;
use crate::model::{ids, time, Api};
use crate::store::StoreError;
use crate::wire::{self, page, ApiOut, ListOut};

/// POST /v2/apis → 201 Api.
pub async fn create_api(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let body: ApiInput = wire::parse_body(&input.body)?;
    let now = time::now();
    // apiIds are random; on the rare collision, draw again.
    let mut attempts = 0;
    loop {
        let api = Api::create(ids::api_id(), body.clone(), now)?;
        match svc.store.create_api(&ctx.scope, api.clone()).await {
            Ok(()) => {
                return Reply::json(StatusCode::CREATED, &ApiOut::new(&api, &ctx.scope.region))
            }
            Err(StoreError::Conflict) if attempts < 5 => attempts += 1,
            Err(e) => return Err(ctx.store_error(e, &api.api_id, None)),
        }
    }
}

/// GET /v2/apis/{apiId} → 200 Api.
pub async fn get_api(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    let api = svc
        .store
        .get_api(&ctx.scope, api_id)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Reply::json(StatusCode::OK, &ApiOut::new(&api, &ctx.scope.region))
}

/// GET /v2/apis → 200 {items, nextToken}.
pub async fn get_apis(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let listing = format!("apis|{}|{}", ctx.scope.account, ctx.scope.region);
    let req = page::parse(
        wire::query_param(&input.query, "maxResults"),
        wire::query_param(&input.query, "nextToken"),
        &listing,
    )?;
    let found = svc
        .store
        .list_apis(&ctx.scope, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, "", None))?;
    let next_token = match found.items.last() {
        Some((seq, _)) if found.more => Some(page::token(&listing, *seq)),
        _ => None,
    };
    Reply::json(
        StatusCode::OK,
        &ListOut {
            items: found
                .items
                .iter()
                .map(|(_, api)| ApiOut::new(api, &ctx.scope.region))
                .collect(),
            next_token,
        },
    )
}

/// PATCH /v2/apis/{apiId} → 200 Api.
pub async fn update_api(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    let mut body: ApiInput = wire::parse_body(&input.body)?;
    // Not members of UpdateApiRequest: ignored like any unknown member.
    body.protocol_type = None;
    body.tags = None;
    let api = svc
        .store
        .update_api(&ctx.scope, api_id, Box::new(move |api| api.apply(body)))
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Reply::json(StatusCode::OK, &ApiOut::new(&api, &ctx.scope.region))
}

/// DELETE /v2/apis/{apiId} → 204; removes the API's stages too.
pub async fn delete_api(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let api_id = input.label(0)?;
    svc.store
        .delete_api(&ctx.scope, api_id)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Reply::no_content()
}
