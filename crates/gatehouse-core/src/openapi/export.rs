//! ExportApi: an HTTP API's routes, integrations, authorizers and CORS configuration as an
//! OpenAPI 3.0 definition, in the form AWS exports them (one path item per route path, the
//! `$default` route as `/$default` with `x-amazon-apigateway-any-method`).

use serde_json::{json, Map, Value};

use super::{X_ANY_METHOD, X_AUTHORIZER, X_CORS, X_IMPORTEXPORT, X_INTEGRATION};
use crate::error::{ApiError, ApiResult};
use crate::model::api::{Api, Cors};
use crate::model::authorizer::{Authorizer, AuthorizerType};
use crate::model::integration::{ConnectionType, Integration, IntegrationType};
use crate::model::route::{AuthorizationType, Route};

/// What an export writes: the API and the definition it serves (live, or a stage's
/// deployment).
pub struct Source<'a> {
    /// The API.
    pub api: &'a Api,
    /// Its routes.
    pub routes: &'a [Route],
    /// Its integrations.
    pub integrations: &'a [Integration],
    /// Its authorizers.
    pub authorizers: &'a [Authorizer],
    /// Its CORS configuration.
    pub cors: Option<&'a Cors>,
    /// The region, for the server URL.
    pub region: &'a str,
    /// The stage exported, if one was named.
    pub stage: Option<&'a str>,
}

/// Export options (ExportApi's query).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `includeExtensions` (default true).
    pub include_extensions: bool,
    /// `outputType` YAML rather than JSON.
    pub yaml: bool,
}

fn integration_ext(i: &Integration) -> Value {
    let mut x = Map::new();
    let kind = match i.integration_type {
        IntegrationType::AwsProxy => "aws_proxy",
        IntegrationType::HttpProxy => "http_proxy",
        IntegrationType::Aws => "aws",
        IntegrationType::Http => "http",
        IntegrationType::Mock => "mock",
    };
    x.insert("type".into(), json!(kind));
    if let Some(v) = &i.integration_method {
        x.insert("httpMethod".into(), json!(v));
    }
    if let Some(v) = &i.integration_uri {
        x.insert("uri".into(), json!(v));
    }
    if let Some(v) = &i.payload_format_version {
        x.insert("payloadFormatVersion".into(), json!(v));
    }
    if i.connection_type == ConnectionType::VpcLink {
        x.insert("connectionType".into(), json!("VPC_LINK"));
        if let Some(id) = &i.connection_id {
            x.insert("connectionId".into(), json!(id));
        }
    } else {
        x.insert("connectionType".into(), json!("INTERNET"));
    }
    if let Some(v) = &i.credentials_arn {
        x.insert("credentials".into(), json!(v));
    }
    if let Some(v) = &i.integration_subtype {
        x.insert("integrationSubtype".into(), json!(v));
    }
    if let Some(v) = &i.description {
        x.insert("description".into(), json!(v));
    }
    x.insert("timeoutInMillis".into(), json!(i.timeout_in_millis));
    if let Some(v) = &i.request_parameters {
        x.insert("requestParameters".into(), json!(v));
    }
    if let Some(v) = &i.response_parameters {
        x.insert("responseParameters".into(), json!(v));
    }
    if let Some(t) = &i.tls_config {
        x.insert("tlsConfig".into(), json!(t));
    }
    Value::Object(x)
}

fn authorizer_ext(a: &Authorizer) -> Value {
    let mut x = Map::new();
    match a.authorizer_type {
        AuthorizerType::Jwt => {
            x.insert("type".into(), json!("jwt"));
            if let Some(j) = &a.jwt_configuration {
                x.insert("jwtConfiguration".into(), json!(j));
            }
        }
        AuthorizerType::Request => {
            x.insert("type".into(), json!("request"));
            if let Some(v) = &a.authorizer_uri {
                x.insert("authorizerUri".into(), json!(v));
            }
            if let Some(v) = &a.authorizer_payload_format_version {
                x.insert("authorizerPayloadFormatVersion".into(), json!(v));
            }
            if let Some(v) = a.authorizer_result_ttl_in_seconds {
                x.insert("authorizerResultTtlInSeconds".into(), json!(v));
            }
            if let Some(v) = a.enable_simple_responses {
                x.insert("enableSimpleResponses".into(), json!(v));
            }
            if let Some(v) = &a.authorizer_credentials_arn {
                x.insert("authorizerCredentials".into(), json!(v));
            }
        }
    }
    if let Some(s) = &a.identity_source {
        x.insert("identitySource".into(), json!(s.join(", ")));
    }
    Value::Object(x)
}

/// The path parameters a route path declares.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| {
            json!({
                "name": name.trim_end_matches('+'),
                "in": "path",
                "required": true,
                "schema": {"type": "string"}
            })
        })
        .collect()
}

/// The definition, as a JSON value (extensions included or not).
pub fn document(src: &Source<'_>, include_extensions: bool) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemes: Map<String, Value> = Map::new();
    for route in src.routes {
        let (path, field, op) = operation(src, route, include_extensions, &mut schemes);
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = item.as_object_mut() {
            m.insert(field, Value::Object(op));
        }
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!("3.0.1"));
    doc.insert("info".into(), info(src));
    doc.insert(
        "servers".into(),
        json!([{
            "url": format!("https://{}.execute-api.{}.amazonaws.com/{{basePath}}", src.api.api_id, src.region),
            "variables": {"basePath": {"default": src.stage.unwrap_or("")}}
        }]),
    );
    doc.insert("paths".into(), Value::Object(paths));
    if !schemes.is_empty() {
        doc.insert("components".into(), json!({"securitySchemes": schemes}));
    }
    if include_extensions {
        if let Some(c) = src.cors {
            doc.insert(X_CORS.into(), json!(c));
        }
        doc.insert(X_IMPORTEXPORT.into(), json!("1.0"));
    }
    Value::Object(doc)
}

/// A route as an OpenAPI operation: its path, the path item's field (a lower-case method,
/// or the any-method extension) and the operation; the security scheme it uses is added to
/// `schemes`.
fn operation(
    src: &Source<'_>,
    route: &Route,
    include_extensions: bool,
    schemes: &mut Map<String, Value>,
) -> (String, String, Map<String, Value>) {
    let (method, path) = match route.route_key.split_once(' ') {
        Some((m, p)) => (m.to_string(), p.to_string()),
        None => ("ANY".to_string(), format!("/{}", route.route_key)),
    };
    let field = if method == "ANY" {
        X_ANY_METHOD.to_string()
    } else {
        method.to_ascii_lowercase()
    };
    let mut op = Map::new();
    op.insert(
        "responses".into(),
        json!({"default": {"description": format!("Default response for {}", route.route_key)}}),
    );
    let params = path_parameters(&path);
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    let integration = route
        .target
        .as_deref()
        .and_then(|t| t.strip_prefix("integrations/"))
        .and_then(|id| src.integrations.iter().find(|i| i.integration_id == id));
    if let (true, Some(i)) = (include_extensions, integration) {
        op.insert(X_INTEGRATION.into(), integration_ext(i));
    }
    if let Some((name, scopes, scheme)) = security(src, route, include_extensions) {
        op.insert("security".into(), json!([{ name.clone(): scopes }]));
        schemes.insert(name, scheme);
    }
    (path, field, op)
}

/// The security requirement of a route with an authorizer: the scheme's name, the scopes
/// it requires, and the scheme.
fn security(
    src: &Source<'_>,
    route: &Route,
    include_extensions: bool,
) -> Option<(String, Vec<String>, Value)> {
    let extension = |scheme: &mut Value, key: &str, value: Value| {
        if let (true, Some(m)) = (include_extensions, scheme.as_object_mut()) {
            m.insert(key.into(), value);
        }
    };
    match route.authorization_type {
        AuthorizationType::Jwt | AuthorizationType::Custom => {
            let a = route
                .authorizer_id
                .as_deref()
                .and_then(|id| src.authorizers.iter().find(|a| a.authorizer_id == id))?;
            let scopes = route.authorization_scopes.clone().unwrap_or_default();
            let mut scheme = json!({"type": "oauth2", "flows": {}});
            if a.authorizer_type == AuthorizerType::Request {
                let header = a
                    .identity_source
                    .as_ref()
                    .and_then(|s| s.first())
                    .and_then(|s| s.strip_prefix("$request.header."))
                    .unwrap_or("Unused");
                scheme = json!({"type": "apiKey", "name": header, "in": "header"});
            }
            extension(&mut scheme, X_AUTHORIZER, authorizer_ext(a));
            Some((a.name.clone(), scopes, scheme))
        }
        AuthorizationType::AwsIam => {
            let mut scheme = json!({"type": "apiKey", "name": "Authorization", "in": "header"});
            extension(
                &mut scheme,
                "x-amazon-apigateway-authtype",
                json!("awsSigv4"),
            );
            Some(("sigv4".into(), Vec::new(), scheme))
        }
        AuthorizationType::None => None,
    }
}

/// The definition's `info`: the API's name, version (its creation time when it has none)
/// and description.
fn info(src: &Source<'_>) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), json!(src.api.name));
    info.insert(
        "version".into(),
        json!(src
            .api
            .version
            .clone()
            .unwrap_or_else(|| crate::model::time::rfc3339(src.api.created))),
    );
    if let Some(d) = &src.api.description {
        info.insert("description".into(), json!(d));
    }
    Value::Object(info)
}

/// The document's top-level members in the order AWS's exports list them; the
/// `x-amazon-apigateway-*` members (and anything else) follow.
const TOP_LEVEL: [&str; 5] = ["openapi", "info", "servers", "paths", "components"];

/// A document whose top-level members are written in AWS's order.
struct InAwsOrder<'a>(&'a Map<String, Value>);

impl serde::Serialize for InAwsOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for key in TOP_LEVEL {
            if let Some(v) = self.0.get(key) {
                map.serialize_entry(key, v)?;
            }
        }
        for (k, v) in self
            .0
            .iter()
            .filter(|(k, _)| !TOP_LEVEL.contains(&k.as_str()))
        {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The definition as text, JSON or YAML, `openapi` first as in AWS's exports.
pub fn render(src: &Source<'_>, options: Options) -> ApiResult<String> {
    let doc = document(src, options.include_extensions);
    let empty = Map::new();
    let ordered = InAwsOrder(doc.as_object().unwrap_or(&empty));
    let out = if options.yaml {
        serde_yaml_ng::to_string(&ordered).map_err(|_| ())
    } else {
        serde_json::to_string_pretty(&ordered).map_err(|_| ())
    };
    out.map_err(|()| ApiError::internal("cannot render the exported definition"))
}
