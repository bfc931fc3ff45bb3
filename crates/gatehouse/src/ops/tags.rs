//! TagResource, UntagResource, GetTags on API and stage ARNs:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/tags-resource-arn.html>.
//! Tags set here and tags given at CreateApi/CreateStage are the same data.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{change, read, Ctx, Input, Reply, Service};
use crate::error::{ApiError, ApiResult};
use crate::model::arn::{self, TagTarget};
use crate::model::tags;
use crate::model::tree::ApiTree;
use crate::model::Stage;
use crate::wire;

#[derive(Debug, Default, Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
struct TagsOut<'a> {
    tags: &'a BTreeMap<String, String>,
}

/// The resource an ARN label names, checked against the caller's region.
fn target(ctx: &Ctx, input: &Input) -> ApiResult<TagTarget> {
    let raw = input.label(0)?;
    let parsed = arn::parse(raw)?;
    if parsed.region != ctx.scope.region {
        return Err(ApiError::not_found(format!(
            "Invalid resource identifier specified: {raw} is not in region {}",
            ctx.scope.region
        )));
    }
    Ok(parsed.target)
}

/// Runs `f` on the tag map of the resource `t` names.
async fn edit_tags(
    svc: &Service,
    ctx: &Ctx,
    t: TagTarget,
    f: impl FnOnce(&mut BTreeMap<String, String>) -> ApiResult<()> + Send + 'static,
) -> ApiResult<()> {
    match t {
        TagTarget::Api { api_id } => {
            change(svc, ctx, &api_id, move |tree: &mut ApiTree| {
                f(&mut tree.api.tags)
            })
            .await?;
        }
        TagTarget::Stage { api_id, stage_name } => {
            let missing = ctx.stage_not_found(&api_id, &stage_name);
            change(svc, ctx, &api_id, move |tree: &mut ApiTree| {
                let stage = tree.stage_mut(&stage_name).ok_or(missing)?;
                f(&mut stage.tags)
            })
            .await?;
        }
    }
    Ok(())
}

/// POST /v2/tags/{resource-arn} → 201 `{}`; merges the given tags.
pub async fn tag_resource(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let t = target(ctx, &input)?;
    let body: TagInput = wire::parse_body(&input.body)?;
    let new = body
        .tags
        .ok_or_else(|| ApiError::bad_request("Invalid input: tags is required"))?;
    edit_tags(svc, ctx, t, move |current| {
        current.extend(new);
        tags::validate(current)
    })
    .await?;
    Reply::json_text(StatusCode::CREATED, "{}")
}

/// DELETE /v2/tags/{resource-arn}?tagKeys=a&tagKeys=b → 204.
pub async fn untag_resource(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    let t = target(ctx, &input)?;
    let keys: Vec<String> = input
        .query
        .iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v.clone())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid input: tagKeys is required (repeat it once per key)",
        ));
    }
    edit_tags(svc, ctx, t, move |current| {
        for k in &keys {
            current.remove(k);
        }
        Ok(())
    })
    .await?;
    Reply::no_content()
}

/// GET /v2/tags/{resource-arn} → 200 `{"tags": {...}}`.
pub async fn get_tags(svc: &Service, ctx: &Ctx, input: Input) -> ApiResult<Reply> {
    match target(ctx, &input)? {
        TagTarget::Api { api_id } => {
            let api = svc
                .store
                .get_api(&ctx.scope, &api_id)
                .await
                .map_err(|e| ctx.store_error(e, &api_id, None))?;
            Reply::json(StatusCode::OK, &TagsOut { tags: &api.tags })
        }
        TagTarget::Stage { api_id, stage_name } => {
            let stage: Stage = read(svc, ctx, &api_id, &stage_name).await?;
            Reply::json(StatusCode::OK, &TagsOut { tags: &stage.tags })
        }
    }
}
