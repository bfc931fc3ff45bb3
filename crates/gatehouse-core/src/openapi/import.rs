//! ImportApi and ReimportApi: an OpenAPI 3.0 definition (JSON or YAML) to an HTTP API's
//! routes, integrations, authorizers and CORS configuration.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{parse_document, text, METHODS, X_AUTHORIZER, X_CORS, X_INTEGRATION};
use crate::compat::Profile;
use crate::error::{ApiError, ApiResult};
use crate::model::api::Cors;
use crate::model::authorizer::{Authorizer, AuthorizerInput, JwtConfiguration};
use crate::model::integration::{
    ConnectionType, Integration, IntegrationInput, IntegrationType, TlsConfig,
};
use crate::model::route::{validate_route_key, AuthorizationType, Route, RouteInput};
use crate::model::tree::ApiTree;
use crate::model::ProtocolType;

/// How the definition's base path (the path of its first server URL) is used: `basepath`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Basepath {
    /// Not used (the default).
    #[default]
    Ignore,
    /// Put in front of every route path.
    Prepend,
    /// Its first part dropped, the rest put in front of every route path.
    Split,
}

impl Basepath {
    /// Parses the `basepath` query parameter.
    pub fn parse(s: Option<&str>) -> ApiResult<Basepath> {
        match s {
            None | Some("ignore") => Ok(Basepath::Ignore),
            Some("prepend") => Ok(Basepath::Prepend),
            Some("split") => Ok(Basepath::Split),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid basepath specified: {other}. Must be one of [ignore, prepend, split]"
            ))),
        }
    }
}

/// A route the definition declares.
#[derive(Debug, Clone)]
pub struct ImportedRoute {
    /// Its route key.
    pub key: String,
    /// Its integration, if it has one.
    pub integration: Option<IntegrationInput>,
    /// The security scheme it uses and the scopes it asks for.
    pub security: Option<(String, Vec<String>)>,
}

/// What a definition declares.
#[derive(Debug, Clone)]
pub struct Definition {
    /// `info.title`.
    pub name: String,
    /// `info.version`.
    pub version: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// `x-amazon-apigateway-cors`.
    pub cors: Option<Cors>,
    /// Authorizers by security-scheme name.
    pub authorizers: Vec<(String, AuthorizerInput)>,
    /// Security schemes that stand for IAM authorization.
    pub iam_schemes: Vec<String>,
    /// The routes, in document order.
    pub routes: Vec<ImportedRoute>,
    /// What was found but not understood, worded as AWS words it.
    pub warnings: Vec<String>,
}

fn bad(at: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid OpenAPI definition at {at}: {why}"))
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(a) => Some(a.iter().filter_map(text).collect()),
        Value::String(s) => Some(
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        ),
        _ => None,
    }
}

fn string_map(v: Option<&Value>) -> Option<BTreeMap<String, String>> {
    Some(
        v?.as_object()?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
            .collect(),
    )
}

/// The base path of the first server URL (`https://x/{basePath}` with its variable's
/// default, or the URL's path).
fn base_path(doc: &Value) -> String {
    let Some(server) = doc.get("servers").and_then(|s| s.get(0)) else {
        return String::new();
    };
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, var) in vars {
            let default = var.get("default").and_then(text).unwrap_or_default();
            url = url.replace(&format!("{{{name}}}"), &default);
        }
    }
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url.as_str(),
    };
    path.trim_end_matches('/').to_string()
}

fn with_base(path: &str, base: &str, mode: Basepath) -> String {
    let base = match mode {
        Basepath::Ignore => return path.to_string(),
        Basepath::Prepend => base.to_string(),
        Basepath::Split => {
            let trimmed = base.trim_start_matches('/');
            match trimmed.split_once('/') {
                Some((_, rest)) => format!("/{rest}"),
                None => String::new(),
            }
        }
    };
    if path == "/" && !base.is_empty() {
        base
    } else {
        format!("{base}{path}")
    }
}

/// Collects a warning for every `$ref` under `value` that names nothing in `doc`.
/// `media_types`: `value` is a `content` map, whose keys (media types) are not part of the
/// path AWS reports.
fn check_refs(doc: &Value, value: &Value, at: &str, media_types: bool, warnings: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        if !resolves(doc, r) {
                            warnings.push(format!("Parse issue: attribute {at}.{r} is missing"));
                        }
                    }
                    continue;
                }
                let next = if media_types {
                    at.to_string()
                } else {
                    format!("{at}.{k}")
                };
                check_refs(doc, v, &next, !media_types && k == "content", warnings);
            }
        }
        Value::Array(items) => {
            for item in items {
                check_refs(doc, item, at, false, warnings);
            }
        }
        _ => {}
    }
}

fn resolves(doc: &Value, r: &str) -> bool {
    let Some(pointer) = r.strip_prefix('#') else {
        return true; // External references are not followed.
    };
    doc.pointer(pointer).is_some()
}

fn integration_input(x: &Map<String, Value>, at: &str) -> ApiResult<IntegrationInput> {
    let kind = x
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(at, "the integration has no type"))?;
    let integration_type = match kind.to_ascii_uppercase().as_str() {
        "HTTP_PROXY" => IntegrationType::HttpProxy,
        "AWS_PROXY" => IntegrationType::AwsProxy,
        other => {
            return Err(bad(
                at,
                &format!("integration type {other} is not supported for HTTP APIs; use AWS_PROXY or HTTP_PROXY"),
            ))
        }
    };
    let connection_type = match x.get("connectionType").and_then(Value::as_str) {
        None => None,
        Some(c) if c.eq_ignore_ascii_case("INTERNET") => Some(ConnectionType::Internet),
        Some(c) if c.eq_ignore_ascii_case("VPC_LINK") => Some(ConnectionType::VpcLink),
        Some(other) => return Err(bad(at, &format!("unknown connectionType {other}"))),
    };
    let response_parameters = x
        .get("responseParameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(code, params)| Some((code.clone(), string_map(Some(params))?)))
                .collect()
        });
    Ok(IntegrationInput {
        integration_type: Some(integration_type),
        integration_uri: x.get("uri").and_then(text),
        integration_method: x.get("httpMethod").and_then(text),
        payload_format_version: x.get("payloadFormatVersion").and_then(text),
        connection_type,
        connection_id: x.get("connectionId").and_then(text),
        credentials_arn: x.get("credentials").and_then(text),
        description: x.get("description").and_then(text),
        integration_subtype: x.get("integrationSubtype").and_then(text),
        timeout_in_millis: x
            .get("timeoutInMillis")
            .and_then(Value::as_i64)
            .and_then(|t| i32::try_from(t).ok()),
        request_parameters: string_map(x.get("requestParameters")),
        response_parameters,
        tls_config: x.get("tlsConfig").map(|t| TlsConfig {
            server_name_to_verify: t.get("serverNameToVerify").and_then(text),
        }),
        ..Default::default()
    })
}

fn authorizer_input(name: &str, x: &Map<String, Value>, at: &str) -> ApiResult<AuthorizerInput> {
    let kind = x
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(at, "the authorizer has no type"))?;
    let authorizer_type = match kind.to_ascii_lowercase().as_str() {
        "jwt" => "JWT",
        "request" => "REQUEST",
        other => {
            return Err(bad(
                at,
                &format!("authorizer type {other} is not supported"),
            ))
        }
    };
    let jwt = x.get("jwtConfiguration").map(|j| JwtConfiguration {
        audience: string_list(j.get("audience")),
        issuer: j.get("issuer").and_then(text),
    });
    Ok(AuthorizerInput {
        name: Some(name.to_string()),
        authorizer_type: Some(authorizer_type.to_string()),
        identity_source: string_list(x.get("identitySource")),
        jwt_configuration: jwt,
        authorizer_uri: x.get("authorizerUri").and_then(text),
        authorizer_credentials_arn: x.get("authorizerCredentials").and_then(text),
        authorizer_payload_format_version: x.get("authorizerPayloadFormatVersion").and_then(text),
        authorizer_result_ttl_in_seconds: x
            .get("authorizerResultTtlInSeconds")
            .and_then(Value::as_i64)
            .and_then(|t| i32::try_from(t).ok()),
        enable_simple_responses: x.get("enableSimpleResponses").and_then(Value::as_bool),
        identity_validation_expression: x.get("identityValidationExpression").and_then(text),
    })
}

/// Reads a definition (`body`), placing its paths under the base path as `basepath` says.
pub fn read(body: &str, basepath: Basepath) -> ApiResult<Definition> {
    let doc = parse_document(body)?;
    check_version(&doc)?;
    let info = doc.get("info");
    let name = info
        .and_then(|i| i.get("title"))
        .and_then(text)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("info.title", "a title is required"))?;
    let cors = match doc.get(X_CORS) {
        None => None,
        Some(c) => Some(
            serde_json::from_value::<Cors>(strip_unknown_cors(c))
                .map_err(|_| bad(X_CORS, "the CORS configuration is malformed"))?,
        ),
    };
    let (authorizers, iam_schemes) = security_schemes(&doc)?;
    let mut warnings = Vec::new();
    let routes = routes(&doc, basepath, &mut warnings)?;
    Ok(Definition {
        name,
        version: info.and_then(|i| i.get("version")).and_then(text),
        description: info.and_then(|i| i.get("description")).and_then(text),
        cors,
        authorizers,
        iam_schemes,
        routes,
        warnings,
    })
}

/// Refuses a document that is not OpenAPI 3.
fn check_version(doc: &Value) -> ApiResult<()> {
    match doc.get("openapi").and_then(text) {
        Some(v) if v.starts_with("3.") => Ok(()),
        Some(v) => Err(bad(
            "openapi",
            &format!("version {v} is not supported; HTTP APIs import OpenAPI 3.0 definitions"),
        )),
        None if doc.get("swagger").is_some() => Err(bad(
            "swagger",
            "OpenAPI 2.0 (Swagger) definitions are not supported for HTTP APIs; use OpenAPI 3.0",
        )),
        None => Err(bad("openapi", "the document has no openapi version")),
    }
}

/// The authorizers the security schemes define (by scheme name), and the schemes that
/// stand for `AWS_IAM`.
type Schemes = (Vec<(String, AuthorizerInput)>, Vec<String>);

/// The document's security schemes: its authorizers and its `AWS_IAM` schemes.
fn security_schemes(doc: &Value) -> ApiResult<Schemes> {
    let mut authorizers = Vec::new();
    let mut iam_schemes = Vec::new();
    let schemes = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    for (scheme, def) in schemes.into_iter().flatten() {
        let at = format!("components.securitySchemes.{scheme}");
        if let Some(x) = def.get(X_AUTHORIZER).and_then(Value::as_object) {
            authorizers.push((scheme.clone(), authorizer_input(scheme, x, &at)?));
        } else if def
            .get("x-amazon-apigateway-authtype")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4"))
        {
            iam_schemes.push(scheme.clone());
        }
    }
    Ok((authorizers, iam_schemes))
}

/// The routes the document's paths define, each operation one route.
fn routes(
    doc: &Value,
    basepath: Basepath,
    warnings: &mut Vec<String>,
) -> ApiResult<Vec<ImportedRoute>> {
    let base = base_path(doc);
    let mut routes = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        let Some(item) = item.as_object() else {
            continue;
        };
        if !path.starts_with('/') {
            warnings.push(format!(
                "Parse issue: attribute paths. Resource {path} should start with /"
            ));
        }
        for (field, method) in METHODS {
            let Some(op) = item.get(*field) else {
                continue;
            };
            let at = format!("paths.'{path}'({field})");
            check_refs(doc, op, &at, false, warnings);
            let key = if *method == "ANY" && is_default_route(path, op) {
                "$default".to_string()
            } else {
                format!("{method} {}", with_base(path, &base, basepath))
            };
            routes.push(ImportedRoute {
                key,
                integration: route_integration(doc, op, &at)?,
                security: route_security(doc, op),
            });
        }
    }
    Ok(routes)
}

/// Whether an `ANY` operation is the `$default` route: its path is `/$default` (as AWS
/// exports it) or `$default` (as SAM writes its implicit API), or it says `isDefaultRoute`.
fn is_default_route(path: &str, op: &Value) -> bool {
    matches!(path, "/$default" | "$default")
        || op.get("isDefaultRoute").and_then(Value::as_bool) == Some(true)
}

/// An operation's integration extension (followed through a `$ref`), read.
fn route_integration(doc: &Value, op: &Value, at: &str) -> ApiResult<Option<IntegrationInput>> {
    let mut x_integration = op.get(X_INTEGRATION).cloned();
    if let Some(r) = x_integration
        .as_ref()
        .and_then(|x| x.get("$ref"))
        .and_then(Value::as_str)
    {
        x_integration = r.strip_prefix('#').and_then(|p| doc.pointer(p)).cloned();
    }
    match x_integration.as_ref().and_then(Value::as_object) {
        Some(x) => Ok(Some(integration_input(
            x,
            &format!("{at}.{X_INTEGRATION}"),
        )?)),
        None => Ok(None),
    }
}

/// An operation's security requirement (else the document's): its scheme and scopes.
fn route_security(doc: &Value, op: &Value) -> Option<(String, Vec<String>)> {
    op.get("security")
        .or_else(|| doc.get("security"))
        .and_then(|s| s.get(0))
        .and_then(Value::as_object)
        .and_then(|m| m.iter().next())
        .map(|(scheme, scopes)| {
            (
                scheme.clone(),
                string_list(Some(scopes)).unwrap_or_default(),
            )
        })
}

/// The CORS members AWS knows, in its camelCase; others are ignored.
fn strip_unknown_cors(c: &Value) -> Value {
    const KNOWN: &[&str] = &[
        "allowOrigins",
        "allowMethods",
        "allowHeaders",
        "exposeHeaders",
        "maxAge",
        "allowCredentials",
    ];
    match c.as_object() {
        Some(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| KNOWN.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => c.clone(),
    }
}

/// Replaces the API's definition in `tree` (name, version, description, CORS, routes,
/// integrations, authorizers) with `def`'s; stages and deployments stay.
pub fn apply(tree: &mut ApiTree, def: Definition, profile: Profile) -> ApiResult<()> {
    if tree.api.protocol_type != ProtocolType::Http {
        return Err(ApiError::bad_request(
            "Importing an OpenAPI definition is supported only for HTTP APIs",
        ));
    }
    tree.api.name = def.name;
    tree.api.version = def.version;
    tree.api.description = def.description;
    if let Some(c) = &def.cors {
        c.validate()?;
    }
    tree.api.cors_configuration = def.cors;
    tree.routes.clear();
    tree.integrations.clear();
    tree.authorizers.clear();
    tree.route_responses.clear();
    tree.integration_responses.clear();
    let mut by_scheme = BTreeMap::new();
    for (scheme, input) in def.authorizers {
        let id = tree.fresh_authorizer_id();
        let a = Authorizer::create(id, input, ProtocolType::Http, profile)?;
        by_scheme.insert(scheme, (a.authorizer_id.clone(), a.authorizer_type));
        tree.authorizers.push(a);
    }
    for r in def.routes {
        validate_route_key(ProtocolType::Http, &r.key)?;
        tree.check_route_key_free(&r.key, None)?;
        let target = match r.integration {
            Some(input) => {
                let id = tree.fresh_integration_id();
                let i = Integration::create(id.clone(), input, ProtocolType::Http, profile)?;
                tree.integrations.push(i);
                Some(format!("integrations/{id}"))
            }
            None => None,
        };
        let mut route_input = RouteInput {
            route_key: Some(r.key),
            target,
            ..Default::default()
        };
        if let Some((scheme, scopes)) = r.security {
            if let Some((id, kind)) = by_scheme.get(&scheme) {
                let jwt = *kind == crate::model::authorizer::AuthorizerType::Jwt;
                route_input.authorization_type = Some(if jwt {
                    AuthorizationType::Jwt
                } else {
                    AuthorizationType::Custom
                });
                route_input.authorizer_id = Some(id.clone());
                if jwt && !scopes.is_empty() {
                    route_input.authorization_scopes = Some(scopes);
                }
            } else if def.iam_schemes.contains(&scheme) {
                route_input.authorization_type = Some(AuthorizationType::AwsIam);
            }
        }
        if !profile.enforces(crate::compat::Rule::ImportShape) {
            route_input
                .authorization_scopes
                .get_or_insert_with(Vec::new);
            route_input
                .request_parameters
                .get_or_insert_with(BTreeMap::new);
        }
        let route = Route::create(tree.fresh_route_id(), route_input)?;
        tree.routes.push(route);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_and_json_with_warnings() {
        let yaml = "openapi: 3.0.1\ninfo:\n  title: pets\n  version: 2.0\npaths:\n  /pets/{id}:\n    get:\n      x-amazon-apigateway-integration:\n        type: http_proxy\n        httpMethod: GET\n        uri: https://example.com/{id}\n        payloadFormatVersion: '1.0'\n";
        let d = read(yaml, Basepath::Ignore).unwrap();
        assert_eq!(d.name, "pets");
        assert_eq!(d.version.as_deref(), Some("2.0"));
        assert_eq!(d.routes[0].key, "GET /pets/{id}");
        let json = r##"{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/update":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Missing"}}}}}}}}}"##;
        let d = read(json, Basepath::Ignore).unwrap();
        assert_eq!(
            d.warnings,
            ["Parse issue: attribute paths.'/update'(get).responses.200.content.schema.#/components/schemas/Missing is missing"]
        );
        for bad in [
            "{",
            "swagger: '2.0'\ninfo:\n  title: x\n",
            "openapi: 3.0.1\ninfo: {}\n",
            "- a\n",
        ] {
            assert!(read(bad, Basepath::Ignore).is_err(), "{bad}");
        }
    }

    #[test]
    fn sams_catch_all_path_is_the_default_route() {
        // What the SAM transform writes for a function's HttpApi event without a path.
        let sam = r#"{"openapi":"3.0.1","info":{"title":"t","version":"1.0"},"paths":{"$default":{"x-amazon-apigateway-any-method":{"isDefaultRoute":true,"x-amazon-apigateway-integration":{"type":"aws_proxy","httpMethod":"POST","uri":"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations","payloadFormatVersion":"2.0"}}}}}"#;
        let read_sam = read(sam, Basepath::Ignore).unwrap();
        assert_eq!(read_sam.routes[0].key, "$default");
        // AWS imports it, with a warning (aws/serverless-application-model#2297).
        assert_eq!(
            read_sam.warnings,
            ["Parse issue: attribute paths. Resource $default should start with /"]
        );
        let flagged = r#"{"openapi":"3.0.1","info":{"title":"t"},"paths":{"/anything":{"x-amazon-apigateway-any-method":{"isDefaultRoute":true}}}}"#;
        assert_eq!(
            read(flagged, Basepath::Ignore).unwrap().routes[0].key,
            "$default"
        );
        let plain = r#"{"openapi":"3.0.1","info":{"title":"t"},"paths":{"/anything":{"x-amazon-apigateway-any-method":{}}}}"#;
        assert_eq!(
            read(plain, Basepath::Ignore).unwrap().routes[0].key,
            "ANY /anything"
        );
    }

    #[test]
    fn base_paths() {
        let doc = r#"{"openapi":"3.0.1","info":{"title":"t"},"servers":[{"url":"https://x.example.com/{basePath}","variables":{"basePath":{"default":"v1/api"}}}],"paths":{"/pets":{"get":{}}}}"#;
        let key = |m| read(doc, m).unwrap().routes[0].key.clone();
        assert_eq!(key(Basepath::Ignore), "GET /pets");
        assert_eq!(key(Basepath::Prepend), "GET /v1/api/pets");
        assert_eq!(key(Basepath::Split), "GET /api/pets");
    }
}
