//! ImportApi, ReimportApi and ExportApi: OpenAPI 3.0 definitions in and out, and the round
//! trip export → import.

use aws_sdk_apigatewayv2::types::{
    AuthorizationType, AuthorizerType, Cors, IntegrationType, JwtConfiguration,
};
use aws_sdk_apigatewayv2::Client;

use crate::common::*;

const YAML: &str = r#"openapi: 3.0.1
info:
  title: pets
  version: 2.0
x-amazon-apigateway-cors:
  allowOrigins:
    - https://example.com
  allowMethods:
    - GET
components:
  securitySchemes:
    jwt:
      type: oauth2
      flows: {}
      x-amazon-apigateway-authorizer:
        type: jwt
        identitySource: $request.header.Authorization
        jwtConfiguration:
          issuer: https://issuer.example.com
          audience:
            - app
paths:
  /pets/{id}:
    get:
      security:
        - jwt:
            - pets:read
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: https://backend.example.com/pets/{id}
        payloadFormatVersion: '1.0'
  /$default:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:lambda:us-east-1:123456789012:function:fallback
        payloadFormatVersion: '2.0'
"#;

async fn export(c: &Client, api: &str, yaml: bool, stage: Option<&str>) -> String {
    let out = c
        .export_api()
        .api_id(api)
        .specification("OAS30")
        .output_type(if yaml { "YAML" } else { "JSON" })
        .set_stage_name(stage.map(String::from))
        .send()
        .await
        .expect("export");
    String::from_utf8(out.body().expect("a body").as_ref().to_vec()).expect("UTF-8")
}

/// Routes (key, authorization, integration type and uri) and authorizers of an API, sorted.
async fn shape(c: &Client, api: &str) -> Vec<String> {
    let integrations = c.get_integrations().api_id(api).send().await.unwrap();
    let mut out: Vec<String> = c
        .get_routes()
        .api_id(api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|r| {
            let i = r.target().and_then(|t| {
                integrations.items().iter().find(|i| {
                    Some(format!("integrations/{}", i.integration_id().unwrap()))
                        == Some(t.to_string())
                })
            });
            format!(
                "{} {:?} {:?} {:?} {:?}",
                r.route_key().unwrap(),
                r.authorization_type(),
                r.authorization_scopes(),
                i.and_then(|i| i.integration_type()),
                i.and_then(|i| i.integration_uri()),
            )
        })
        .collect();
    for a in c
        .get_authorizers()
        .api_id(api)
        .send()
        .await
        .unwrap()
        .items()
    {
        out.push(format!(
            "authorizer {:?} {:?} {:?}",
            a.name(),
            a.authorizer_type(),
            a.jwt_configuration()
        ));
    }
    out.sort();
    out
}

#[tokio::test]
async fn import_reads_routes_integrations_authorizers_and_cors() {
    let s = server().await;
    let c = client(&s);
    let api = c.import_api().body(YAML).send().await.unwrap();
    assert_eq!((api.name(), api.version()), (Some("pets"), Some("2.0")));
    assert_eq!(
        api.cors_configuration().unwrap().allow_origins(),
        ["https://example.com"]
    );
    let id = api.api_id().unwrap().to_string();
    let routes = c.get_routes().api_id(&id).send().await.unwrap();
    let mut keys: Vec<_> = routes
        .items()
        .iter()
        .filter_map(|r| r.route_key())
        .collect();
    keys.sort();
    assert_eq!(keys, ["$default", "GET /pets/{id}"]);
    let pets = routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /pets/{id}"))
        .unwrap();
    assert_eq!(pets.authorization_type(), Some(&AuthorizationType::Jwt));
    assert_eq!(pets.authorization_scopes(), ["pets:read"]);
    let auth = c.get_authorizers().api_id(&id).send().await.unwrap();
    assert_eq!(
        auth.items()[0].authorizer_type(),
        Some(&AuthorizerType::Jwt)
    );
    assert_eq!(pets.authorizer_id(), auth.items()[0].authorizer_id());
    let integrations = c.get_integrations().api_id(&id).send().await.unwrap();
    let mut types: Vec<_> = integrations
        .items()
        .iter()
        .filter_map(|i| i.integration_type().map(|t| t.as_str().to_string()))
        .collect();
    types.sort();
    assert_eq!(types, ["AWS_PROXY", "HTTP_PROXY"]);
}

#[tokio::test]
async fn export_then_import_gives_the_same_api() {
    let s = server().await;
    let c = client(&s);
    // Built by hand: a JWT authorizer, CORS, a route with scopes, a Lambda $default route.
    let api = http_api(&c).await;
    c.update_api()
        .api_id(&api)
        .cors_configuration(
            Cors::builder()
                .allow_origins("https://a.example")
                .max_age(60)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let auth = c
        .create_authorizer()
        .api_id(&api)
        .name("jwt")
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            JwtConfiguration::builder()
                .issuer("https://i.example")
                .audience("x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let http = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("GET")
        .integration_uri("https://backend.example.com/{proxy}")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("GET /items/{proxy+}")
        .target(format!("integrations/{}", http.integration_id().unwrap()))
        .authorization_type(AuthorizationType::Jwt)
        .authorizer_id(auth.authorizer_id().unwrap())
        .authorization_scopes("items:read")
        .send()
        .await
        .unwrap();
    let lambda = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:f")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("$default")
        .target(format!("integrations/{}", lambda.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    let want = shape(&c, &api).await;
    for yaml in [false, true] {
        let text = export(&c, &api, yaml, None).await;
        let copy = c.import_api().body(&text).send().await.unwrap();
        let copy_id = copy.api_id().unwrap();
        assert_eq!(shape(&c, copy_id).await, want, "{text}");
        assert_eq!(copy.cors_configuration().unwrap().max_age(), Some(60));
    }
    // A stage exports its deployment, not later changes.
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("POST /later")
        .send()
        .await
        .unwrap();
    let deployed = export(&c, &api, false, Some("prod")).await;
    assert!(!deployed.contains("/later"), "{deployed}");
    assert!(export(&c, &api, false, None).await.contains("/later"));
    let doc: serde_json::Value = serde_json::from_str(&deployed).unwrap();
    assert_eq!(doc["openapi"], "3.0.1");
    assert_eq!(
        doc["servers"][0]["variables"]["basePath"]["default"],
        "prod"
    );
}

#[tokio::test]
async fn reimport_replaces_the_definition_and_warnings_can_fail_it() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    c.create_route()
        .api_id(&api)
        .route_key("GET /old")
        .send()
        .await
        .unwrap();
    let with_warning = r##"{"openapi":"3.0.1","info":{"title":"new","version":"1"},"paths":{"/new":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Missing"}}}}}}}}}"##;
    let (code, status, msg) = failure(
        c.reimport_api()
            .api_id(&api)
            .body(with_warning)
            .fail_on_warnings(true)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert_eq!(msg, "Warnings found during import:\n\tParse issue: attribute paths.'/new'(get).responses.200.content.schema.#/components/schemas/Missing is missing");
    assert_eq!(
        c.get_api().api_id(&api).send().await.unwrap().name(),
        Some("test-http")
    );
    c.reimport_api()
        .api_id(&api)
        .body(with_warning)
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = c
        .get_routes()
        .api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|r| r.route_key().map(String::from))
        .collect();
    assert_eq!(keys, ["GET /new"]);
    assert_eq!(
        c.get_api().api_id(&api).send().await.unwrap().name(),
        Some("new")
    );
}

#[tokio::test]
async fn bad_definitions_say_where() {
    let s = server().await;
    let c = client(&s);
    for (body, says) in [
        ("{\"openapi\": ", "malformed JSON"),
        ("swagger: '2.0'\ninfo:\n  title: x\n", "OpenAPI 2.0"),
        ("openapi: 3.0.1\ninfo:\n  version: '1'\n", "info.title"),
        (
            "openapi: 3.0.1\ninfo:\n  title: t\npaths:\n  /x:\n    get:\n      x-amazon-apigateway-integration:\n        type: mock\n",
            "paths.'/x'(get)",
        ),
        ("openapi: 3.0.1\ninfo:\n  title: t\npaths:\n  /a*b:\n    get: {}\n", "path parts"),
    ] {
        let (code, status, msg) = failure(c.import_api().body(body).send().await);
        assert_eq!((code.as_str(), status), ("BadRequestException", 400), "{body}");
        assert!(msg.contains(says), "{body}: {msg}");
    }
    let api = http_api(&c).await;
    let (code, _, _) = failure(
        c.export_api()
            .api_id(&api)
            .specification("OAS30")
            .output_type("XML")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.export_api()
            .api_id("nosuchapi0")
            .specification("OAS30")
            .output_type("JSON")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
}

/// ExportApi writes the document's members in AWS's order — `openapi`, `info`, `servers`,
/// `paths`, `components`, then the `x-amazon-apigateway-*` members — as AWS's exports do
/// ("Exporting an HTTP API from API Gateway"), in JSON and in YAML.
#[tokio::test]
async fn exports_list_their_members_in_awss_order() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    c.update_api()
        .api_id(&api)
        .cors_configuration(
            aws_sdk_apigatewayv2::types::Cors::builder()
                .allow_origins("https://app.example")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let auth =
        crate::dataplane::authorizers::jwt_authorizer(&c, &api, "https://issuer.example", "app")
            .await;
    c.create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(&auth)
        .send()
        .await
        .unwrap();
    let expected = [
        "openapi",
        "info",
        "servers",
        "paths",
        "components",
        "x-amazon-apigateway-cors",
        "x-amazon-apigateway-importexport-version",
    ];
    let json = export(&c, &api, false, None).await;
    let top: Vec<&str> = json
        .lines()
        .filter_map(|l| l.strip_prefix("  \""))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(top, expected, "{json}");
    let yaml = export(&c, &api, true, None).await;
    let top: Vec<&str> = yaml
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(top, expected, "{yaml}");
}
