//! The data plane: invoke URLs served from deployments, against real backends started here
//! (an echo HTTP server, a slow one, a Lambda Invoke API stub), through plain HTTP.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_apigatewayv2::types::{AccessLogSettings, Cors, IntegrationType, RouteSettings};
use aws_sdk_apigatewayv2::Client;
use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;

use crate::common::*;

type Handler = Arc<dyn Fn(hyper::Request<Bytes>) -> hyper::Response<String> + Send + Sync>;

/// A backend on a free port answering every request with `handler` (after `delay`).
async fn backend(delay: Duration, handler: Handler) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            tokio::time::sleep(delay).await;
                            Ok::<_, Infallible>(
                                handler(hyper::Request::from_parts(parts, body))
                                    .map(|b| http_body_util::Full::new(Bytes::from(b))),
                            )
                        }
                    },
                );
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// An echo backend: JSON with the method, path, query, some headers and the body.
async fn echo() -> SocketAddr {
    backend(
        Duration::ZERO,
        Arc::new(|req| {
            let h = |n: &str| {
                req.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let body = serde_json::json!({
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "query": req.uri().query().unwrap_or(""),
                "host": h("host"),
                "forwarded": h("forwarded"),
                "x-custom": h("x-custom"),
                "body": String::from_utf8_lossy(req.body()),
            });
            hyper::Response::builder()
                .header("content-type", "application/json")
                .header(
                    "access-control-allow-origin",
                    "https://backend-says.example",
                )
                .body(body.to_string())
                .unwrap()
        }),
    )
    .await
}

async fn http_integration(c: &Client, api: &str, uri: &str) -> String {
    c.create_integration()
        .api_id(api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("ANY")
        .integration_uri(uri)
        .payload_format_version("1.0")
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_string()
}

async fn route(c: &Client, api: &str, key: &str, integration: &str) {
    c.create_route()
        .api_id(api)
        .route_key(key)
        .target(format!("integrations/{integration}"))
        .send()
        .await
        .unwrap();
}

async fn deploy(c: &Client, api: &str, stage: &str) {
    c.create_deployment()
        .api_id(api)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
}

/// GET through the path form.
async fn get(
    s: &gatehouse::server::RunningServer,
    api: &str,
    path: &str,
) -> (u16, Vec<(String, String)>, String) {
    raw(
        s.addr,
        "GET",
        &format!("/_aws/execute-api/{api}{path}"),
        &[],
        b"",
    )
    .await
}

/// A new HTTP API whose route `key` goes to an HTTP_PROXY integration at `uri`, deployed to
/// a new stage `stage`.
async fn proxied_api(c: &Client, uri: &str, key: &str, stage: &str) -> String {
    let api = http_api(c).await;
    let i = http_integration(c, &api, uri).await;
    route(c, &api, key, &i).await;
    new_stage(c, &api, stage).await;
    deploy(c, &api, stage).await;
    api
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body: {body}"))
}

#[tokio::test]
async fn stages_serve_their_deployment_in_both_url_forms() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(
        &c,
        &format!("http://{backend}/backend/{{proxy}}"),
        "ANY /pets/{proxy+}",
        "prod",
    )
    .await;

    let (status, headers, body) = get(&s, &api, "/prod/pets/a%20b/c?x=1&y=2").await;
    assert_eq!(status, 200, "{body}");
    let echoed = json(&body);
    assert_eq!(echoed["path"], "/backend/a%20b/c");
    assert_eq!(echoed["query"], "x=1&y=2");
    assert_eq!(echoed["host"], backend.to_string());
    assert!(echoed["forwarded"]
        .as_str()
        .unwrap()
        .contains("for=127.0.0.1"));
    let id = header(&headers, "apigw-requestid").unwrap();
    assert_eq!(id.len(), 16, "{id}");
    // The host form, with the region in the host or not.
    for host in [
        format!("{api}.execute-api.localhost"),
        format!("{api}.execute-api.us-east-1.localhost:4599"),
    ] {
        let (status, _, body) = raw(
            s.addr,
            "POST",
            "/prod/pets/x",
            &[("host", &host), ("x-custom", "1")],
            b"hello",
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
        let echoed = json(&body);
        assert_eq!(
            (
                echoed["method"].as_str(),
                echoed["body"].as_str(),
                echoed["x-custom"].as_str()
            ),
            (Some("POST"), Some("hello"), Some("1"))
        );
    }
    // A change without a redeploy does not reach traffic.
    let other = http_integration(&c, &api, &format!("http://{backend}/other")).await;
    route(&c, &api, "GET /new", &other).await;
    assert_eq!(get(&s, &api, "/prod/new").await.0, 404);
    deploy(&c, &api, "prod").await;
    let (status, _, body) = get(&s, &api, "/prod/new").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/other"))
    );
    // No $default stage: a path naming no stage is not found; with one, it serves it.
    let (status, headers, body) = get(&s, &api, "/pets/x").await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let (status, _, body) = get(&s, &api, "/pets/x").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/backend/x"))
    );
    // Unknown API (or no API id at all), unknown route.
    assert_eq!(get(&s, "nosuchapi0", "/prod/pets/x").await.0, 404);
    for bad in ["bad!id", ""] {
        let (status, _, body) = get(&s, bad, "/prod/pets/x").await;
        assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    }
    assert_eq!(
        get(&s, &api, "/prod/cats").await.2,
        r#"{"message":"Not Found"}"#
    );
}

#[tokio::test]
async fn headers_a_connection_header_names_stay_on_their_hop() {
    let s = server().await;
    let c = client(&s);
    // A backend that lists the headers it got and names one of its own as hop-by-hop.
    let backend = backend(
        Duration::ZERO,
        Arc::new(|req| {
            let names: Vec<&str> = req.headers().keys().map(|n| n.as_str()).collect();
            hyper::Response::builder()
                .header("connection", "x-secret")
                .header("x-secret", "1")
                .header("x-public", "1")
                .body(names.join(","))
                .unwrap()
        }),
    )
    .await;
    let api = proxied_api(&c, &format!("http://{backend}/"), "GET /h", "prod").await;
    let (status, headers, body) = raw(
        s.addr,
        "GET",
        &format!("/_aws/execute-api/{api}/prod/h"),
        &[("connection", "x-hop"), ("x-hop", "1"), ("x-kept", "1")],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sent: Vec<&str> = body.split(',').collect();
    assert!(
        sent.contains(&"x-kept") && !sent.contains(&"x-hop"),
        "{body}"
    );
    assert!(!sent.contains(&"connection"), "{body}");
    assert_eq!(header(&headers, "x-public"), Some("1"));
    assert_eq!(header(&headers, "x-secret"), None, "{headers:?}");
}

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
async fn stage_variables_timeouts_and_dead_backends() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let slow = backend_slow().await;
    let api = http_api(&c).await;
    let i = http_integration(&c, &api, "http://${stageVariables.backend}/v/{id}").await;
    route(&c, &api, "GET /items/{id}", &i).await;
    let timeout = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("GET")
        .integration_uri(format!("http://{slow}/"))
        .timeout_in_millis(100)
        .send()
        .await
        .unwrap();
    route(&c, &api, "GET /slow", timeout.integration_id().unwrap()).await;
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let d = http_integration(&c, &api, &format!("http://{dead}/")).await;
    route(&c, &api, "GET /dead", &d).await;
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .stage_variables("backend", backend.to_string())
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let (status, _, body) = get(&s, &api, "/items/42").await;
    assert_eq!((status, json(&body)["path"].as_str()), (200, Some("/v/42")));
    let (status, _, body) = get(&s, &api, "/slow").await;
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"message":"Service Unavailable"}"#)
    );
    let (status, _, body) = get(&s, &api, "/dead").await;
    assert_eq!(
        (status, body.as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
}

async fn backend_slow() -> SocketAddr {
    backend(
        Duration::from_secs(2),
        Arc::new(|_| hyper::Response::new("late".to_string())),
    )
    .await
}

/// A Lambda Invoke API stub: records each event and answers with `answer` (status, whether
/// it is a function error, body).
async fn lambda_stub(
    seen: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    answer: (u16, bool, &'static str),
) -> SocketAddr {
    backend(
        Duration::ZERO,
        Arc::new(move |req| {
            let event = serde_json::from_slice(req.body()).unwrap_or_default();
            seen.lock().unwrap().push((req.uri().to_string(), event));
            let mut b = hyper::Response::builder().status(answer.0);
            if answer.1 {
                b = b.header("x-amz-function-error", "Unhandled");
            }
            b.body(answer.2.to_string()).unwrap()
        }),
    )
    .await
}

async fn lambda_api(c: &Client, version: &str) -> String {
    let api = http_api(c).await;
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:pets:live")
        .payload_format_version(version)
        .send()
        .await
        .unwrap();
    route(c, &api, "POST /pets/{id}", i.integration_id().unwrap()).await;
    c.create_stage()
        .api_id(&api)
        .stage_name("dev")
        .stage_variables("color", "blue")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    api
}

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

const TEST_KEY: &str = include_str!("../fixtures/jwt-test-key.pem");
const TEST_JWKS: &str = include_str!("../fixtures/jwt-test-jwks.json");

/// An OpenID issuer on a free port: discovery document and JWKS.
async fn issuer() -> String {
    let addr = backend(
        Duration::ZERO,
        Arc::new(|req| {
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = match req.uri().path() {
                "/.well-known/openid-configuration" => serde_json::json!({
                    "issuer": format!("http://{host}"),
                    "jwks_uri": format!("http://{host}/jwks"),
                })
                .to_string(),
                "/jwks" => TEST_JWKS.to_string(),
                _ => {
                    return hyper::Response::builder()
                        .status(404)
                        .body(String::new())
                        .unwrap()
                }
            };
            hyper::Response::builder()
                .header("content-type", "application/json")
                .body(body)
                .unwrap()
        }),
    )
    .await;
    format!("http://{addr}")
}

fn token(claims: serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn jwt_authorizers_verify_tokens_for_real() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let iss = issuer().await;
    let api = http_api(&c).await;
    let auth = c
        .create_authorizer()
        .api_id(&api)
        .name("jwt")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            aws_sdk_apigatewayv2::types::JwtConfiguration::builder()
                .issuer(&iss)
                .audience("app")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let i = http_integration(&c, &api, &format!("http://{backend}/")).await;
    c.create_route()
        .api_id(&api)
        .route_key("GET /me")
        .target(format!("integrations/{i}"))
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(auth.authorizer_id().unwrap())
        .authorization_scopes("read")
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:api")
                .format("$context.requestId $context.status $context.authorizer.claims.sub")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let now = gatehouse_core::model::time::now();
    let good = serde_json::json!({"iss": iss, "aud": "app", "sub": "u1", "exp": now + 600, "iat": now, "scope": "read write"});
    let call = |auth: Option<String>| {
        let s_addr = s.addr;
        let api = api.clone();
        async move {
            let headers: Vec<(&str, String)> =
                auth.into_iter().map(|a| ("authorization", a)).collect();
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw(
                s_addr,
                "GET",
                &format!("/_aws/execute-api/{api}/me"),
                &h,
                b"",
            )
            .await
        }
    };
    let (status, _, body) = call(Some(format!("Bearer {}", token(good.clone())))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call(Some(token(good.clone()))).await.0,
        200,
        "the Bearer prefix is optional"
    );
    let (status, headers, body) = call(None).await;
    assert_eq!(
        (status, body.as_str(), header(&headers, "www-authenticate")),
        (401, r#"{"message":"Unauthorized"}"#, Some("Bearer"))
    );
    for (claims, says) in [
        (
            serde_json::json!({"aud": "other"}),
            "the token does not have a valid audience",
        ),
        (
            serde_json::json!({"exp": now - 10}),
            "the token has expired",
        ),
        (
            serde_json::json!({"iss": "http://someone-else"}),
            "the token does not have a valid issuer",
        ),
        (
            serde_json::json!({"nbf": now + 600}),
            "the token is not valid yet",
        ),
    ] {
        let mut t = good.clone();
        for (k, v) in claims.as_object().unwrap() {
            t[k] = v.clone();
        }
        let (status, headers, _) = call(Some(format!("Bearer {}", token(t)))).await;
        assert_eq!(status, 401, "{says}");
        assert_eq!(
            header(&headers, "www-authenticate").map(String::from),
            Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{says}\""
            ))
        );
    }
    assert_eq!(call(Some("Bearer not.a.token".into())).await.0, 401);
    // A tampered signature.
    let t = token(good.clone());
    let tampered = format!("{}x", &t[..t.len() - 1]);
    assert_eq!(call(Some(tampered)).await.0, 401);
    // Claims swapped under another token's signature.
    let mut other = good.clone();
    other["sub"] = "someone-else".into();
    let (o, g) = (token(other), token(good.clone()));
    let o: Vec<&str> = o.split('.').collect();
    let g: Vec<&str> = g.split('.').collect();
    let swapped = format!("{}.{}.{}", g[0], o[1], g[2]);
    let (status, headers, _) = call(Some(swapped)).await;
    assert_eq!(
        (status, header(&headers, "www-authenticate")),
        (
            401,
            Some("Bearer scope=\"\" error=\"invalid_token\" error_description=\"the token signature is invalid\"")
        )
    );
    // An HMAC-signed token is refused (HTTP API JWT authorizers verify RSA signatures).
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert_eq!(call(Some(hs)).await.0, 401);
    // client_id stands in for a missing aud.
    let mut no_aud = good.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    no_aud["client_id"] = "app".into();
    assert_eq!(call(Some(token(no_aud))).await.0, 200);
    // The route's scope is missing: 403.
    let mut no_scope = good.clone();
    no_scope["scope"] = "write".into();
    let (status, _, body) = call(Some(token(no_scope))).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (_, _, log) = raw(
        s.addr,
        "GET",
        &format!("/_gatehouse/access-log/{api}/%24default"),
        &[],
        b"",
    )
    .await;
    assert!(log.lines().next().unwrap().ends_with("200 u1"), "{log}");
}

#[tokio::test]
async fn lambda_authorizers_allow_deny_and_cache() {
    let calls = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = calls.clone();
    let stub = backend(
        Duration::ZERO,
        Arc::new(move |req| {
            let event: serde_json::Value = serde_json::from_slice(req.body()).unwrap_or_default();
            let path = req.uri().path().to_string();
            let answer = if path.contains("/functions/auth/") {
                seen.lock().unwrap().push(event.clone());
                match event["headers"]["x-key"].as_str() {
                    Some("good") => serde_json::json!({"isAuthorized": true, "context": {"user": "u1"}}),
                    Some("crash") => {
                        return hyper::Response::builder()
                            .header("x-amz-function-error", "Unhandled")
                            .body(r#"{"errorMessage":"Unauthorized"}"#.to_string())
                            .unwrap()
                    }
                    _ => serde_json::json!({"isAuthorized": false}),
                }
            } else {
                serde_json::json!({"statusCode": 200, "body": event["requestContext"]["authorizer"]["lambda"]["user"]})
            };
            hyper::Response::new(answer.to_string())
        }),
    )
    .await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = http_api(&c).await;
    let auth = c
        .create_authorizer()
        .api_id(&api)
        .name("keys")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations")
        .authorizer_payload_format_version("2.0")
        .enable_simple_responses(true)
        .identity_source("$request.header.X-Key")
        .authorizer_result_ttl_in_seconds(300)
        .send()
        .await
        .unwrap();
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:pets")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .target(format!("integrations/{}", i.integration_id().unwrap()))
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Custom)
        .authorizer_id(auth.authorizer_id().unwrap())
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let call = |key: Option<&'static str>| {
        let addr = s.addr;
        let api = api.clone();
        async move {
            let h: Vec<(&str, &str)> = key.into_iter().map(|k| ("x-key", k)).collect();
            raw(
                addr,
                "GET",
                &format!("/_aws/execute-api/{api}/pets"),
                &h,
                b"",
            )
            .await
        }
    };
    let (status, _, body) = call(Some("good")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "u1"),
        "the context reaches the integration"
    );
    assert_eq!(call(Some("good")).await.0, 200);
    assert_eq!(
        calls.lock().unwrap().len(),
        1,
        "the decision is cached for the TTL"
    );
    let event = calls.lock().unwrap()[0].clone();
    assert_eq!(
        (event["type"].as_str(), event["identitySource"][0].as_str()),
        (Some("REQUEST"), Some("good"))
    );
    assert!(event["routeArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{api}/$default/GET/pets")));
    let (status, _, body) = call(Some("bad")).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (status, _, body) = call(None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(
        calls.lock().unwrap().len(),
        2,
        "a missing identity source calls no function"
    );
    assert_eq!(call(Some("crash")).await.0, 401);
}

#[tokio::test]
async fn parameter_mapping_changes_request_and_response() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = http_api(&c).await;
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("ANY")
        .integration_uri(format!("http://{backend}/"))
        .request_parameters(
            "overwrite:header.x-custom",
            "from-${request.querystring.who}",
        )
        .request_parameters("overwrite:path", "/mapped/${request.path.id}")
        .request_parameters("remove:querystring.secret", "''")
        .response_parameters(
            "200",
            std::collections::HashMap::from([
                ("overwrite:statuscode".to_string(), "202".to_string()),
                (
                    "append:header.x-backend-path".to_string(),
                    "$response.body.path".to_string(),
                ),
            ]),
        )
        .send()
        .await
        .unwrap();
    route(&c, &api, "GET /things/{id}", i.integration_id().unwrap()).await;
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let (status, headers, body) = get(&s, &api, "/things/7?who=ann&secret=x&keep=1").await;
    assert_eq!(status, 202, "{body}");
    let echoed = json(&body);
    assert_eq!(echoed["path"], "/mapped/7");
    assert_eq!(echoed["x-custom"], "from-ann");
    assert_eq!(echoed["query"], "who=ann&keep=1");
    assert_eq!(header(&headers, "x-backend-path"), Some("/mapped/7"));
}

/// Reads from `stream` until `needle` has arrived (or fails after 10 seconds).
async fn read_until(stream: &mut tokio::net::TcpStream, seen: &mut Vec<u8>, needle: &[u8]) {
    use tokio::io::AsyncReadExt;
    let wait = async {
        while !seen.windows(needle.len()).any(|w| w == needle) {
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before {:?}", String::from_utf8_lossy(needle));
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("{:?} did not arrive", String::from_utf8_lossy(needle)));
}

#[tokio::test]
async fn bodies_stream_both_ways() {
    use http_body_util::Channel;
    use tokio::io::AsyncWriteExt;
    // A backend that answers its first piece at once and the second only when told to, and
    // tells when the request's first piece arrived.
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let go = Arc::new(Mutex::new(Some(go_rx)));
    let (got_tx, got_rx) = tokio::sync::oneshot::channel::<()>();
    let got = Arc::new(Mutex::new(Some(got_tx)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (go, mut got) = (go.lock().unwrap().take(), got.lock().unwrap().take());
            async move {
                let mut body = req.into_body();
                let mut upload = Vec::new();
                while let Some(frame) = body.frame().await {
                    if let Ok(data) = frame.unwrap().into_data() {
                        upload.extend_from_slice(&data);
                    }
                    if upload.len() >= 8 {
                        if let Some(tx) = got.take() {
                            let _ = tx.send(());
                        }
                    }
                }
                let (mut tx, answer) = Channel::<Bytes, Infallible>::new(4);
                tokio::spawn(async move {
                    tx.send_data(Bytes::from(format!("first:{}|", upload.len())))
                        .await
                        .unwrap();
                    if let Some(go) = go {
                        let _ = go.await;
                    }
                    tx.send_data(Bytes::from_static(b"second")).await.unwrap();
                });
                Ok::<_, Infallible>(hyper::Response::new(answer))
            }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), svc)
            .await;
    });
    let s = server().await;
    let c = client(&s);
    let api = proxied_api(&c, &format!("http://{backend}"), "POST /up", "$default").await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /_aws/execute-api/{api}/up HTTP/1.1\r\nhost: {}\r\ntransfer-encoding: chunked\r\n\r\n",
        s.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The request's first piece reaches the backend before the second is sent.
    stream.write_all(b"8\r\npart-one\r\n").await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), got_rx)
        .await
        .expect("the request's first piece reached the backend while the client still sends")
        .unwrap();
    stream
        .write_all(b"8\r\npart-two\r\n0\r\n\r\n")
        .await
        .unwrap();
    // The answer's first piece reaches the client before the backend sends the second.
    let mut seen = Vec::new();
    read_until(&mut stream, &mut seen, b"first:16|").await;
    assert!(!String::from_utf8_lossy(&seen).contains("second"));
    go_tx.send(()).unwrap();
    read_until(&mut stream, &mut seen, b"second").await;
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("apigw-requestid"),
        "{text}"
    );
}

#[tokio::test]
async fn bodies_over_ten_megabytes_are_refused() {
    let s = server().await;
    let c = client(&s);
    let echo_at = echo().await;
    let api = proxied_api(&c, &format!("http://{echo_at}"), "POST /up", "$default").await;
    let path = format!("/_aws/execute-api/{api}/up");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Declared too large: refused before anything is read.
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: 10485761\r\n\r\n",
        s.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    read_until(
        &mut stream,
        &mut seen,
        br#"{"message":"Request Entity Too Large"}"#,
    )
    .await;
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 413"));
    // Streamed past the limit (chunked): 413 too.
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n",
        s.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 1024 * 1024];
    for _ in 0..11 {
        let mut piece = format!("{:x}\r\n", chunk.len()).into_bytes();
        piece.extend_from_slice(&chunk);
        piece.extend_from_slice(b"\r\n");
        if stream.write_all(&piece).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // A request line and header values over AWS's 10,240 bytes: 431, nothing served.
    let long = "h".repeat(10_300);
    let (status, _, body) = raw(s.addr, "POST", &path, &[("x-long", &long)], b"").await;
    assert_eq!(
        (status, body.as_str()),
        (431, r#"{"message":"Request Header Fields Too Large"}"#)
    );
    let fits = "h".repeat(9_000);
    assert_eq!(
        raw(s.addr, "POST", &path, &[("x-long", &fits)], b"")
            .await
            .0,
        200
    );
    // Just under the limit passes (the echoed answer stays under it too).
    let ok = vec![b'y'; 10 * 1024 * 1024 - 4096];
    let (status, _, body) = raw(s.addr, "POST", &path, &[], &ok).await;
    assert_eq!(status, 200);
    let echoed: serde_json::Value = serde_json::from_str(&body).expect("the whole answer");
    assert_eq!(echoed["body"].as_str().map(str::len), Some(ok.len()));
    // An answer the backend declares larger than 10 MB is not passed on: 500.
    let big = backend(
        Duration::ZERO,
        Arc::new(|_| hyper::Response::new("z".repeat(10 * 1024 * 1024 + 1))),
    )
    .await;
    let i = http_integration(&c, &api, &format!("http://{big}")).await;
    route(&c, &api, "GET /big", &i).await;
    deploy(&c, &api, "$default").await;
    let (status, _, body) = get(&s, &api, "/big").await;
    assert_eq!(
        (status, body.as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
}

#[tokio::test]
async fn custom_domain_names_serve_through_their_api_mappings() {
    use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType};
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let mut apis = Vec::new();
    for name in ["root", "orders"] {
        let uri = format!("http://{backend}/{name}/{{proxy}}");
        apis.push(proxied_api(&c, &uri, "ANY /{proxy+}", "prod").await);
    }
    c.create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc")
                .endpoint_type(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (api, key) in [(&apis[0], ""), (&apis[1], "v1/orders")] {
        c.create_api_mapping()
            .domain_name("api.example.com")
            .api_id(api)
            .stage("prod")
            .api_mapping_key(key)
            .send()
            .await
            .unwrap();
    }
    let host = format!("api.example.com:{}", s.addr.port());
    let at = |path: &'static str| {
        let host = host.clone();
        let addr = s.addr;
        async move { raw(addr, "GET", path, &[("host", host.as_str())], b"").await }
    };
    // The longest mapping key takes the path; what follows it is the API's own path.
    let (status, _, body) = at("/v1/orders/7?x=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (json(&body)["path"].as_str(), json(&body)["query"].as_str()),
        (Some("/orders/7"), Some("x=1"))
    );
    let (status, headers, body) = at("/pets/1").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/root/pets/1"))
    );
    assert!(header(&headers, "apigw-requestid").is_some());
    // The management API is not a domain's to take.
    let (status, _, body) = raw(s.addr, "GET", "/v2/apis", &[("host", host.as_str())], b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"items\""), "{body}");
    // Disabling the API's own endpoint leaves the domain serving.
    c.update_api()
        .api_id(&apis[0])
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .unwrap();
    assert_eq!(at("/pets/1").await.0, 200);
    assert_eq!(get(&s, &apis[0], "/prod/pets/1").await.0, 403);
    // A path no mapping takes, once the root mapping is gone: 404, AWS's body.
    let root = c
        .get_api_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|m| m.api_mapping_key() == Some(""))
        .and_then(|m| m.api_mapping_id().map(String::from))
        .unwrap();
    c.delete_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(root)
        .send()
        .await
        .unwrap();
    let (status, _, body) = at("/pets/1").await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    // A host that is no domain name is the management API's, as before.
    let (status, _, _) = raw(
        s.addr,
        "GET",
        "/pets/1",
        &[("host", "other.example.com")],
        b"",
    )
    .await;
    assert_ne!(status, 200);
}
