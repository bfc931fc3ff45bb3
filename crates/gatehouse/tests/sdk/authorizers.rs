//! Authorizers: CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer,
//! DeleteAuthorizer, and routes that use them.

use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType, JwtConfiguration};
use aws_sdk_apigatewayv2::Client;

use crate::common::*;

const LAMBDA_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations";

async fn jwt_authorizer(c: &Client, api: &str, name: &str) -> String {
    c.create_authorizer()
        .api_id(api)
        .name(name)
        .authorizer_type(AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            JwtConfiguration::builder()
                .issuer("https://issuer.example.com")
                .audience("app")
                .build(),
        )
        .send()
        .await
        .expect("create JWT authorizer")
        .authorizer_id()
        .expect("an id")
        .to_string()
}

#[tokio::test]
async fn jwt_and_lambda_authorizers_round_trip() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    let jwt = jwt_authorizer(&c, &api, "jwt").await;
    assert_eq!(jwt.len(), 6);
    let got = c
        .get_authorizer()
        .api_id(&api)
        .authorizer_id(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(got.authorizer_type(), Some(&AuthorizerType::Jwt));
    assert_eq!(
        got.jwt_configuration().unwrap().issuer(),
        Some("https://issuer.example.com")
    );
    assert_eq!(got.authorizer_result_ttl_in_seconds(), None);

    let lambda = c
        .create_authorizer()
        .api_id(&api)
        .name("lambda")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(LAMBDA_URI)
        .authorizer_payload_format_version("2.0")
        .enable_simple_responses(true)
        .identity_source("$request.header.X-Key")
        .send()
        .await
        .unwrap();
    assert_eq!(lambda.authorizer_result_ttl_in_seconds(), Some(0));
    assert_eq!(lambda.enable_simple_responses(), Some(true));
    let lambda_id = lambda.authorizer_id().unwrap().to_string();

    let updated = c
        .update_authorizer()
        .api_id(&api)
        .authorizer_id(&lambda_id)
        .authorizer_result_ttl_in_seconds(300)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.authorizer_result_ttl_in_seconds(), Some(300));
    assert_eq!(updated.name(), Some("lambda"));

    let listed = c.get_authorizers().api_id(&api).send().await.unwrap();
    let ids: Vec<_> = listed
        .items()
        .iter()
        .filter_map(|a| a.authorizer_id())
        .collect();
    assert_eq!(ids, [jwt.as_str(), lambda_id.as_str()]);

    c.delete_authorizer()
        .api_id(&api)
        .authorizer_id(&lambda_id)
        .send()
        .await
        .unwrap();
    let (code, status, msg) = failure(
        c.get_authorizer()
            .api_id(&api)
            .authorizer_id(&lambda_id)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    assert_eq!(
        msg,
        format!("Invalid Authorizer identifier specified 123456789012:{api}:{lambda_id}")
    );
}

#[tokio::test]
async fn authorizers_are_checked_as_aws_checks_them() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    // An HTTP Lambda authorizer without a payload format version.
    let (code, _, msg) = failure(
        c.create_authorizer()
            .api_id(&api)
            .name("x")
            .authorizer_type(AuthorizerType::Request)
            .authorizer_uri(LAMBDA_URI)
            .identity_source("$request.header.A")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(
        msg,
        "AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer"
    );
    // A JWT authorizer without an issuer, with two sources, or on a WebSocket API.
    for (issuer, sources) in [(None, 1), (Some("https://i"), 2)] {
        let mut b = c
            .create_authorizer()
            .api_id(&api)
            .name("j")
            .authorizer_type(AuthorizerType::Jwt)
            .identity_source("$request.header.Authorization");
        if sources == 2 {
            b = b.identity_source("$request.header.Other");
        }
        let mut jwt = JwtConfiguration::builder().audience("a");
        if let Some(i) = issuer {
            jwt = jwt.issuer(i);
        }
        let (code, _, _) = failure(b.jwt_configuration(jwt.build()).send().await);
        assert_eq!(code, "BadRequestException");
    }
    let ws = ws_api(&c).await;
    let (code, _, _) = failure(
        c.create_authorizer()
            .api_id(&ws)
            .name("j")
            .authorizer_type(AuthorizerType::Jwt)
            .identity_source("$request.header.Authorization")
            .jwt_configuration(JwtConfiguration::builder().issuer("https://i").build())
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    // WebSocket Lambda authorizers take route.request.* sources.
    c.create_authorizer()
        .api_id(&ws)
        .name("ws")
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(LAMBDA_URI)
        .identity_source("route.request.header.Auth")
        .send()
        .await
        .unwrap();
    // Unknown API, unknown authorizer on update and delete.
    let (code, status, _) = failure(c.get_authorizers().api_id("nosuchapi0").send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    let (code, _, _) = failure(
        c.update_authorizer()
            .api_id(&api)
            .authorizer_id("nope00")
            .name("n")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    let (code, _, _) = failure(
        c.delete_authorizer()
            .api_id(&api)
            .authorizer_id("nope00")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn routes_use_authorizers_and_keep_them() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    let jwt = jwt_authorizer(&c, &api, "jwt").await;
    // JWT authorization needs a JWT authorizer of this API.
    let (code, _, msg) = failure(
        c.create_route()
            .api_id(&api)
            .route_key("GET /pets")
            .authorization_type(AuthorizationType::Jwt)
            .authorizer_id("nope00")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(msg, "Invalid authorizer ID specified. Setting the authorization type to JWT requires a valid JWT authorizer.");
    let (code, _, msg) = failure(
        c.create_route()
            .api_id(&api)
            .route_key("GET /pets")
            .authorization_type(AuthorizationType::Custom)
            .authorizer_id(&jwt)
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(msg.contains("CUSTOM or COGNITO_USER_POOLS"), "{msg}");
    let route = c
        .create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .authorization_type(AuthorizationType::Jwt)
        .authorizer_id(&jwt)
        .authorization_scopes("pets:read")
        .send()
        .await
        .unwrap();
    assert_eq!(route.authorizer_id(), Some(jwt.as_str()));
    // A route uses it: AWS refuses to delete it (409), naming the route.
    let (code, status, msg) = failure(
        c.delete_authorizer()
            .api_id(&api)
            .authorizer_id(&jwt)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    assert_eq!(
        msg,
        "Cannot delete authorizer 'jwt', is referenced in route: GET /pets"
    );
    // Naming an authorizer without its type is refused (terraform-provider-aws#35821).
    let other = jwt_authorizer(&c, &api, "other").await;
    let (code, _, msg) = failure(
        c.update_route()
            .api_id(&api)
            .route_id(route.route_id().unwrap())
            .authorizer_id(&other)
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(
        msg,
        "Unable to update route. Authorizer type is invalid or null."
    );
    // NONE takes the authorizer off: the route keeps no authorizerId, and the authorizer
    // can go while the route stays.
    let open = c
        .update_route()
        .api_id(&api)
        .route_id(route.route_id().unwrap())
        .authorization_type(AuthorizationType::None)
        .send()
        .await
        .unwrap();
    assert_eq!(open.authorizer_id(), None);
    c.delete_authorizer()
        .api_id(&api)
        .authorizer_id(&jwt)
        .send()
        .await
        .unwrap();
    // A route made with an authorizer but no authorization type keeps none either.
    let plain = c
        .create_route()
        .api_id(&api)
        .route_key("GET /plain")
        .authorizer_id(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.authorizer_id(), None);
}

#[tokio::test]
async fn ten_authorizers_per_api() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    for i in 0..10 {
        jwt_authorizer(&c, &api, &format!("a{i}")).await;
    }
    let (code, status, msg) = failure(
        c.create_authorizer()
            .api_id(&api)
            .name("a10")
            .authorizer_type(AuthorizerType::Jwt)
            .identity_source("$request.header.Authorization")
            .jwt_configuration(JwtConfiguration::builder().issuer("https://i").build())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 429));
    assert_eq!(msg, "Maximum number of Authorizers for this API has been reached. Please contact AWS if you need additional Authorizers.");
}
