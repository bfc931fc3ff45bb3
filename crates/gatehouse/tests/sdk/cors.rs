//! CORS on HTTP APIs: corsConfiguration at CreateApi/UpdateApi with AWS's rules, and
//! DeleteCorsConfiguration.

use aws_sdk_apigatewayv2::types::{Cors, ProtocolType};
use aws_sdk_apigatewayv2::Client;

use crate::common::*;

fn cors() -> aws_sdk_apigatewayv2::types::builders::CorsBuilder {
    Cors::builder()
        .allow_origins("https://app.example.com")
        .allow_methods("GET")
        .allow_methods("POST")
        .allow_headers("authorization")
        .expose_headers("x-request-id")
        .max_age(600)
        .allow_credentials(true)
}

async fn api_with(c: &Client, cors: Cors) -> Result<String, (String, u16, String)> {
    c.create_api()
        .name("cors")
        .protocol_type(ProtocolType::Http)
        .cors_configuration(cors)
        .send()
        .await
        .map(|a| a.api_id().unwrap().to_string())
        .map_err(|e| failure::<(), _, _>(Err(e)))
}

#[tokio::test]
async fn cors_configurations_are_checked_as_aws_checks_them() {
    let s = server().await;
    let c = client(&s);
    let id = api_with(&c, cors().build()).await.unwrap();
    let got = c.get_api().api_id(&id).send().await.unwrap();
    let stored = got.cors_configuration().unwrap();
    assert_eq!(stored.allow_origins(), ["https://app.example.com"]);
    assert_eq!(stored.allow_methods(), ["GET", "POST"]);
    assert_eq!(
        (stored.max_age(), stored.allow_credentials()),
        (Some(600), Some(true))
    );

    for (bad, says) in [
        (
            cors().allow_origins("*").build(),
            "allow-credentials is not supported if 'allow-origin' is *",
        ),
        (
            cors().allow_methods("ANY").build(),
            "Method ANY is not supported",
        ),
        (cors().max_age(86_401).build(), "maxAge"),
    ] {
        let (code, status, message) = api_with(&c, bad).await.unwrap_err();
        assert_eq!((code.as_str(), status), ("BadRequestException", 400));
        assert!(message.contains(says), "{message}");
    }
    // Credentials with a wildcard origin are fine when credentials are off; `*` methods too.
    api_with(
        &c,
        Cors::builder()
            .allow_origins("*")
            .allow_methods("*")
            .allow_credentials(false)
            .build(),
    )
    .await
    .unwrap();
    assert_eq!(c.get_apis().send().await.unwrap().items().len(), 2);

    let (code, _, message) = failure(
        c.update_api()
            .api_id(&id)
            .cors_configuration(cors().allow_origins("*").build())
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(message.contains("allow-origin"), "{message}");
    let after = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(after.cors_configuration(), got.cors_configuration());

    let (code, _, _) = failure(
        c.create_api()
            .name("ws")
            .protocol_type(ProtocolType::Websocket)
            .route_selection_expression("$request.body.action")
            .cors_configuration(cors().build())
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
}

#[tokio::test]
async fn delete_cors_configuration_removes_it_and_redeploys() {
    let s = server().await;
    let c = client(&s);
    let id = api_with(&c, cors().build()).await.unwrap();
    deploy_something(&c, &id).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("live")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let deployments = |c: Client, id: String| async move {
        c.get_deployments()
            .api_id(id)
            .send()
            .await
            .unwrap()
            .items()
            .len()
    };
    let before = deployments(c.clone(), id.clone()).await;
    let (status, _, body) = raw(s.addr, "DELETE", &format!("/v2/apis/{id}/cors"), &[], b"").await;
    assert_eq!((status, body.as_str()), (204, ""));
    let got = c.get_api().api_id(&id).send().await.unwrap();
    assert!(got.cors_configuration().is_none());
    assert_eq!(
        deployments(c.clone(), id.clone()).await,
        before + 1,
        "the auto-deploy stage redeployed"
    );
    // Nothing left to delete: still 204, and nothing redeploys.
    c.delete_cors_configuration()
        .api_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(deployments(c.clone(), id.clone()).await, before + 1);
    let (code, status, _) = failure(
        c.delete_cors_configuration()
            .api_id("nosuchapi0")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}
