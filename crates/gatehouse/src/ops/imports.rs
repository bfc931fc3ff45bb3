//! ImportApi, ReimportApi and ExportApi: HTTP APIs from and to OpenAPI 3.0 definitions
//! (<https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html>). The
//! definitions themselves are read and written by `gatehouse_core::openapi`.

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::api::ApiInput;
use gatehouse_core::model::deployment::Snapshot;
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{time, Api, ProtocolType, Stage};
use gatehouse_core::openapi::export::{self, Options, Source};
use gatehouse_core::openapi::import::{self, Basepath, Definition};
use gatehouse_core::store::{self, Record};
use serde::Deserialize;

use super::crud::{change, create_root, read};
use super::support::{Ctx, Input, Reply, Service};
use crate::api::paths::{ApiPath, ExportPath};
use crate::wire::apis::ApiOut;
use crate::wire::{self, query_param};

/// ImportApi's and ReimportApi's body.
#[derive(Deserialize)]
struct ImportBody {
    body: Option<String>,
}

/// Reads the definition a request carries, refusing it when it has warnings and
/// `failOnWarnings` is set.
fn definition(input: &Input) -> ApiResult<Definition> {
    let body: ImportBody = wire::parse_body(&input.body)?;
    let text = body
        .body
        .ok_or_else(|| ApiError::bad_request("Body is a required parameter"))?;
    let basepath = Basepath::parse(query_param(&input.query, "basepath"))?;
    let def = import::read(&text, basepath)?;
    let fail = match query_param(&input.query, "failOnWarnings") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid failOnWarnings: {other}. Must be true or false"
            )))
        }
    };
    if fail && !def.warnings.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Warnings found during import:\n\t{}",
            def.warnings.join("\n\t")
        )));
    }
    Ok(def)
}

/// The API in its wire shape, with the import's warnings.
fn answer(ctx: &Ctx, api: &Api, warnings: &[String], template: Option<&str>) -> ApiResult<Reply> {
    let mut out = serde_json::to_value(ApiOut::new(api, &ctx.scope.region, ctx.profile, template))
        .map_err(|_| ApiError::internal("cannot encode the API"))?;
    if let (false, Some(m)) = (warnings.is_empty(), out.as_object_mut()) {
        m.insert("warnings".into(), serde_json::json!(warnings));
    }
    Reply::json(&out)
}

/// PUT /v2/apis → 201 Api: a new HTTP API from an OpenAPI definition.
pub async fn import_api(svc: &Service, ctx: &Ctx, _: (), input: Input) -> ApiResult<Reply> {
    let def = definition(&input)?;
    let warnings = def.warnings.clone();
    let (now, profile) = (time::now(), ctx.profile);
    let tree = create_root(svc, ctx, || {
        let api = Api::create(
            ctx.new_id(10),
            ApiInput {
                name: Some(def.name.clone()),
                protocol_type: Some(ProtocolType::Http),
                ..Default::default()
            },
            now,
            profile,
        )?;
        let mut tree = ApiTree::new(api);
        import::apply(&mut tree, def.clone(), profile)?;
        Ok(tree)
    })
    .await?;
    answer(
        ctx,
        &tree.api,
        &warnings,
        svc.config.api_endpoint_template.as_deref(),
    )
}

/// PUT /v2/apis/{apiId} → 201 Api: the API's definition replaced by the document's.
pub async fn reimport_api(
    svc: &Service,
    ctx: &Ctx,
    path: ApiPath,
    input: Input,
) -> ApiResult<Reply> {
    let def = definition(&input)?;
    let warnings = def.warnings.clone();
    let (now, profile) = (time::now(), ctx.profile);
    let tree = change(svc, ctx, &path.api_id, move |tree| {
        import::apply(tree, def, profile)?;
        tree.redeploy_auto_stages(now);
        Ok(())
    })
    .await?;
    answer(
        ctx,
        &tree.api,
        &warnings,
        svc.config.api_endpoint_template.as_deref(),
    )
}

/// Every record of type `T` under API `api_id` (an API has at most a few hundred).
async fn all<T: Record>(svc: &Service, ctx: &Ctx, api_id: &str) -> ApiResult<Vec<T>> {
    let page = store::list::<T>(svc.store.as_ref(), &ctx.scope, api_id, 0, 100_000)
        .await
        .map_err(|e| ctx.store_error(e, api_id, None))?;
    Ok(page.items.into_iter().map(|(_, r)| r).collect())
}

/// GET /v2/apis/{apiId}/exports/{specification} → 200, the definition as the body: the live
/// API, or with `stageName` the deployment that stage serves.
pub async fn export_api(
    svc: &Service,
    ctx: &Ctx,
    path: ExportPath,
    input: Input,
) -> ApiResult<Reply> {
    if path.specification != "OAS30" {
        return Err(ApiError::bad_request(format!(
            "Invalid specification specified: {}. Must be one of [OAS30]",
            path.specification
        )));
    }
    let yaml = match query_param(&input.query, "outputType") {
        Some("JSON") => false,
        Some("YAML") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid outputType specified: {other}. Must be one of [JSON, YAML]"
            )))
        }
        None => return Err(ApiError::bad_request("OutputType is a required parameter")),
    };
    let include_extensions = !matches!(
        query_param(&input.query, "includeExtensions"),
        Some("false")
    );
    if let Some(v) = query_param(&input.query, "exportVersion") {
        if v != "1.0" {
            return Err(ApiError::bad_request(format!(
                "Invalid exportVersion specified: {v}. Must be one of [1.0]"
            )));
        }
    }
    let api = svc
        .store
        .get_api(&ctx.scope, &path.api_id)
        .await
        .map_err(|e| ctx.store_error(e, &path.api_id, None))?;
    if api.protocol_type != ProtocolType::Http {
        return Err(ApiError::bad_request(
            "Exporting an OpenAPI definition is supported only for HTTP APIs",
        ));
    }
    let stage_name = query_param(&input.query, "stageName");
    let snapshot = match stage_name {
        Some(name) => {
            let stage: Stage = read(svc, ctx, &path.api_id, name).await?;
            let deployment = stage.deployment_id.ok_or_else(|| {
                ApiError::bad_request(format!("Stage {name} has no deployment to export"))
            })?;
            store::get_snapshot(svc.store.as_ref(), &ctx.scope, &path.api_id, &deployment)
                .await
                .map_err(|e| ctx.store_error(e, &path.api_id, Some(&deployment)))?
        }
        None => Snapshot {
            routes: all(svc, ctx, &path.api_id).await?,
            integrations: all(svc, ctx, &path.api_id).await?,
            authorizers: all(svc, ctx, &path.api_id).await?,
            cors_configuration: api.cors_configuration.clone(),
            route_responses: Vec::new(),
        },
    };
    let src = Source {
        api: &api,
        routes: &snapshot.routes,
        integrations: &snapshot.integrations,
        authorizers: &snapshot.authorizers,
        cors: snapshot.cors_configuration.as_ref(),
        region: &ctx.scope.region,
        stage: stage_name,
    };
    let text = export::render(
        &src,
        Options {
            include_extensions,
            yaml,
        },
    )?;
    Ok(Reply {
        body: Some(text.into()),
        content_type: if yaml {
            "application/yaml"
        } else {
            "application/json"
        },
    })
}
