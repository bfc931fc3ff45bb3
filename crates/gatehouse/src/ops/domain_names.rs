//! Custom domain names, their API mappings and routing rules (the Gets and listings are the
//! generic root and child handlers):
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html>.

use gatehouse_core::compat::Rule;
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::domain_name::{
    check_mapping_key, ApiMapping, ApiMappingInput, DomainName, DomainNameInput, DomainNameTree,
    DOMAIN_EXISTS,
};
use gatehouse_core::model::routing_rule::{RoutingRule, RoutingRuleInput};
use gatehouse_core::model::{time, Stage};
use gatehouse_core::store::{Kind, StoreError, Tree};

use super::crud::{change_root, read, record, remove_one};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{ApiMappingPath, DomainNamePath, RoutingRulePath};
use crate::wire::{self, ToWire};

/// POST /v2/domainnames → 201 DomainName.
pub async fn create_domain_name(svc: &Service, ctx: &Ctx, _: (), input: Input) -> ApiResult<Reply> {
    let body: DomainNameInput = wire::parse_body(&input.body)?;
    let domain = DomainName::create(body, &ctx.scope.region, time::now(), ctx.profile)?;
    let tree = DomainNameTree::with_root(domain);
    match svc.store.create(&ctx.scope, &tree).await {
        Ok(()) => Reply::json(&tree.domain.to_wire()),
        Err(StoreError::Conflict) => Err(ApiError::conflict(DOMAIN_EXISTS)),
        Err(e) => Err(ctx.store_error(e, &tree.domain.domain_name, None)),
    }
}

/// PATCH /v2/domainnames/{domainName} → 200 DomainName.
pub async fn update_domain_name(
    svc: &Service,
    ctx: &Ctx,
    path: DomainNamePath,
    input: Input,
) -> ApiResult<Reply> {
    let mut body: DomainNameInput = wire::parse_body(&input.body)?;
    // Not members of UpdateDomainNameRequest: ignored like any unknown member.
    body.domain_name = None;
    body.tags = None;
    let (region, profile) = (ctx.scope.region.clone(), ctx.profile);
    let tree = change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| tree.domain.apply(body, &region, profile),
    )
    .await?;
    Reply::json(&tree.domain.to_wire())
}

/// DELETE /v2/domainnames/{domainName} → 204, with its API mappings and routing rules.
pub async fn delete_domain_name(
    svc: &Service,
    ctx: &Ctx,
    path: DomainNamePath,
    _: Input,
) -> ApiResult<Reply> {
    svc.store
        .delete_root(&ctx.scope, Kind::DomainName, &path.domain_name)
        .await
        .map_err(|e| ctx.store_error(e, &path.domain_name, None))?;
    Reply::empty()
}

/// Checks that the API exists and has the stage (AWS answers an unknown stage with 400).
async fn check_target(svc: &Service, ctx: &Ctx, api_id: &str, stage: &str) -> ApiResult<()> {
    let known = svc.store.get_api(&ctx.scope, api_id).await;
    match known {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) if !ctx.profile.enforces(Rule::ApiMappingTexts) => {
            return Err(ApiError::not_found(
                "Invalid API identifier specified The resource specified in the request was not found.",
            ))
        }
        Err(e) => return Err(ctx.store_error(e, api_id, None)),
    }
    if !ctx.profile.enforces(Rule::ApiMappingStageExists) {
        return Ok(());
    }
    match read::<Stage>(svc, ctx, api_id, stage).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind == gatehouse_core::error::ErrorKind::NotFound => {
            Err(ApiError::bad_request("Invalid stage identifier specified"))
        }
        Err(e) => Err(e),
    }
}

/// POST /v2/domainnames/{domainName}/apimappings → 201 ApiMapping.
pub async fn create_api_mapping(
    svc: &Service,
    ctx: &Ctx,
    path: DomainNamePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: ApiMappingInput = wire::parse_body(&input.body)?;
    // The domain name first, as AWS checks it first.
    let _: DomainName = svc
        .store
        .root(&ctx.scope, &path.domain_name)
        .await
        .map_err(|e| ctx.store_error(e, &path.domain_name, None))?;
    let (Some(api_id), Some(stage)) = (body.api_id, body.stage) else {
        return Err(ApiError::bad_request(
            "ApiId and Stage are required parameters",
        ));
    };
    let key = body.api_mapping_key.unwrap_or_default();
    check_mapping_key(&key)?;
    check_target(svc, ctx, &api_id, &stage).await?;
    let id = ctx.new_id(6);
    let mid = id.clone();
    let tree = change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            if tree.api_mappings.iter().any(|m| m.api_mapping_id == mid) {
                return Err(ApiError::conflict(ID_TAKEN));
            }
            tree.check_key_free(&key, None)?;
            tree.api_mappings.push(ApiMapping {
                api_mapping_id: mid,
                api_id,
                stage,
                api_mapping_key: key,
            });
            Ok(())
        },
    )
    .await?;
    Reply::json(record(&tree.api_mappings, &id)?)
}

/// PATCH /v2/domainnames/{domainName}/apimappings/{apiMappingId} → 200 ApiMapping.
pub async fn update_api_mapping(
    svc: &Service,
    ctx: &Ctx,
    path: ApiMappingPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: ApiMappingInput = wire::parse_body(&input.body)?;
    let current: ApiMapping = read(svc, ctx, &path.domain_name, &path.api_mapping_id).await?;
    let api_id = body.api_id.unwrap_or(current.api_id);
    let stage = body.stage.unwrap_or(current.stage);
    let key = body.api_mapping_key.unwrap_or(current.api_mapping_key);
    check_mapping_key(&key)?;
    check_target(svc, ctx, &api_id, &stage).await?;
    let id = path.api_mapping_id.clone();
    let missing = ctx.not_found(Kind::ApiMapping, &path.domain_name, &id);
    let mid = id.clone();
    let tree = change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            tree.check_key_free(&key, Some(&mid))?;
            let m = tree
                .api_mappings
                .iter_mut()
                .find(|m| m.api_mapping_id == mid)
                .ok_or(missing)?;
            m.api_id = api_id;
            m.stage = stage;
            m.api_mapping_key = key;
            Ok(())
        },
    )
    .await?;
    Reply::json(record(&tree.api_mappings, &id)?)
}

/// DELETE /v2/domainnames/{domainName}/apimappings/{apiMappingId} → 204.
pub async fn delete_api_mapping(
    svc: &Service,
    ctx: &Ctx,
    path: ApiMappingPath,
    _: Input,
) -> ApiResult<Reply> {
    let id = path.api_mapping_id.clone();
    let missing = ctx.not_found(Kind::ApiMapping, &path.domain_name, &id);
    change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            remove_one(&mut tree.api_mappings, |m| m.api_mapping_id == id, missing)
        },
    )
    .await?;
    Reply::empty()
}

/// The ARN AWS gives a routing rule.
fn rule_arn(ctx: &Ctx, domain: &str, id: &str) -> String {
    format!(
        "arn:aws:apigateway:{}:{}:/domainnames/{domain}/routingrules/{id}",
        ctx.scope.region, ctx.scope.account
    )
}

/// POST /v2/domainnames/{domainName}/routingrules → 201 RoutingRule.
pub async fn create_routing_rule(
    svc: &Service,
    ctx: &Ctx,
    path: DomainNamePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: RoutingRuleInput = wire::parse_body(&input.body)?;
    let id = ctx.new_id(6);
    let rule = RoutingRule::build(id.clone(), rule_arn(ctx, &path.domain_name, &id), body)?;
    let tree = change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            if tree
                .routing_rules
                .iter()
                .any(|r| r.routing_rule_id == rule.routing_rule_id)
            {
                return Err(ApiError::conflict(ID_TAKEN));
            }
            tree.check_priority_free(rule.priority, None)?;
            tree.routing_rules.push(rule);
            Ok(())
        },
    )
    .await?;
    Reply::json(record(&tree.routing_rules, &id)?)
}

/// PUT /v2/domainnames/{domainName}/routingrules/{routingRuleId} → 200 RoutingRule (every
/// member replaced).
pub async fn put_routing_rule(
    svc: &Service,
    ctx: &Ctx,
    path: RoutingRulePath,
    input: Input,
) -> ApiResult<Reply> {
    let body: RoutingRuleInput = wire::parse_body(&input.body)?;
    let id = path.routing_rule_id.clone();
    let rule = RoutingRule::build(id.clone(), rule_arn(ctx, &path.domain_name, &id), body)?;
    let missing = ctx.not_found(Kind::RoutingRule, &path.domain_name, &id);
    let tree = change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            tree.check_priority_free(rule.priority, Some(&rule.routing_rule_id))?;
            let slot = tree
                .routing_rules
                .iter_mut()
                .find(|r| r.routing_rule_id == rule.routing_rule_id)
                .ok_or(missing)?;
            *slot = rule;
            Ok(())
        },
    )
    .await?;
    Reply::json(record(&tree.routing_rules, &id)?)
}

/// DELETE /v2/domainnames/{domainName}/routingrules/{routingRuleId} → 204.
pub async fn delete_routing_rule(
    svc: &Service,
    ctx: &Ctx,
    path: RoutingRulePath,
    _: Input,
) -> ApiResult<Reply> {
    let id = path.routing_rule_id.clone();
    let missing = ctx.not_found(Kind::RoutingRule, &path.domain_name, &id);
    change_root(
        svc,
        ctx,
        &path.domain_name,
        move |tree: &mut DomainNameTree| {
            remove_one(
                &mut tree.routing_rules,
                |r| r.routing_rule_id == id,
                missing,
            )
        },
    )
    .await?;
    Reply::empty()
}
