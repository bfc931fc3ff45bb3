//! Every error the Stage API can answer with: exception name, status and message, and that
//! nothing stored changes.

use aws_sdk_apigatewayv2::types::{AccessLogSettings, LoggingLevel, RouteSettings};

use crate::common::*;

#[tokio::test]
async fn missing_api_is_not_found_on_every_stage_operation() {
    let s = server().await;
    let c = client(&s);
    let want = "Invalid API identifier specified 123456789012:nosuchapi0";
    let results = vec![
        failure(
            c.create_stage()
                .api_id("nosuchapi0")
                .stage_name("a")
                .send()
                .await,
        ),
        failure(
            c.get_stage()
                .api_id("nosuchapi0")
                .stage_name("a")
                .send()
                .await,
        ),
        failure(c.get_stages().api_id("nosuchapi0").send().await),
        failure(
            c.update_stage()
                .api_id("nosuchapi0")
                .stage_name("a")
                .send()
                .await,
        ),
        failure(
            c.delete_stage()
                .api_id("nosuchapi0")
                .stage_name("a")
                .send()
                .await,
        ),
        failure(
            c.delete_route_settings()
                .api_id("nosuchapi0")
                .stage_name("a")
                .route_key("$default")
                .send()
                .await,
        ),
        failure(
            c.delete_access_log_settings()
                .api_id("nosuchapi0")
                .stage_name("a")
                .send()
                .await,
        ),
    ];
    for (code, status, msg) in results {
        assert_eq!(
            (code.as_str(), status, msg.as_str()),
            ("NotFoundException", 404, want)
        );
    }
}

#[tokio::test]
async fn missing_stage_is_not_found() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    // Every captured AWS trace ends the text here, naming no stage.
    let want = "Invalid stage identifier specified".to_string();
    let results = vec![
        failure(c.get_stage().api_id(&id).stage_name("ghost").send().await),
        failure(
            c.update_stage()
                .api_id(&id)
                .stage_name("ghost")
                .description("x")
                .send()
                .await,
        ),
        failure(
            c.delete_stage()
                .api_id(&id)
                .stage_name("ghost")
                .send()
                .await,
        ),
        failure(
            c.delete_route_settings()
                .api_id(&id)
                .stage_name("ghost")
                .route_key("GET /x")
                .send()
                .await,
        ),
        failure(
            c.delete_access_log_settings()
                .api_id(&id)
                .stage_name("ghost")
                .send()
                .await,
        ),
    ];
    for (code, status, msg) in results {
        assert_eq!((code.as_str(), status), ("NotFoundException", 404));
        assert_eq!(msg, want);
    }
}

#[tokio::test]
async fn duplicate_stage_is_a_conflict_and_changes_nothing() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("dev")
        .description("original")
        .send()
        .await
        .unwrap();
    let (code, status, _) = failure(
        c.create_stage()
            .api_id(&id)
            .stage_name("dev")
            .description("second")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("original"));
}

#[tokio::test]
async fn invalid_stage_input_is_a_bad_request_and_changes_nothing() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    new_stage(&c, &id, "dev").await;
    let long_name = "n".repeat(129);
    let long_value = "v".repeat(513);
    let bad_creates = vec![
        c.create_stage().api_id(&id).stage_name("has space"),
        c.create_stage().api_id(&id).stage_name("$prod"),
        c.create_stage().api_id(&id).stage_name(&long_name),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok1")
            .stage_variables("bad-name", "v"),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok2")
            .stage_variables("k", "bad value"),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok3")
            .stage_variables("k", &long_value),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok4")
            .description("d".repeat(1025)),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok5")
            .default_route_settings(
                RouteSettings::builder()
                    .logging_level(LoggingLevel::Error)
                    .build(),
            ),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok6")
            .route_settings(
                "GET /",
                RouteSettings::builder().data_trace_enabled(false).build(),
            ),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok7")
            .client_certificate_id("cert"),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok8")
            .access_log_settings(
                AccessLogSettings::builder()
                    .destination_arn("not-an-arn")
                    .format("$context.requestId")
                    .build(),
            ),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok9")
            .access_log_settings(
                AccessLogSettings::builder()
                    .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:g")
                    .format("no request id")
                    .build(),
            ),
        c.create_stage()
            .api_id(&id)
            .stage_name("ok10")
            .tags("aws:x", "v"),
    ];
    for req in bad_creates {
        let (code, status, msg) = failure(req.send().await);
        assert_eq!(
            (code.as_str(), status),
            ("BadRequestException", 400),
            "{msg}"
        );
        assert!(!msg.is_empty());
    }
    let (_, _, msg) = failure(
        c.create_stage()
            .api_id(&id)
            .stage_name("x")
            .default_route_settings(
                RouteSettings::builder()
                    .logging_level(LoggingLevel::Info)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(msg, "Execution logs are not supported on protocolType HTTP");

    let bad_updates = vec![
        c.update_stage()
            .api_id(&id)
            .stage_name("dev")
            .description("d".repeat(1025)),
        c.update_stage()
            .api_id(&id)
            .stage_name("dev")
            .stage_variables("x y", "1"),
        c.update_stage()
            .api_id(&id)
            .stage_name("dev")
            .description("must not stick")
            .default_route_settings(RouteSettings::builder().data_trace_enabled(true).build()),
        c.update_stage()
            .api_id(&id)
            .stage_name("dev")
            .default_route_settings(RouteSettings::builder().throttling_burst_limit(-1).build()),
    ];
    for req in bad_updates {
        let (code, status, _) = failure(req.send().await);
        assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    }
    let stages = c.get_stages().api_id(&id).send().await.unwrap();
    assert_eq!(stages.items().len(), 1);
    assert_eq!(stages.items()[0].description(), None);
}

#[tokio::test]
async fn deployment_id_cannot_be_set_while_auto_deploy_is_on() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("auto")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let deployment = deploy_something(&c, &id).await;
    let (code, status, msg) = failure(
        c.update_stage()
            .api_id(&id)
            .stage_name("auto")
            .deployment_id(&deployment)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert!(msg.contains("because AutoDeploy is enabled"), "{msg}");
}

/// Raw requests: inputs no SDK would send.
#[tokio::test]
async fn malformed_requests_get_aws_shaped_errors() {
    let s = server_with(|a| a.body_limit = 4096).await;
    let c = client(&s);
    let id = http_api(&c).await;
    let path = format!("/v2/apis/{id}/stages");
    let json = [("content-type", "application/json")];
    // (method, path, body, status, exception, a word the message must contain)
    type Case<'a> = (&'a str, String, Vec<u8>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "POST",
            path.clone(),
            b"{not json".to_vec(),
            400,
            "BadRequestException",
            "malformed JSON",
        ),
        (
            "POST",
            path.clone(),
            b"[]".to_vec(),
            400,
            "BadRequestException",
            "expected a JSON object",
        ),
        (
            "POST",
            path.clone(),
            br#"{"stageName": 5}"#.to_vec(),
            400,
            "BadRequestException",
            "stageName",
        ),
        (
            "POST",
            path.clone(),
            br#"{"stageName":"x","autoDeploy":"yes"}"#.to_vec(),
            400,
            "BadRequestException",
            "autoDeploy",
        ),
        (
            "POST",
            path.clone(),
            br#"{"stageName":"x","defaultRouteSettings":{"loggingLevel":"LOUD"}}"#.to_vec(),
            400,
            "BadRequestException",
            "Invalid logging level specified. Must be one of [",
        ),
        (
            "POST",
            path.clone(),
            br#"{}"#.to_vec(),
            400,
            "BadRequestException",
            "stageName",
        ),
        (
            "POST",
            path.clone(),
            vec![b' '; 5000],
            413,
            "PayloadTooLargeException",
            "limit",
        ),
        (
            "GET",
            format!("{path}?maxResults=abc"),
            vec![],
            400,
            "BadRequestException",
            "maxResults",
        ),
        (
            "GET",
            format!("{path}?nextToken=forged"),
            vec![],
            400,
            "BadRequestException",
            "nextToken",
        ),
        (
            "GET",
            "/v2/nothing-here".into(),
            vec![],
            404,
            "NotFoundException",
            "No operation",
        ),
        (
            "GET",
            format!("/v2/apis/{id}/stages/%ff"),
            vec![],
            400,
            "BadRequestException",
            "UTF-8",
        ),
    ];
    for (method, path, body, status, name, needle) in cases {
        let (got, headers, text) = raw(s.addr, method, &path, &json, &body).await;
        assert_eq!(got, status, "{method} {path}: {text}");
        assert_eq!(header(&headers, "x-amzn-errortype"), Some(name), "{path}");
        assert!(header(&headers, "x-amzn-requestid").is_some());
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON error body");
        let msg = v["message"].as_str().expect("message");
        assert!(msg.contains(needle), "{path}: {msg}");
    }
    assert!(c
        .get_stages()
        .api_id(&id)
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
}

#[tokio::test]
async fn malformed_authorization_is_an_incomplete_signature() {
    let s = server().await;
    let (status, headers, body) = raw(
        s.addr,
        "GET",
        "/v2/apis",
        &[
            ("authorization", "Bearer abc"),
            ("x-amz-date", "20260101T000000Z"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("IncompleteSignatureException")
    );
    assert!(body.contains("not a valid key=value pair"), "{body}");
    // Without any Authorization header: the default account and region.
    let (status, _, body) = raw(s.addr, "GET", "/v2/apis", &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"items":[]}"#);
}

/// The error paths of the operations issue 14 added that their own files do not cover.
#[tokio::test]
async fn new_operations_refuse_missing_records() {
    use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType, RoutingRuleAction};
    let s = server().await;
    let c = client(&s);
    let ws = ws_api(&c).await;
    let rid = new_route(&c, &ws, "send").await;
    let integ = c
        .create_integration()
        .api_id(&ws)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let iid = integ.integration_id().unwrap();
    let mut found = vec![
        failure(c.get_models().api_id("nosuchapi0").send().await),
        failure(
            c.update_model()
                .api_id(&ws)
                .model_id("nope00")
                .name("x")
                .send()
                .await,
        ),
        failure(
            c.get_model_template()
                .api_id(&ws)
                .model_id("nope00")
                .send()
                .await,
        ),
        failure(
            c.update_route_response()
                .api_id(&ws)
                .route_id(&rid)
                .route_response_id("nope00")
                .send()
                .await,
        ),
        failure(
            c.update_integration_response()
                .api_id(&ws)
                .integration_id(iid)
                .integration_response_id("nope00")
                .send()
                .await,
        ),
        failure(
            c.update_domain_name()
                .domain_name("nope.example.com")
                .send()
                .await,
        ),
        failure(
            c.get_api_mappings()
                .domain_name("nope.example.com")
                .send()
                .await,
        ),
        failure(
            c.list_routing_rules()
                .domain_name("nope.example.com")
                .send()
                .await,
        ),
    ];
    c.create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/x")
                .build(),
        )
        .send()
        .await
        .unwrap();
    found.push(failure(
        c.update_api_mapping()
            .domain_name("api.example.com")
            .api_mapping_id("nope00")
            .api_id(&ws)
            .send()
            .await,
    ));
    found.push(failure(
        c.put_routing_rule()
            .domain_name("api.example.com")
            .routing_rule_id("nope00")
            .priority(1)
            .actions(RoutingRuleAction::builder().build())
            .send()
            .await,
    ));
    for (i, (code, status, _)) in found.iter().enumerate() {
        assert!(
            (code.as_str(), *status) == ("NotFoundException", 404)
                || (code.as_str(), *status) == ("BadRequestException", 400),
            "{i}: {code} {status}"
        );
    }
    assert!(found[..9]
        .iter()
        .all(|(code, _, _)| code == "NotFoundException"));
    let (code, _, msg) = failure(
        c.update_domain_name()
            .domain_name("api.example.com")
            .domain_name_configurations(
                DomainNameConfiguration::builder()
                    .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/x")
                    .endpoint_type(EndpointType::Edge)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(msg.starts_with("Only REGIONAL domain names"), "{msg}");
}
