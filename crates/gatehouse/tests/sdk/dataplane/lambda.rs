//! AWS_PROXY integrations through the Lambda Invoke API stub: payload 2.0 and 1.0, failures.

use super::*;

#[tokio::test]
async fn lambda_proxy_sends_payload_2_0_and_reads_the_answer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stub = lambda_stub(seen.clone(), (200, false, r#"{"message":"hi"}"#)).await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = lambda_api(&c, "2.0").await;
    let (status, headers, body) = raw(
        s.addr,
        "POST",
        &format!("/_aws/execute-api/{api}/dev/pets/7?a=1&a=2&b=3"),
        &[
            ("content-type", "application/json"),
            ("cookie", "c1=x; c2=y"),
            ("x-multi", "1"),
            ("x-multi", "2"),
            ("x-forwarded-for", "10.0.0.1"),
        ],
        br#"{"n":1}"#,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"hi"}"#));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let (uri, event) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(uri, "/2015-03-31/functions/pets/invocations?Qualifier=live");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /pets/{id}");
    assert_eq!(event["rawPath"], "/dev/pets/7");
    assert_eq!(event["rawQueryString"], "a=1&a=2&b=3");
    assert_eq!(event["queryStringParameters"]["a"], "1,2");
    assert_eq!(event["cookies"], serde_json::json!(["c1=x", "c2=y"]));
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(
        event["headers"]["x-multi"], "1,2",
        "repeated headers are joined"
    );
    assert_eq!(event["headers"]["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert_eq!(event["headers"]["x-forwarded-proto"], "https");
    assert!(event["headers"]["x-amzn-trace-id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    assert_eq!(event["pathParameters"]["id"], "7");
    assert_eq!(event["stageVariables"]["color"], "blue");
    assert_eq!(event["body"], r#"{"n":1}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(
        (
            rc["http"]["method"].as_str(),
            rc["stage"].as_str(),
            rc["accountId"].as_str()
        ),
        (Some("POST"), Some("dev"), Some("123456789012"))
    );
    assert_eq!(
        rc["requestId"].as_str(),
        header(&headers, "apigw-requestid")
    );
    assert!(rc["time"].as_str().unwrap().ends_with(" +0000"));
    // A binary body travels base64.
    raw(
        s.addr,
        "POST",
        &format!("/_aws/execute-api/{api}/dev/pets/7"),
        &[("content-type", "application/octet-stream")],
        b"\x00\x01",
    )
    .await;
    let (_, event) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        (event["body"].as_str(), event["isBase64Encoded"].as_bool()),
        (Some("AAE="), Some(true))
    );
}

#[tokio::test]
async fn lambda_failures_are_500s_and_payload_1_0_is_rest_shaped() {
    for (answer, want) in [
        ((200, true, r#"{"errorMessage":"boom"}"#), 500),
        ((200, false, "not json"), 500),
        ((500, false, "{}"), 500),
        (
            (
                200,
                false,
                r#"{"statusCode":418,"body":"teapot","headers":{"x-a":"b"}}"#,
            ),
            418,
        ),
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stub = lambda_stub(seen.clone(), answer).await;
        let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
        let c = client(&s);
        let api = lambda_api(&c, "1.0").await;
        let (status, headers, body) = raw(
            s.addr,
            "POST",
            &format!("/_aws/execute-api/{api}/dev/pets/9?q=1"),
            &[],
            b"",
        )
        .await;
        assert_eq!(status, want, "{answer:?}: {body}");
        if want == 500 {
            assert_eq!(body, r#"{"message":"Internal Server Error"}"#);
        } else {
            assert_eq!(
                (body.as_str(), header(&headers, "x-a")),
                ("teapot", Some("b"))
            );
        }
        let (_, event) = seen.lock().unwrap().pop().unwrap();
        assert_eq!(event["version"], "1.0");
        assert_eq!(
            (
                event["httpMethod"].as_str(),
                event["resource"].as_str(),
                event["path"].as_str()
            ),
            (Some("POST"), Some("/pets/{id}"), Some("/dev/pets/9"))
        );
        assert_eq!(
            event["multiValueQueryStringParameters"]["q"],
            serde_json::json!(["1"])
        );
    }
    // No endpoint configured: 500, never a hang.
    let s = server().await;
    let c = client(&s);
    let api = lambda_api(&c, "2.0").await;
    assert_eq!(
        raw(
            s.addr,
            "POST",
            &format!("/_aws/execute-api/{api}/dev/pets/1"),
            &[],
            b""
        )
        .await
        .0,
        500
    );
}
