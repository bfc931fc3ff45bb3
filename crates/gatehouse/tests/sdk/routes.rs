//! Routes and integrations through the Rust SDK.

use aws_sdk_apigatewayv2::types::{
    ConnectionType, IntegrationType, PassthroughBehavior, ProtocolType,
};

use crate::common::*;

#[tokio::test]
async fn http_routes_and_integrations() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    let integ = c
        .create_integration()
        .api_id(&id)
        .integration_type(IntegrationType::HttpProxy)
        .integration_uri("https://example.com/pets")
        .integration_method("GET")
        .send()
        .await
        .unwrap();
    let integ_id = integ.integration_id().unwrap().to_string();
    assert_eq!(integ_id.len(), 7);
    assert!(integ_id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(integ.connection_type(), Some(&ConnectionType::Internet));
    assert_eq!(integ.payload_format_version(), Some("1.0"));
    assert_eq!(integ.timeout_in_millis(), Some(30_000));
    assert_eq!(integ.passthrough_behavior(), None);

    let target = format!("integrations/{integ_id}");
    let route = c
        .create_route()
        .api_id(&id)
        .route_key("GET /pets/{id}")
        .target(&target)
        .send()
        .await
        .unwrap();
    let route_id = route.route_id().unwrap().to_string();
    assert_eq!(route_id.len(), 7);
    assert_eq!(route.api_key_required(), Some(false));
    assert_eq!(route.authorization_type().map(|a| a.as_str()), Some("NONE"));
    assert_eq!(route.target(), Some(target.as_str()));

    let (code, status, msg) = failure(
        c.create_route()
            .api_id(&id)
            .route_key("GET /pets/{id}")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    assert_eq!(
        msg,
        "Route with key GET /pets/{id} already exists for this API"
    );
    for bad in [
        "GET",
        "get /pets",
        "GET pets",
        "GET /{proxy+}/x",
        "$connect",
    ] {
        let (code, status, _) = failure(c.create_route().api_id(&id).route_key(bad).send().await);
        assert_eq!(
            (code.as_str(), status),
            ("BadRequestException", 400),
            "{bad}"
        );
    }
    let (code, _, msg) = failure(
        c.create_route()
            .api_id(&id)
            .route_key("GET /x")
            .target("integrations/nothere")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(msg.contains("integration"), "{msg}");
    let (code, _, _) = failure(
        c.create_integration()
            .api_id(&id)
            .integration_type(IntegrationType::Mock)
            .send()
            .await,
    );
    assert_eq!(
        code, "BadRequestException",
        "HTTP APIs take proxy integrations only"
    );
    let (code, _, _) = failure(
        c.create_integration()
            .api_id(&id)
            .integration_type(IntegrationType::HttpProxy)
            .integration_uri("https://example.com")
            .timeout_in_millis(49)
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");

    let got = c
        .get_route()
        .api_id(&id)
        .route_id(&route_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.route_key(), Some("GET /pets/{id}"));
    let updated = c
        .update_route()
        .api_id(&id)
        .route_id(&route_id)
        .route_key("ANY /pets/{proxy+}")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.route_key(), Some("ANY /pets/{proxy+}"));
    assert_eq!(
        updated.target(),
        Some(target.as_str()),
        "unsent members unchanged"
    );
    let ui = c
        .update_integration()
        .api_id(&id)
        .integration_id(&integ_id)
        .timeout_in_millis(5000)
        .description("pets backend")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ui.timeout_in_millis(), ui.description()),
        (Some(5000), Some("pets backend"))
    );
    assert_eq!(ui.integration_uri(), Some("https://example.com/pets"));

    let (code, status, _) = failure(
        c.delete_integration()
            .api_id(&id)
            .integration_id(&integ_id)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status),
        ("ConflictException", 409),
        "in use by a route"
    );
    let routes = c.get_routes().api_id(&id).send().await.unwrap();
    assert_eq!(routes.items().len(), 1);
    let integrations = c.get_integrations().api_id(&id).send().await.unwrap();
    assert_eq!(integrations.items().len(), 1);

    c.delete_route()
        .api_id(&id)
        .route_id(&route_id)
        .send()
        .await
        .unwrap();
    c.delete_integration()
        .api_id(&id)
        .integration_id(&integ_id)
        .send()
        .await
        .unwrap();
    let (code, status, msg) = failure(c.get_route().api_id(&id).route_id(&route_id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    assert!(
        msg.starts_with("Invalid Route identifier specified"),
        "{msg}"
    );
    let (code, status, _) = failure(
        c.get_integration()
            .api_id(&id)
            .integration_id(&integ_id)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    let (code, _, _) = failure(c.get_routes().api_id("nosuchapi0").send().await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn websocket_routes_and_mock_integrations() {
    let s = server().await;
    let c = client(&s);
    let id = ws_api(&c).await;
    let mock = c
        .create_integration()
        .api_id(&id)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    assert_eq!(mock.timeout_in_millis(), Some(29_000));
    assert_eq!(
        mock.passthrough_behavior(),
        Some(&PassthroughBehavior::WhenNoMatch)
    );
    assert_eq!(
        mock.integration_response_selection_expression(),
        Some("${integration.response.statuscode}")
    );
    assert_eq!(mock.payload_format_version(), Some("1.0"));
    for key in ["$connect", "$disconnect", "$default", "sendMessage"] {
        c.create_route()
            .api_id(&id)
            .route_key(key)
            .send()
            .await
            .unwrap();
    }
    let (code, _, _) = failure(
        c.create_route()
            .api_id(&id)
            .route_key("$other")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.create_route()
            .api_id(&id)
            .route_key("$connect")
            .send()
            .await,
    );
    assert_eq!(code, "ConflictException");
    // Routes page like stages.
    let first = c
        .get_routes()
        .api_id(&id)
        .max_results("3")
        .send()
        .await
        .unwrap();
    assert_eq!(first.items().len(), 3);
    let rest = c
        .get_routes()
        .api_id(&id)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert!(rest.next_token().is_none());
    let api = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(api.protocol_type(), Some(&ProtocolType::Websocket));
}
