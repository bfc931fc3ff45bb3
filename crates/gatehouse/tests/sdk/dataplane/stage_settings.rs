//! What a stage and its API configure: CORS, throttling (stage, route, account) and
//! access logs.

use super::*;

#[tokio::test]
async fn the_account_quota_is_one_bucket_for_all_its_apis() {
    let s = server_with(|a| {
        a.invoke_rate_limit = 0.001;
        a.invoke_burst_limit = 2.0;
    })
    .await;
    let c = client(&s);
    let backend = echo().await;
    let one = proxied_api(&c, &format!("http://{backend}/"), "GET /a", "prod").await;
    let two = proxied_api(&c, &format!("http://{backend}/"), "GET /a", "prod").await;
    assert_eq!(get(&s, &one, "/prod/a").await.0, 200);
    assert_eq!(get(&s, &two, "/prod/a").await.0, 200);
    for api in [&one, &two] {
        let (status, _, body) = get(&s, api, "/prod/a").await;
        assert_eq!(
            (status, body.as_str()),
            (429, r#"{"message":"Too Many Requests"}"#)
        );
    }
}

#[tokio::test]
async fn cors_throttling_and_access_logs() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = http_api(&c).await;
    c.update_api()
        .api_id(&api)
        .cors_configuration(
            Cors::builder()
                .allow_origins("https://app.example")
                .allow_methods("GET")
                .allow_methods("POST")
                .allow_headers("x-custom")
                .max_age(300)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let i = http_integration(&c, &api, &format!("http://{backend}/")).await;
    route(&c, &api, "GET /open", &i).await;
    route(&c, &api, "GET /closed", &i).await;
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .route_settings(
            "GET /closed",
            RouteSettings::builder()
                .throttling_burst_limit(0)
                .throttling_rate_limit(0.0)
                .build(),
        )
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:api")
                .format("$context.requestId $context.routeKey $context.status")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Preflight: answered by the gateway, with no OPTIONS route.
    let (status, headers, _) = raw(
        s.addr,
        "OPTIONS",
        &format!("/_aws/execute-api/{api}/open"),
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "GET"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("GET,POST")
    );
    assert_eq!(header(&headers, "access-control-max-age"), Some("300"));
    // A simple request: the gateway's CORS headers, not the backend's.
    let (status, headers, _) = raw(
        s.addr,
        "GET",
        &format!("/_aws/execute-api/{api}/open"),
        &[("origin", "https://app.example")],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example")
    );
    let (_, headers, _) = raw(
        s.addr,
        "GET",
        &format!("/_aws/execute-api/{api}/open"),
        &[("origin", "https://evil.example")],
        b"",
    )
    .await;
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    // A limit of 0 refuses everything; an absent limit is not 0.
    let (status, _, body) = get(&s, &api, "/closed").await;
    assert_eq!(
        (status, body.as_str()),
        (429, r#"{"message":"Too Many Requests"}"#)
    );
    assert_eq!(get(&s, &api, "/open").await.0, 200);
    // The stage's access log, in its format, one line per request.
    let (status, headers, text) = raw(
        s.addr,
        "GET",
        &format!("/_gatehouse/access-log/{api}/%24default"),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].ends_with(" - 204") || lines[0].ends_with(" - 204"),
        "{text}"
    );
    assert!(lines[3].ends_with(" GET /closed 429"), "{text}");
    assert!(lines[4].ends_with(" GET /open 200"), "{text}");
    // Invocation metrics per API, stage and route; an API that is not there is `-`.
    assert_eq!(get(&s, "notanapi42", "/open").await.0, 404);
    let (_, _, metrics) = raw(s.addr, "GET", "/_gatehouse/metrics", &[], b"").await;
    let want = format!("gatehouse_invocations_total{{api=\"{api}\",stage=\"$default\",route=\"GET /closed\",status=\"4xx\"}} 1");
    assert!(metrics.contains(&want), "{metrics}");
    assert!(!metrics.contains("notanapi42"), "{metrics}");
    assert!(
        metrics
            .contains(r#"gatehouse_invocations_total{api="-",stage="-",route="-",status="4xx"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("gatehouse_integration_latency_seconds_count{"),
        "{metrics}"
    );
}
