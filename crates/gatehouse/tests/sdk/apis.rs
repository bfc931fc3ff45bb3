//! CreateApi, GetApi, GetApis, UpdateApi, DeleteApi.

use aws_sdk_apigatewayv2::types::ProtocolType;

use crate::common::*;

#[tokio::test]
async fn http_api_lifecycle_with_aws_defaults() {
    let s = server().await;
    let c = client(&s);
    let created = c
        .create_api()
        .name("pets")
        .protocol_type(ProtocolType::Http)
        .tags("team", "core")
        .send()
        .await
        .unwrap();
    let id = created.api_id().unwrap().to_string();
    assert_eq!(id.len(), 10);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(
        created.api_endpoint(),
        Some(format!("https://{id}.execute-api.us-east-1.amazonaws.com").as_str())
    );
    assert_eq!(
        created.api_key_selection_expression(),
        Some("$request.header.x-api-key")
    );
    assert_eq!(
        created.route_selection_expression(),
        Some("$request.method $request.path")
    );
    assert_eq!(created.tags().unwrap().get("team").unwrap(), "core");
    assert!(created.created_date().is_some());

    let got = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("pets"));
    assert_eq!(got.created_date(), created.created_date());

    let updated = c
        .update_api()
        .api_id(&id)
        .name("pets-v2")
        .description("all the pets")
        .version("1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("pets-v2"));
    assert_eq!(updated.description(), Some("all the pets"));
    assert_eq!(updated.version(), Some("1.0"));
    assert_eq!(updated.protocol_type(), Some(&ProtocolType::Http));
    assert_eq!(updated.tags().unwrap().len(), 1, "UpdateApi keeps tags");

    let list = c.get_apis().send().await.unwrap();
    assert_eq!(list.items().len(), 1);
    assert!(list.next_token().is_none());

    c.delete_api().api_id(&id).send().await.unwrap();
    let (code, status, msg) = failure(c.get_api().api_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    assert_eq!(
        msg,
        format!("Invalid API identifier specified 123456789012:{id}")
    );
    let (code, status, _) = failure(c.delete_api().api_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}

#[tokio::test]
async fn websocket_api_needs_a_route_selection_expression() {
    let s = server().await;
    let c = client(&s);
    let (code, status, msg) = failure(
        c.create_api()
            .name("ws")
            .protocol_type(ProtocolType::Websocket)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert!(msg.contains("RouteSelectionExpression"), "{msg}");
    let id = ws_api(&c).await;
    let got = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(
        got.api_endpoint(),
        Some(format!("wss://{id}.execute-api.us-east-1.amazonaws.com").as_str())
    );
    assert_eq!(
        got.route_selection_expression(),
        Some("$request.body.action")
    );
}

#[tokio::test]
async fn api_validation() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    let (code, status, _) = failure(
        c.update_api()
            .api_id(&id)
            .description("d".repeat(1025))
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    let (code, _, _) = failure(
        c.update_api()
            .api_id(&id)
            .route_selection_expression("$request.body.action")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let (code, _, _) = failure(
        c.create_api()
            .name("x")
            .protocol_type(ProtocolType::Http)
            .tags("aws:reserved", "v")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    // Nothing changed.
    let got = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(got.description(), None);
    assert_eq!(c.get_apis().send().await.unwrap().items().len(), 1);
}

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let s = server().await;
    let a = client_as(&s.endpoint(), "111111111111", "us-east-1");
    let b = client_as(&s.endpoint(), "222222222222", "us-east-1");
    let a_west = client_as(&s.endpoint(), "111111111111", "us-west-2");
    let id = http_api(&a).await;
    new_stage(&a, &id, "dev").await;
    for other in [&b, &a_west] {
        let (code, status, _) = failure(other.get_api().api_id(&id).send().await);
        assert_eq!((code.as_str(), status), ("NotFoundException", 404));
        let (code, _, _) = failure(other.get_stage().api_id(&id).stage_name("dev").send().await);
        assert_eq!(code, "NotFoundException");
        assert!(other.get_apis().send().await.unwrap().items().is_empty());
    }
    let (_, _, msg) = failure(b.get_api().api_id(&id).send().await);
    assert_eq!(
        msg,
        format!("Invalid API identifier specified 222222222222:{id}")
    );
    let west = a_west.get_apis().send().await.unwrap();
    assert!(west.items().is_empty());
    // The API's endpoint names the region it was created in.
    let got = a.get_api().api_id(&id).send().await.unwrap();
    assert!(got
        .api_endpoint()
        .unwrap()
        .ends_with("us-east-1.amazonaws.com"));
}
