//! Quick create and the managed resources it makes.

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};

use crate::common::*;

#[tokio::test]
async fn quick_create_with_a_url_builds_a_deployed_default_stage() {
    let s = server().await;
    let c = client(&s);
    let api = c
        .create_api()
        .name("quick")
        .protocol_type(ProtocolType::Http)
        .target("https://example.com/backend")
        .send()
        .await
        .unwrap();
    let id = api.api_id().unwrap().to_string();
    let stages = c.get_stages().api_id(&id).send().await.unwrap();
    assert_eq!(stages.items().len(), 1);
    let st = &stages.items()[0];
    assert_eq!(st.stage_name(), Some("$default"));
    assert_eq!(st.api_gateway_managed(), Some(true));
    assert_eq!(st.auto_deploy(), Some(true));
    let dep = st.deployment_id().expect("deployed").to_string();
    assert_eq!(
        st.last_deployment_status_message(),
        Some(format!("Successfully deployed stage with deployment ID '{dep}'").as_str())
    );
    let routes = c.get_routes().api_id(&id).send().await.unwrap();
    let route = &routes.items()[0];
    assert_eq!(route.route_key(), Some("$default"));
    assert_eq!(route.api_gateway_managed(), Some(true));
    let integrations = c.get_integrations().api_id(&id).send().await.unwrap();
    let integ = &integrations.items()[0];
    assert_eq!(integ.integration_type(), Some(&IntegrationType::HttpProxy));
    assert_eq!(integ.integration_method(), Some("ANY"));
    assert_eq!(integ.payload_format_version(), Some("1.0"));
    assert_eq!(integ.api_gateway_managed(), Some(true));
    assert_eq!(
        route.target(),
        Some(format!("integrations/{}", integ.integration_id().unwrap()).as_str())
    );

    // Retargeting through UpdateApi updates the managed integration and redeploys.
    c.update_api()
        .api_id(&id)
        .target("arn:aws:lambda:us-east-1:123456789012:function:f")
        .route_key("GET /hello")
        .send()
        .await
        .unwrap();
    let integ = c
        .get_integration()
        .api_id(&id)
        .integration_id(integ.integration_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(integ.integration_type(), Some(&IntegrationType::AwsProxy));
    assert_eq!(integ.integration_method(), Some("POST"));
    assert_eq!(integ.payload_format_version(), Some("2.0"));
    let route = c
        .get_route()
        .api_id(&id)
        .route_id(route.route_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(route.route_key(), Some("GET /hello"));
    let st = c
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_ne!(st.deployment_id(), Some(dep.as_str()));

    // What AWS refuses on managed resources.
    let (code, _, _) = failure(
        c.delete_stage()
            .api_id(&id)
            .stage_name("$default")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.delete_route()
            .api_id(&id)
            .route_id(route.route_id().unwrap())
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.update_route()
            .api_id(&id)
            .route_id(route.route_id().unwrap())
            .route_key("GET /other")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.delete_integration()
            .api_id(&id)
            .integration_id(integ.integration_id().unwrap())
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.update_stage()
            .api_id(&id)
            .stage_name("$default")
            .auto_deploy(false)
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    // Allowed: updating the managed integration and the stage's other settings.
    c.update_integration()
        .api_id(&id)
        .integration_id(integ.integration_id().unwrap())
        .timeout_in_millis(10_000)
        .send()
        .await
        .unwrap();
    c.update_stage()
        .api_id(&id)
        .stage_name("$default")
        .description("managed but described")
        .send()
        .await
        .unwrap();
    // Deleting the API removes everything.
    c.delete_api().api_id(&id).send().await.unwrap();
    assert_eq!(s.store.count_records().await.unwrap(), 0);
}

#[tokio::test]
async fn quick_create_with_a_lambda_and_route_key() {
    let s = server().await;
    let c = client(&s);
    let api = c
        .create_api()
        .name("quick-lambda")
        .protocol_type(ProtocolType::Http)
        .target("arn:aws:lambda:us-east-1:123456789012:function:hello")
        .route_key("POST /hello")
        .credentials_arn("arn:aws:iam::123456789012:role/invoke")
        .send()
        .await
        .unwrap();
    let id = api.api_id().unwrap();
    let integ = &c
        .get_integrations()
        .api_id(id)
        .send()
        .await
        .unwrap()
        .items()[0]
        .clone();
    assert_eq!(integ.integration_type(), Some(&IntegrationType::AwsProxy));
    assert_eq!(integ.payload_format_version(), Some("2.0"));
    assert_eq!(integ.timeout_in_millis(), Some(30_000));
    assert_eq!(
        integ.credentials_arn(),
        Some("arn:aws:iam::123456789012:role/invoke")
    );
    let route = &c.get_routes().api_id(id).send().await.unwrap().items()[0].clone();
    assert_eq!(route.route_key(), Some("POST /hello"));
}

#[tokio::test]
async fn quick_create_refusals() {
    let s = server().await;
    let c = client(&s);
    let (code, _, _) = failure(
        c.create_api()
            .name("ws")
            .protocol_type(ProtocolType::Websocket)
            .route_selection_expression("$request.body.action")
            .target("https://example.com")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.create_api()
            .name("bad")
            .protocol_type(ProtocolType::Http)
            .target("ftp://example.com")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let plain = http_api(&c).await;
    let (code, _, _) = failure(
        c.update_api()
            .api_id(&plain)
            .target("https://example.com")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(c.get_apis().send().await.unwrap().items().len(), 1);
}
