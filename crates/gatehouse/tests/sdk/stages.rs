//! The Stage API through the Rust SDK: every field round-trips, defaults, merge semantics.

use aws_sdk_apigatewayv2::types::{AccessLogSettings, LoggingLevel, RouteSettings};

use crate::common::*;

#[tokio::test]
async fn http_stage_defaults_match_aws() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    let st = c
        .create_stage()
        .api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(st.stage_name(), Some("prod"));
    let d = st.default_route_settings().unwrap();
    assert_eq!(d.detailed_metrics_enabled(), Some(false));
    assert_eq!(d.logging_level(), None);
    assert_eq!(d.data_trace_enabled(), None);
    assert!(st.route_settings().unwrap().is_empty());
    assert!(st.stage_variables().unwrap().is_empty());
    assert!(st.tags().unwrap().is_empty());
    assert_eq!(st.created_date(), st.last_updated_date());
    for absent in [
        st.deployment_id(),
        st.description(),
        st.client_certificate_id(),
        st.last_deployment_status_message(),
    ] {
        assert_eq!(absent, None);
    }
    assert_eq!(st.auto_deploy(), None);
    assert_eq!(st.api_gateway_managed(), None);
    assert!(st.access_log_settings().is_none());

    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(got.created_date(), st.created_date());
    assert_eq!(got.default_route_settings(), st.default_route_settings());
}

#[tokio::test]
async fn websocket_stage_defaults_and_every_field_round_trips() {
    let s = server().await;
    let c = client(&s);
    let id = ws_api(&c).await;
    let plain = c
        .create_stage()
        .api_id(&id)
        .stage_name("plain")
        .send()
        .await
        .unwrap();
    let d = plain.default_route_settings().unwrap();
    assert_eq!(d.data_trace_enabled(), Some(false));
    assert_eq!(d.detailed_metrics_enabled(), Some(false));
    assert_eq!(d.logging_level(), Some(&LoggingLevel::Off));

    let deployment = deploy_something(&c, &id).await;
    let created = c
        .create_stage()
        .api_id(&id)
        .stage_name("full")
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:access")
                .format("$context.requestId $context.routeKey")
                .build(),
        )
        .client_certificate_id("cert123")
        .default_route_settings(
            RouteSettings::builder()
                .logging_level(LoggingLevel::Info)
                .data_trace_enabled(true)
                .throttling_burst_limit(5)
                .throttling_rate_limit(10.0)
                .build(),
        )
        .deployment_id(&deployment)
        .description("all fields")
        .route_settings(
            "$connect",
            RouteSettings::builder()
                .throttling_burst_limit(100)
                .throttling_rate_limit(2000.0)
                .build(),
        )
        .stage_variables("backend", "https://example.com/path?x=1")
        .tags("owner", "me")
        .send()
        .await
        .unwrap();
    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("full")
        .send()
        .await
        .unwrap();
    assert_eq!(got.access_log_settings(), created.access_log_settings());
    assert_eq!(
        got.access_log_settings().unwrap().destination_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:access")
    );
    assert_eq!(got.client_certificate_id(), Some("cert123"));
    let d = got.default_route_settings().unwrap();
    assert_eq!(d.logging_level(), Some(&LoggingLevel::Info));
    assert_eq!(d.data_trace_enabled(), Some(true));
    assert_eq!(d.detailed_metrics_enabled(), Some(false));
    assert_eq!(d.throttling_burst_limit(), Some(5));
    assert_eq!(d.throttling_rate_limit(), Some(10.0));
    assert_eq!(got.deployment_id(), Some(deployment.as_str()));
    assert_eq!(got.description(), Some("all fields"));
    let rs = got.route_settings().unwrap().get("$connect").unwrap();
    assert_eq!(rs.throttling_burst_limit(), Some(100));
    assert_eq!(
        rs.logging_level(),
        None,
        "no defaults injected into route entries"
    );
    assert_eq!(
        got.stage_variables()
            .unwrap()
            .get("backend")
            .map(String::as_str),
        Some("https://example.com/path?x=1")
    );
    assert_eq!(
        got.tags().unwrap().get("owner").map(String::as_str),
        Some("me")
    );
    assert_eq!(got.created_date(), created.created_date());

    // autoDeploy round-trips too (set on a stage without a deployment id being sent).
    let auto = c
        .update_stage()
        .api_id(&id)
        .stage_name("plain")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    assert_eq!(auto.auto_deploy(), Some(true));
    let listed = c.get_stages().api_id(&id).send().await.unwrap();
    let names: Vec<_> = listed
        .items()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    assert_eq!(names, ["plain", "full"]);
    assert_eq!(listed.items()[0].auto_deploy(), Some(true));
}

#[tokio::test]
async fn update_stage_merges() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    // routeSettings keys must name routes of the API (AWS checks the merged map).
    for key in ["GET /pets", "POST /pets"] {
        c.create_route()
            .api_id(&id)
            .route_key(key)
            .send()
            .await
            .unwrap();
    }
    let created = c
        .create_stage()
        .api_id(&id)
        .stage_name("dev")
        .description("first")
        .stage_variables("a", "1")
        .stage_variables("b", "2")
        .route_settings(
            "GET /pets",
            RouteSettings::builder().throttling_burst_limit(1).build(),
        )
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    let updated = c
        .update_stage()
        .api_id(&id)
        .stage_name("dev")
        .stage_variables("a", "")
        .stage_variables("c", "3")
        .route_settings(
            "GET /pets",
            RouteSettings::builder().throttling_rate_limit(7.5).build(),
        )
        .route_settings(
            "POST /pets",
            RouteSettings::builder()
                .detailed_metrics_enabled(true)
                .build(),
        )
        .default_route_settings(RouteSettings::builder().throttling_burst_limit(9).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.description(),
        Some("first"),
        "unsent members unchanged"
    );
    let vars = updated.stage_variables().unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!(vars.get("b").map(String::as_str), Some("2"));
    assert_eq!(vars.get("c").map(String::as_str), Some("3"));
    let pets = updated.route_settings().unwrap().get("GET /pets").unwrap();
    assert_eq!(pets.throttling_burst_limit(), Some(1));
    assert_eq!(pets.throttling_rate_limit(), Some(7.5));
    assert!(updated.route_settings().unwrap().contains_key("POST /pets"));
    let d = updated.default_route_settings().unwrap();
    assert_eq!(
        (d.detailed_metrics_enabled(), d.throttling_burst_limit()),
        (Some(false), Some(9))
    );
    assert_eq!(updated.tags().unwrap().len(), 1);
    assert_eq!(updated.created_date(), created.created_date());
    assert!(updated.last_updated_date().unwrap() >= created.last_updated_date().unwrap());

    // DeleteRouteSettings with an encoded route key, then DeleteAccessLogSettings.
    c.delete_route_settings()
        .api_id(&id)
        .stage_name("dev")
        .route_key("GET /pets")
        .send()
        .await
        .unwrap();
    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.route_settings().unwrap().len(), 1);
    let (code, status, _) = failure(
        c.delete_route_settings()
            .api_id(&id)
            .stage_name("dev")
            .route_key("GET /pets")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));

    c.update_stage()
        .api_id(&id)
        .stage_name("dev")
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:g")
                .format("$context.requestId")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.delete_access_log_settings()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(got.access_log_settings().is_none());
}

#[tokio::test]
async fn default_stage_is_reachable_by_its_encoded_name() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    new_stage(&c, &id, "$default").await;
    let got = c
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(got.stage_name(), Some("$default"));
    c.update_stage()
        .api_id(&id)
        .stage_name("$default")
        .description("d")
        .send()
        .await
        .unwrap();
    c.reset_authorizers_cache()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    c.delete_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    let (code, status, _) = failure(
        c.get_stage()
            .api_id(&id)
            .stage_name("$default")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}

#[tokio::test]
async fn delete_api_removes_its_stages() {
    let s = server().await;
    let c = client(&s);
    let before = s.store.count_records().await.unwrap();
    let id = http_api(&c).await;
    for name in ["a", "b", "c"] {
        c.create_stage()
            .api_id(&id)
            .stage_name(name)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(s.store.count_records().await.unwrap(), before + 4);
    c.delete_api().api_id(&id).send().await.unwrap();
    assert_eq!(s.store.count_records().await.unwrap(), before);
}
