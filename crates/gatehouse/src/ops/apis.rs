//! CreateApi (with quick create), GetApi, GetApis, UpdateApi, DeleteApi,
//! DeleteCorsConfiguration:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html>.

use gatehouse_core::error::ApiResult;
use gatehouse_core::model::api::ApiInput;
use gatehouse_core::model::quick::{self, QuickCreate};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{time, Api};

use super::crud::{change, create_root, next_token, page_request};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::ApiPath;
use crate::wire::apis::ApiOut;
use crate::wire::{self, ListOut};

fn take_quick(body: &mut ApiInput) -> QuickCreate {
    QuickCreate {
        target: body.target.take(),
        route_key: body.route_key.take(),
        credentials_arn: body.credentials_arn.take(),
    }
}

/// POST /v2/apis → 201 Api. With `target`: quick create.
pub async fn create_api(svc: &Service, ctx: &Ctx, _: (), input: Input) -> ApiResult<Reply> {
    let mut body: ApiInput = wire::parse_body(&input.body)?;
    let qc = take_quick(&mut body);
    let now = time::now();
    let tree = create_root(svc, ctx, || {
        let mut tree = ApiTree::new(Api::create(ctx.new_id(10), body.clone(), now, ctx.profile)?);
        if !qc.is_empty() {
            quick::create(&mut tree, qc.clone(), now)?;
        }
        Ok(tree)
    })
    .await?;
    Reply::json(&ApiOut::new(
        &tree.api,
        &ctx.scope.region,
        ctx.profile,
        svc.config.api_endpoint_template.as_deref(),
    ))
}

/// GET /v2/apis/{apiId} → 200 Api.
pub async fn get_api(svc: &Service, ctx: &Ctx, path: ApiPath, _: Input) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    let api = svc
        .store
        .get_api(&ctx.scope, api_id)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Reply::json(&ApiOut::new(
        &api,
        &ctx.scope.region,
        ctx.profile,
        svc.config.api_endpoint_template.as_deref(),
    ))
}

/// GET /v2/apis → 200 {items, nextToken}.
pub async fn get_apis(svc: &Service, ctx: &Ctx, _: (), input: Input) -> ApiResult<Reply> {
    let listing = format!("apis|{}|{}", ctx.scope.account, ctx.scope.region);
    let req = page_request(&input, &listing)?;
    let found = svc
        .store
        .list_apis(&ctx.scope, req.after, req.limit)
        .await
        .map_err(|e| ctx.store_error(e, "", None))?;
    let next_token = next_token(&listing, &found);
    Reply::json(&ListOut {
        items: found
            .items
            .iter()
            .map(|(_, api)| {
                ApiOut::new(
                    api,
                    &ctx.scope.region,
                    ctx.profile,
                    svc.config.api_endpoint_template.as_deref(),
                )
            })
            .collect(),
        next_token,
    })
}

/// PATCH /v2/apis/{apiId} → 200 Api. A change redeploys the API's auto-deploy stages.
pub async fn update_api(svc: &Service, ctx: &Ctx, path: ApiPath, input: Input) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    let mut body: ApiInput = wire::parse_body(&input.body)?;
    // Not members of UpdateApiRequest: ignored like any unknown member.
    body.protocol_type = None;
    body.tags = None;
    let qc = take_quick(&mut body);
    let (now, profile) = (time::now(), ctx.profile);
    let tree = change(svc, ctx, api_id, move |tree| {
        let before = tree.api.clone();
        tree.api.apply(body, profile)?;
        let quick_changed = quick::update(tree, qc, profile)?;
        if quick_changed || tree.api != before {
            tree.redeploy_auto_stages(now);
        }
        Ok(())
    })
    .await?;
    Reply::json(&ApiOut::new(
        &tree.api,
        &ctx.scope.region,
        ctx.profile,
        svc.config.api_endpoint_template.as_deref(),
    ))
}

/// DELETE /v2/apis/{apiId} → 204; removes everything under the API.
pub async fn delete_api(svc: &Service, ctx: &Ctx, path: ApiPath, _: Input) -> ApiResult<Reply> {
    let api_id = &path.api_id;
    svc.store
        .delete_api(&ctx.scope, api_id)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Reply::empty()
}

/// DELETE /v2/apis/{apiId}/cors → 204; removes the API's CORS configuration (and, when there
/// was one, redeploys its auto-deploy stages like any change to the API).
pub async fn delete_cors_configuration(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    _: Input,
) -> ApiResult<Reply> {
    let now = time::now();
    change(svc, ctx, &path.api_id, move |tree| {
        if tree.api.cors_configuration.take().is_some() {
            tree.redeploy_auto_stages(now);
        }
        Ok(())
    })
    .await?;
    Reply::empty()
}
