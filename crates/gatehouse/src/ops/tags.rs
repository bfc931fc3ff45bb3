//! TagResource, UntagResource, GetTags on API, stage, VPC link and domain name ARNs:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/tags-resource-arn.html>.
//! Tags set here and tags given at CreateApi/CreateStage are the same data.

use std::collections::BTreeMap;

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::arn::{self, TagTarget};
use gatehouse_core::model::domain_name::{DomainName, DomainNameTree};
use gatehouse_core::model::tags;
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::vpc_link::{VpcLink, VpcLinkTree};
use gatehouse_core::model::Stage;

use super::crud::{change, change_root, read};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::ResourceArnPath;
use crate::wire;
use crate::wire::tags::{TagInput, TagsOut};

/// The resource an ARN label names, checked against the caller's region.
fn target(ctx: &Ctx, path: &ResourceArnPath) -> ApiResult<TagTarget> {
    let raw = &path.resource_arn;
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
        TagTarget::VpcLink { vpc_link_id } => {
            change_root(svc, ctx, &vpc_link_id, move |tree: &mut VpcLinkTree| {
                f(&mut tree.vpc_link.tags)
            })
            .await?;
        }
        TagTarget::DomainName { domain_name } => {
            change_root(svc, ctx, &domain_name, move |tree: &mut DomainNameTree| {
                f(&mut tree.domain.tags)
            })
            .await?;
        }
    }
    Ok(())
}

/// POST /v2/tags/{resource-arn} → 201 `{}`; merges the given tags.
pub async fn tag_resource(
    svc: &Service,
    ctx: &Ctx,
    path: ResourceArnPath,
    input: Input,
) -> ApiResult<Reply> {
    let t = target(ctx, &path)?;
    let body: TagInput = wire::parse_body(&input.body)?;
    let new = body
        .tags
        .ok_or_else(|| ApiError::bad_request("Invalid input: tags is required"))?;
    edit_tags(svc, ctx, t, move |current| {
        current.extend(new);
        tags::validate(current)
    })
    .await?;
    Reply::json_text("{}")
}

/// DELETE /v2/tags/{resource-arn}?tagKeys=a&tagKeys=b → 204.
pub async fn untag_resource(
    svc: &Service,
    ctx: &Ctx,
    path: ResourceArnPath,
    input: Input,
) -> ApiResult<Reply> {
    let t = target(ctx, &path)?;
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
    Reply::empty()
}

/// GET /v2/tags/{resource-arn} → 200 `{"tags": {...}}`.
pub async fn get_tags(
    svc: &Service,
    ctx: &Ctx,
    path: ResourceArnPath,
    _: Input,
) -> ApiResult<Reply> {
    match target(ctx, &path)? {
        TagTarget::Api { api_id } => {
            let api = svc
                .store
                .get_api(&ctx.scope, &api_id)
                .await
                .map_err(|e| ctx.store_error(e, &api_id, None))?;
            Reply::json(&TagsOut { tags: &api.tags })
        }
        TagTarget::Stage { api_id, stage_name } => {
            let stage: Stage = read(svc, ctx, &api_id, &stage_name).await?;
            Reply::json(&TagsOut { tags: &stage.tags })
        }
        TagTarget::VpcLink { vpc_link_id } => {
            let link: VpcLink = svc
                .store
                .root(&ctx.scope, &vpc_link_id)
                .await
                .map_err(|e| ctx.store_error(e, &vpc_link_id, None))?;
            Reply::json(&TagsOut { tags: &link.tags })
        }
        TagTarget::DomainName { domain_name } => {
            let domain: DomainName = svc
                .store
                .root(&ctx.scope, &domain_name)
                .await
                .map_err(|e| ctx.store_error(e, &domain_name, None))?;
            Reply::json(&TagsOut { tags: &domain.tags })
        }
    }
}
