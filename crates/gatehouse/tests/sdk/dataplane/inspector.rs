//! `GET /_gatehouse/invocations`: the inspector's last invocations of a stage, each with the
//! route that matched and the candidates its deployment considered, the gateway's reason, an
//! authorizer's refusal, timings and the access-log line.

use super::*;

/// The stage's invocations, as `GET /_gatehouse/invocations?{query}` answers them.
async fn invocations(s: &gatehouse::server::RunningServer, query: &str) -> serde_json::Value {
    let path = format!("/_gatehouse/invocations?{query}");
    let (status, _, body) = raw(s.addr, "GET", &path, &[], b"").await;
    assert_eq!(status, 200, "{body}");
    json(&body)
}

#[tokio::test]
async fn every_invocation_is_traced_with_its_route_candidates_and_reason() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(
        &c,
        &format!("http://{backend}/{{id}}"),
        "GET /pets/{id}",
        "prod",
    )
    .await;
    c.update_stage()
        .api_id(&api)
        .stage_name("prod")
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:x")
                .format("$context.requestId $context.routeKey $context.status")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s, &api, "/prod/pets/7?q=1").await.0, 200);
    assert_eq!(get(&s, &api, "/prod/cats").await.0, 404);
    let all = invocations(&s, &format!("apiId={api}&stage=prod")).await;
    let list = all["invocations"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // Newest first: the request no route took, with why.
    let (missed, served) = (&list[0], &list[1]);
    assert_eq!(missed["path"], format!("/_aws/execute-api/{api}/prod/cats"));
    assert_eq!(missed["routePath"], "/cats");
    assert!(missed["routeKey"].is_null());
    assert_eq!(missed["status"], 404);
    assert_eq!(missed["reason"], "no route matches GET /cats");
    assert_eq!(
        missed["candidates"][0]["why"],
        "segment 1 is \"cats\"; the route wants \"pets\""
    );
    assert_eq!(served["routeKey"], "GET /pets/{id}");
    assert_eq!(served["query"], "q=1");
    assert_eq!(served["integrationStatus"], 200);
    assert_eq!(served["candidates"][0]["chosen"], true);
    let line = served["accessLogLine"].as_str().unwrap();
    assert!(line.ends_with("GET /pets/{id} 200"), "{line}");
    assert_eq!(line.split(' ').next(), served["requestId"].as_str());
    // Filters: by route key (`-`: no route) and by status or class.
    let by_route = invocations(&s, &format!("apiId={api}&stage=prod&route=-")).await;
    assert_eq!(by_route["invocations"].as_array().unwrap().len(), 1);
    let by_class = invocations(&s, &format!("apiId={api}&stage=prod&status=2xx")).await;
    assert_eq!(by_class["invocations"][0]["status"], 200);
    // The memory it takes is reported.
    let (_, _, metrics) = raw(s.addr, "GET", "/_gatehouse/metrics", &[], b"").await;
    assert!(
        metrics.contains("gatehouse_inspector_traces 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_authorizers_refusal_is_traced_with_its_reason() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "GET /private", "prod").await;
    let authorizer =
        authorizers::jwt_authorizer(&c, &api, "http://127.0.0.1:9/issuer", "aud").await;
    let routes = c.get_routes().api_id(&api).send().await.unwrap();
    let route_id = routes.items()[0].route_id().unwrap().to_string();
    c.update_route()
        .api_id(&api)
        .route_id(&route_id)
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(&authorizer)
        .send()
        .await
        .unwrap();
    deploy(&c, &api, "prod").await;
    assert_eq!(get(&s, &api, "/prod/private").await.0, 401);
    let all = invocations(&s, &format!("apiId={api}&stage=prod")).await;
    let refused = &all["invocations"][0];
    assert_eq!(refused["status"], 401);
    assert_eq!(refused["routeKey"], "GET /private");
    assert_eq!(refused["errorResponseType"], "UNAUTHORIZED");
    assert_eq!(refused["authorization"]["type"], "JWT");
    assert_eq!(refused["authorization"]["decision"], "refused");
    assert!(refused["integrationRequest"].is_null());
    assert_eq!(
        steps(refused),
        ["route", "throttle", "authorize", "respond"]
    );
    let reason = refused["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the JWT authorizer refused the token"),
        "{reason}"
    );
}

/// The steps a trace names, in order.
fn steps(trace: &serde_json::Value) -> Vec<&str> {
    let steps = trace["steps"].as_array().unwrap();
    steps.iter().map(|s| s["step"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_trace_holds_the_backend_request_and_answer_with_secrets_masked() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "POST /a", "prod").await;
    let (status, _, answer) = raw(
        s.addr,
        "POST",
        &format!("/_aws/execute-api/{api}/prod/a"),
        &[
            ("authorization", "Bearer secret.token.value"),
            ("x-custom", "7"),
        ],
        b"hello backend",
    )
    .await;
    assert_eq!(status, 200);
    let all = invocations(&s, &format!("apiId={api}&stage=prod")).await;
    let t = &all["invocations"][0];
    // What the client sent, its secret masked.
    assert_eq!(t["request"]["headers"]["authorization"], "Bearer ****");
    assert_eq!(t["request"]["body"]["text"], "hello backend");
    assert_eq!(t["throttle"], "admitted");
    assert!(t["authorization"].is_null());
    // The integration request exactly as sent: URL, headers (the gateway's own included).
    let sent = &t["integrationRequest"];
    assert_eq!(sent["type"], "HTTP_PROXY");
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["url"], format!("http://{backend}/x"));
    assert_eq!(sent["headers"]["host"], backend.to_string());
    assert_eq!(sent["headers"]["x-custom"], "7");
    assert_eq!(sent["headers"]["authorization"], "Bearer ****");
    assert!(sent["headers"]["forwarded"]
        .as_str()
        .unwrap()
        .starts_with("by="));
    assert_eq!(sent["body"]["text"], "hello backend");
    // The backend's answer, and the client's.
    assert_eq!(t["integrationResponse"]["status"], 200);
    assert_eq!(
        t["integrationResponse"]["headers"]["content-type"],
        "application/json"
    );
    assert_eq!(t["response"]["status"], 200);
    assert_eq!(t["response"]["body"]["text"], answer.as_str());
    assert_eq!(t["response"]["body"]["truncated"], false);
    assert!(t["response"]["headers"]["apigw-requestid"].is_string());
    assert_eq!(steps(t), ["route", "throttle", "integrate", "respond"]);
}

#[tokio::test]
async fn a_lambda_trace_holds_the_event_and_the_functions_output() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let output = r#"{"statusCode":201,"body":"made"}"#;
    let stub = lambda_stub(seen.clone(), (200, false, output)).await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = lambda_api(&c, "2.0").await;
    let path = format!("/_aws/execute-api/{api}/dev/pets/7");
    let (status, _, body) = raw(
        s.addr,
        "POST",
        &path,
        &[("authorization", "Bearer secret")],
        b"{}",
    )
    .await;
    assert_eq!((status, body.as_str()), (201, "made"));
    let all = invocations(&s, &format!("apiId={api}&stage=dev")).await;
    let t = &all["invocations"][0];
    let sent = &t["integrationRequest"];
    assert_eq!(sent["type"], "AWS_PROXY");
    assert_eq!(
        sent["url"],
        format!("http://{stub}/2015-03-31/functions/pets/invocations?Qualifier=live")
    );
    assert_eq!(sent["headers"]["x-amz-invocation-type"], "RequestResponse");
    // The event as the function got it, but for the secret.
    let event = json(sent["body"]["text"].as_str().unwrap());
    let (_, got) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(event["rawPath"], got["rawPath"]);
    assert_eq!(got["headers"]["authorization"], "Bearer secret");
    assert_eq!(event["headers"]["authorization"], "Bearer ****");
    assert_eq!(t["integrationResponse"]["status"], 200);
    assert_eq!(t["integrationResponse"]["body"]["text"], output);
    assert_eq!(t["response"]["status"], 201);
    assert_eq!(t["response"]["body"]["text"], "made");
}

#[tokio::test]
async fn bodies_are_cut_at_the_limit_or_not_kept() {
    let backend = echo().await;
    for (limit, keep) in [(4, true), (65_536, false)] {
        let s = server_with(|a| {
            a.inspector_body_bytes = limit;
            if !keep {
                a.record_bodies = gatehouse::settings::Switch::Off;
            }
        })
        .await;
        let c = client(&s);
        let api = proxied_api(&c, &format!("http://{backend}/x"), "POST /a", "prod").await;
        let path = format!("/_aws/execute-api/{api}/prod/a");
        assert_eq!(raw(s.addr, "POST", &path, &[], b"hello").await.0, 200);
        let all = invocations(&s, &format!("apiId={api}&stage=prod")).await;
        let t = &all["invocations"][0];
        let kept = &t["request"]["body"];
        match keep {
            true => assert_eq!(
                *kept,
                serde_json::json!({"text": "hell", "length": 5, "truncated": true})
            ),
            false => {
                assert!(kept.is_null(), "{kept}");
                assert!(t["response"]["body"].is_null());
                assert_eq!(t["integrationRequest"]["method"], "POST");
            }
        }
    }
}

#[tokio::test]
async fn each_routes_last_minutes_are_counted_for_charts() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "GET /a", "prod").await;
    for path in ["/prod/a", "/prod/a", "/prod/nothing"] {
        get(&s, &api, path).await;
    }
    let path = format!("/_gatehouse/metrics/recent?apiId={api}&stage=prod");
    let (status, _, body) = raw(s.addr, "GET", &path, &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let recent = json(&body);
    assert_eq!(recent["slotSeconds"], 10);
    // Summed over the slots (the requests may straddle two): requests by class.
    let count = |route: &str, class: &str| {
        let slots = recent["routes"][route].as_array().unwrap();
        assert_eq!(slots.len(), 30);
        slots
            .iter()
            .map(|s| s["perSecond"][class].as_f64().unwrap() * 10.0)
            .sum::<f64>()
            .round()
    };
    assert_eq!(count("GET /a", "2xx"), 2.0);
    assert_eq!(count("-", "4xx"), 1.0);
    let slots = recent["routes"]["GET /a"].as_array().unwrap();
    assert!(slots.iter().any(|s| s["p99Ms"].as_f64().is_some()));
    // Unknown API: 404 with why.
    let (status, _, _) = raw(
        s.addr,
        "GET",
        "/_gatehouse/metrics/recent?apiId=nope123456&stage=prod",
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn recording_can_be_turned_off() {
    let s = server_with(|a| a.inspector_records = 0).await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "GET /a", "prod").await;
    assert_eq!(get(&s, &api, "/prod/a").await.0, 200);
    let all = invocations(&s, &format!("apiId={api}&stage=prod")).await;
    assert_eq!(all["invocations"], serde_json::json!([]));
}

#[tokio::test]
async fn invocations_stream_as_server_sent_events() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "GET /a", "prod").await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let ask = format!(
        "GET /_gatehouse/invocations/stream?apiId={api}&stage=prod HTTP/1.1\r\nhost: x\r\n\r\n"
    );
    stream.write_all(ask.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::new(stream).lines();
    assert!(next(&mut lines).await.starts_with("HTTP/1.1 200"));
    let mut head = Vec::new();
    loop {
        let line = next(&mut lines).await;
        if line.is_empty() {
            break;
        }
        head.push(line.to_ascii_lowercase());
    }
    assert!(
        head.contains(&"content-type: text/event-stream".to_string()),
        "{head:?}"
    );
    // The watch has begun once its first comment arrives; then two requests come as events.
    while !next(&mut lines).await.contains(": watching") {}
    assert_eq!(get(&s, &api, "/prod/a").await.0, 200);
    assert_eq!(get(&s, &api, "/prod/b").await.0, 404);
    let mut events = Vec::new();
    while events.len() < 2 {
        if let Some(data) = next(&mut lines)
            .await
            .strip_prefix("data: ")
            .map(str::to_string)
        {
            events.push(json(&data));
        }
    }
    assert_eq!(events[0]["routeKey"], "GET /a");
    assert_eq!(events[1]["reason"], "no route matches GET /b");
    assert_eq!(events[1]["candidates"][0]["routeKey"], "GET /a");
}

/// The next line of a response being read, within 10 s.
async fn next<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut tokio::io::Lines<R>) -> String {
    tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line in time")
        .unwrap()
        .expect("the stream goes on")
}
