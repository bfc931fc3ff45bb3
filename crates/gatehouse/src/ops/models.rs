//! CreateModel, UpdateModel, DeleteModel, GetModelTemplate (GetModel and GetModels are the
//! generic child handlers):
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-models.html>.

use gatehouse_core::compat;
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::api_model::{Model, ModelInput};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::ProtocolType;
use gatehouse_core::store::Kind;
use serde::Serialize;

use super::crud::{change, read, record};
use super::support::{Ctx, Input, Reply, Service, ID_TAKEN};
use crate::api::paths::{ApiPath, ModelPath};
use crate::wire;

/// Refuses a model name another model of the API has.
fn check_name_free(tree: &ApiTree, name: &str, except: &str) -> ApiResult<()> {
    if tree
        .models
        .iter()
        .any(|m| m.name == name && m.model_id != except)
    {
        return Err(ApiError::conflict(format!(
            "Model with name {name} already exists for this API"
        )));
    }
    Ok(())
}

/// POST /v2/apis/{apiId}/models → 201 Model.
pub async fn create_model(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: ModelInput = wire::parse_body(&input.body)?;
    let profile = ctx.profile;
    let id = ctx.new_id(6);
    let mid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let ws = tree.api.protocol_type == ProtocolType::WebSocket;
        compat::websocket_only(profile, ws, "Models").map_err(ApiError::bad_request)?;
        if tree.models.iter().any(|m| m.model_id == mid) {
            return Err(ApiError::conflict(ID_TAKEN));
        }
        let model = Model::create(mid, body, profile)?;
        check_name_free(tree, &model.name, &model.model_id)?;
        tree.models.push(model);
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.models, &id)?)
}

/// PATCH /v2/apis/{apiId}/models/{modelId} → 200 Model.
pub async fn update_model(
    svc: &Service,
    ctx: &Ctx,
    path: ModelPath,
    input: Input,
) -> ApiResult<Reply> {
    let body: ModelInput = wire::parse_body(&input.body)?;
    let profile = ctx.profile;
    let id = path.model_id.clone();
    let missing = ctx.not_found(Kind::Model, &path.api_id, &id);
    let mid = id.clone();
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        let mut model = tree
            .models
            .iter()
            .find(|m| m.model_id == mid)
            .cloned()
            .ok_or(missing)?;
        let old_name = model.name.clone();
        model.apply(body, profile)?;
        check_name_free(tree, &model.name, &mid)?;
        if model.name != old_name {
            if let Some(r) = route_using(tree, &old_name) {
                return Err(ApiError::conflict(format!(
                    "Cannot rename model '{old_name}', is referenced in route: {r}"
                )));
            }
        }
        if let Some(slot) = tree.models.iter_mut().find(|m| m.model_id == mid) {
            *slot = model;
        }
        Ok(())
    })
    .await?;
    Reply::json(record(&tree.models, &id)?)
}

/// The key of a route whose request models (or a response of which) name model `name`.
fn route_using(tree: &ApiTree, name: &str) -> Option<String> {
    let names = |m: &Option<std::collections::BTreeMap<String, String>>| {
        m.as_ref().is_some_and(|m| m.values().any(|v| v == name))
    };
    tree.routes
        .iter()
        .find(|r| names(&r.request_models))
        .map(|r| r.route_key.clone())
        .or_else(|| {
            let rr = tree
                .route_responses
                .iter()
                .find(|rr| names(&rr.response_models))?;
            tree.routes
                .iter()
                .find(|r| r.route_id == rr.route_id)
                .map(|r| r.route_key.clone())
        })
}

/// DELETE /v2/apis/{apiId}/models/{modelId} → 204; refused (409) while a route uses it.
pub async fn delete_model(svc: &Service, ctx: &Ctx, path: ModelPath, _: Input) -> ApiResult<Reply> {
    let id = path.model_id.clone();
    let missing = ctx.not_found(Kind::Model, &path.api_id, &id);
    change(svc, ctx, &path.api_id, move |tree| {
        let model = tree
            .models
            .iter()
            .find(|m| m.model_id == id)
            .ok_or(missing)?;
        if let Some(r) = route_using(tree, &model.name) {
            return Err(ApiError::conflict(format!(
                "Cannot delete model '{}', is referenced in route: {r}",
                model.name
            )));
        }
        tree.models.retain(|m| m.model_id != id);
        Ok(())
    })
    .await?;
    Reply::empty()
}

/// GetModelTemplate's answer.
#[derive(Serialize)]
struct TemplateOut {
    value: String,
}

/// GET /v2/apis/{apiId}/models/{modelId}/template → 200 `{"value": "..."}`.
pub async fn get_model_template(
    svc: &Service,
    ctx: &Ctx,
    path: ModelPath,
    _: Input,
) -> ApiResult<Reply> {
    let model: Model = read(svc, ctx, &path.api_id, &path.model_id).await?;
    Reply::json(&TemplateOut {
        value: model.template(),
    })
}
