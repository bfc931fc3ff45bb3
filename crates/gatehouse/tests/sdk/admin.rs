//! gatehouse's own endpoints: health, info, and reset (also at moto's `/moto-api/reset`).

use crate::common::*;

#[tokio::test]
async fn health_info_and_reset() {
    let s = server().await;
    let (status, headers, body) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(header(&headers, "x-amzn-requestid").is_some());
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["uptimeSeconds"].is_u64());
    let (status, _, body) = raw(s.addr, "GET", "/_gatehouse/info", &[], b"").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["auth"], "open");
    assert_eq!(info["defaultRegion"], "us-east-1");

    let a = client_as(&s.endpoint(), "111111111111", "us-east-1");
    let b = client_as(&s.endpoint(), "222222222222", "us-east-1");
    let ia = http_api(&a).await;
    new_stage(&a, &ia, "dev").await;
    a.get_stage()
        .api_id(&ia)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let ib = http_api(&b).await;
    // One account only.
    let (status, _, body) = raw(
        s.addr,
        "POST",
        "/_gatehouse/reset?account=111111111111",
        &[],
        b"",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (code, _, _) = failure(a.get_stage().api_id(&ia).stage_name("dev").send().await);
    assert_eq!(code, "NotFoundException");
    b.get_api().api_id(&ib).send().await.unwrap();
    // Everything, through moto's endpoint.
    let (status, _, body) = raw(s.addr, "POST", "/moto-api/reset", &[], b"").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (code, _, _) = failure(b.get_api().api_id(&ib).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(s.store.count_records().await.unwrap(), 0);
}

#[tokio::test]
async fn metrics_count_operations_outcomes_and_rejections() {
    let s = server_with(|a| a.body_limit = 256).await;
    let c = client(&s);
    let api = http_api(&c).await;
    new_stage(&c, &api, "dev").await;
    c.get_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(c.get_stage().api_id(&api).stage_name("nope").send().await);
    assert_eq!(code, "NotFoundException");
    let big = vec![b'x'; 300];
    let (status, _, _) = raw(s.addr, "POST", "/v2/apis", &[], &big).await;
    assert_eq!(status, 413);
    let (status, _, _) = raw(s.addr, "GET", "/v2/nothing/here", &[], b"").await;
    assert_eq!(status, 404);

    let (status, headers, text) = raw(s.addr, "GET", "/_gatehouse/metrics", &[], b"").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    for line in [
        "gatehouse_requests_total{operation=\"GetStage\",outcome=\"Success\"} 1",
        "gatehouse_requests_total{operation=\"GetStage\",outcome=\"NotFoundException\"} 1",
        "gatehouse_requests_total{operation=\"CreateStage\",outcome=\"Success\"} 1",
        "gatehouse_request_duration_seconds_count{operation=\"GetStage\"} 2",
        "gatehouse_rejected_requests_total{reason=\"body_limit\"} 1",
        "gatehouse_rejected_requests_total{reason=\"unknown_operation\"} 1",
        "gatehouse_stored_apis 1",
        "gatehouse_stored_stages 1",
        "gatehouse_requests_in_flight 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    // gatehouse's own endpoints are not counted as requests.
    assert!(!text.contains("operation=\"none\",outcome=\"Success\""));
}

/// SIGTERM: the listener closes at once, the request in flight still gets its answer, the
/// store is closed, and the process exits cleanly.
#[tokio::test]
async fn sigterm_drains_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("s.db").display());
    let (mut child, endpoint) =
        spawn_gatehouse(&["--store", &store, "--fault", "GetStage=delay:1500ms"]).await;
    let c = client_as(&endpoint, "123456789012", "us-east-1");
    let api = http_api(&c).await;
    new_stage(&c, &api, "dev").await;
    let slow = {
        let c = c.clone();
        let api = api.clone();
        tokio::spawn(async move { c.get_stage().api_id(&api).stage_name("dev").send().await })
    };
    // Wait until the server is handling it (the metrics scrape itself is the other one).
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, text) = raw(addr, "GET", "/_gatehouse/metrics", &[], b"").await;
        if text.lines().any(|l| l == "gatehouse_requests_in_flight 2") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "request never in flight"
        );
        tokio::task::yield_now().await;
    }
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(answer.stage_name(), Some("dev"));
    let status = tokio::time::timeout(std::time::Duration::from_secs(15), child.wait())
        .await
        .expect("exits within the grace period")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // The store was closed cleanly: its write-ahead log is folded into the database file.
    let wal = dir.path().join("s.db-wal");
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "{} still holds {left} bytes", wal.display());
}

#[tokio::test]
async fn the_testing_module_serves_a_client_in_one_line() {
    let gh = gatehouse::testing::TestServer::start().await;
    let conf = gh.aws_config().load().await;
    let c = aws_sdk_apigatewayv2::Client::new(&conf);
    let api = http_api(&c).await;
    let (code, _, msg) = failure(c.get_route().api_id(&api).route_id("x").send().await);
    assert_eq!(code, "NotFoundException");
    assert!(msg.contains(gatehouse::testing::ACCOUNT), "{msg}");
    gh.stop().await;
}
