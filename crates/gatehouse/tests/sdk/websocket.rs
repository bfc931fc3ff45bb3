//! The WebSocket families: models (and GetModelTemplate), route responses, integration
//! responses, and DeleteRouteRequestParameter.

use aws_sdk_apigatewayv2::types::{ContentHandlingStrategy, IntegrationType, ParameterConstraints};

use crate::common::*;

const PET: &str = r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},"required":["name"]}"#;

#[tokio::test]
async fn models_round_trip_and_are_checked() {
    let s = server().await;
    let c = client(&s);
    let ws = ws_api(&c).await;
    let m = c
        .create_model()
        .api_id(&ws)
        .name("Pet")
        .content_type("application/json")
        .schema(PET)
        .send()
        .await
        .unwrap();
    let id = m.model_id().unwrap().to_string();
    assert_eq!((m.name(), m.schema()), (Some("Pet"), Some(PET)));
    let t = c
        .get_model_template()
        .api_id(&ws)
        .model_id(&id)
        .send()
        .await
        .unwrap();
    let value = t.value().unwrap();
    assert!(
        value.starts_with("#set($inputRoot = $input.path('$'))"),
        "{value}"
    );
    assert!(value.contains("\"name\" : \"$inputRoot.name\""), "{value}");
    let updated = c
        .update_model()
        .api_id(&ws)
        .model_id(&id)
        .description("a pet")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.description(), updated.schema()),
        (Some("a pet"), Some(PET))
    );
    assert_eq!(
        c.get_models()
            .api_id(&ws)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );

    for (name, schema, why) in [
        ("Bad", "not json", "draft 4"),
        ("Bad", r#"{"type":"thing"}"#, "type"),
        ("Pet", PET, "already exists"),
        ("not-alnum", PET, "alphanumeric"),
    ] {
        let (code, _, msg) = failure(
            c.create_model()
                .api_id(&ws)
                .name(name)
                .schema(schema)
                .send()
                .await,
        );
        assert!(
            code == "BadRequestException" || code == "ConflictException",
            "{code}"
        );
        assert!(msg.contains(why), "{name}: {msg}");
    }
    // Models are for WebSocket APIs.
    let http = http_api(&c).await;
    let (code, _, msg) = failure(
        c.create_model()
            .api_id(&http)
            .name("Pet")
            .schema(PET)
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(msg, "Models are supported only for WebSocket APIs.");
    // A route that names it keeps it.
    let route = new_route(&c, &ws, "sendMessage").await;
    c.update_route()
        .api_id(&ws)
        .route_id(&route)
        .request_models("$default", "Pet")
        .send()
        .await
        .unwrap();
    let (code, status, _) = failure(c.delete_model().api_id(&ws).model_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    c.delete_route()
        .api_id(&ws)
        .route_id(&route)
        .send()
        .await
        .unwrap();
    c.delete_model()
        .api_id(&ws)
        .model_id(&id)
        .send()
        .await
        .unwrap();
    let (code, _, msg) = failure(c.get_model().api_id(&ws).model_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    assert!(
        msg.starts_with("Invalid Model identifier specified"),
        "{msg}"
    );
}

#[tokio::test]
async fn route_responses_belong_to_their_route() {
    let s = server().await;
    let c = client(&s);
    let ws = ws_api(&c).await;
    let a = new_route(&c, &ws, "a").await;
    let b = new_route(&c, &ws, "b").await;
    let rr = c
        .create_route_response()
        .api_id(&ws)
        .route_id(&a)
        .route_response_key("$default")
        .model_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap();
    let rr_id = rr.route_response_id().unwrap().to_string();
    assert_eq!(rr.route_response_key(), Some("$default"));
    // Read under its route; under another route it does not exist.
    c.get_route_response()
        .api_id(&ws)
        .route_id(&a)
        .route_response_id(&rr_id)
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(
        c.get_route_response()
            .api_id(&ws)
            .route_id(&b)
            .route_response_id(&rr_id)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    assert_eq!(
        c.get_route_responses()
            .api_id(&ws)
            .route_id(&a)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
    assert!(c
        .get_route_responses()
        .api_id(&ws)
        .route_id(&b)
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
    let updated = c
        .update_route_response()
        .api_id(&ws)
        .route_id(&a)
        .route_response_id(&rr_id)
        .response_models("$default", "Pet")
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.model_selection_expression(),
        Some("$request.body.action")
    );
    // One response per key; only $default exists on AWS.
    for key in ["$default", "other"] {
        let (code, _, _) = failure(
            c.create_route_response()
                .api_id(&ws)
                .route_id(&a)
                .route_response_key(key)
                .send()
                .await,
        );
        assert!(
            code == "ConflictException" || code == "BadRequestException",
            "{key}: {code}"
        );
    }
    // Deleting the route takes its responses.
    c.delete_route()
        .api_id(&ws)
        .route_id(&a)
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(
        c.get_route_responses()
            .api_id(&ws)
            .route_id(&a)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    let (code, _, _) = failure(
        c.delete_route_response()
            .api_id(&ws)
            .route_id(&b)
            .route_response_id(&rr_id)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    let http = http_api(&c).await;
    let r = c
        .create_route()
        .api_id(&http)
        .route_key("GET /")
        .send()
        .await
        .unwrap();
    let (code, _, msg) = failure(
        c.create_route_response()
            .api_id(&http)
            .route_id(r.route_id().unwrap())
            .route_response_key("$default")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert_eq!(
        msg,
        "Route responses are supported only for WebSocket APIs."
    );
}

#[tokio::test]
async fn integration_responses_round_trip() {
    let s = server().await;
    let c = client(&s);
    let ws = ws_api(&c).await;
    let i = c
        .create_integration()
        .api_id(&ws)
        .integration_type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let iid = i.integration_id().unwrap().to_string();
    let ir = c
        .create_integration_response()
        .api_id(&ws)
        .integration_id(&iid)
        .integration_response_key("/4\\d\\d/")
        .content_handling_strategy(ContentHandlingStrategy::ConvertToText)
        .response_templates("application/json", "{\"error\": true}")
        .template_selection_expression("$integration.response.statuscode")
        .send()
        .await
        .unwrap();
    let ir_id = ir.integration_response_id().unwrap().to_string();
    assert_eq!(
        ir.content_handling_strategy(),
        Some(&ContentHandlingStrategy::ConvertToText)
    );
    let updated = c
        .update_integration_response()
        .api_id(&ws)
        .integration_id(&iid)
        .integration_response_id(&ir_id)
        .integration_response_key("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.integration_response_key(), Some("$default"));
    assert_eq!(
        updated.template_selection_expression(),
        Some("$integration.response.statuscode")
    );
    let listed = c
        .get_integration_responses()
        .api_id(&ws)
        .integration_id(&iid)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items().len(), 1);
    let (code, _, _) = failure(
        c.create_integration_response()
            .api_id(&ws)
            .integration_id(&iid)
            .integration_response_key("404")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    c.delete_integration_response()
        .api_id(&ws)
        .integration_id(&iid)
        .integration_response_id(&ir_id)
        .send()
        .await
        .unwrap();
    let (code, _, msg) = failure(
        c.get_integration_response()
            .api_id(&ws)
            .integration_id(&iid)
            .integration_response_id(&ir_id)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    assert!(
        msg.starts_with("Invalid IntegrationResponse identifier specified"),
        "{msg}"
    );
    let (code, _, _) = failure(
        c.get_integration_responses()
            .api_id(&ws)
            .integration_id("nope000")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn route_request_parameters_are_deleted_one_by_one() {
    let s = server().await;
    let c = client(&s);
    let ws = ws_api(&c).await;
    let route = c
        .create_route()
        .api_id(&ws)
        .route_key("$connect")
        .request_parameters(
            "route.request.header.authorization",
            ParameterConstraints::builder().required(true).build(),
        )
        .request_parameters(
            "route.request.querystring.token",
            ParameterConstraints::builder().required(false).build(),
        )
        .send()
        .await
        .unwrap();
    let id = route.route_id().unwrap();
    c.delete_route_request_parameter()
        .api_id(&ws)
        .route_id(id)
        .request_parameter_key("route.request.header.authorization")
        .send()
        .await
        .unwrap();
    let got = c.get_route().api_id(&ws).route_id(id).send().await.unwrap();
    let keys: Vec<_> = got.request_parameters().unwrap().keys().collect();
    assert_eq!(keys, ["route.request.querystring.token"]);
    let (code, status, _) = failure(
        c.delete_route_request_parameter()
            .api_id(&ws)
            .route_id(id)
            .request_parameter_key("route.request.header.authorization")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}
