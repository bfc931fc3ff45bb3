//! The data plane: invoke URLs served from deployments, against real backends started here
//! (an echo HTTP server, a slow one, a Lambda Invoke API stub), through plain HTTP.

pub(crate) mod authorizers;
mod explain;
mod http_proxy;
mod inspector;
mod lambda;
mod reasons;
mod recorded;
mod routing;
mod stage_settings;
mod websocket;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_apigatewayv2::types::{AccessLogSettings, Cors, IntegrationType, RouteSettings};
use aws_sdk_apigatewayv2::Client;
use bytes::Bytes;
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

/// Creates API `api`'s `$default` stage, auto-deployed (no other settings).
async fn auto_deployed_default(c: &Client, api: &str) {
    c.create_stage()
        .api_id(api)
        .stage_name("$default")
        .auto_deploy(true)
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

/// A Lambda Invoke API stub: records each event and answers with `answer` (status, whether
/// it is a function error, body).
/// What the Lambda stub saw: each call's URI and event.
pub(crate) type Seen = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

pub(crate) async fn lambda_stub(seen: Seen, answer: (u16, bool, &'static str)) -> SocketAddr {
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

/// A WebSocket API whose routes (`$connect`, `$disconnect`, `echo` two-way, `$default`
/// one-way: those `keys` name) go to the Lambda stub; deployed to stage `prod`.
pub(crate) async fn ws_api(c: &Client, keys: &[&str]) -> String {
    ws_api_authorized(c, keys, None).await
}

/// [`ws_api`] with `$connect` authorized as `connect` says.
pub(crate) async fn ws_api_authorized(
    c: &Client,
    keys: &[&str],
    connect: Option<aws_sdk_apigatewayv2::types::AuthorizationType>,
) -> String {
    let api = c
        .create_api()
        .name("chat")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id()
        .unwrap()
        .to_string();
    let integration = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:chat")
        .send()
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_string();
    for key in keys {
        let route = c
            .create_route()
            .api_id(&api)
            .route_key(*key)
            .target(format!("integrations/{integration}"))
            .set_route_response_selection_expression((*key == "echo").then(|| "$default".into()))
            .set_authorization_type(connect.clone().filter(|_| *key == "$connect"))
            .send()
            .await
            .unwrap();
        if *key == "echo" {
            c.create_route_response()
                .api_id(&api)
                .route_id(route.route_id().unwrap())
                .route_response_key("$default")
                .send()
                .await
                .unwrap();
        }
    }
    c.create_stage()
        .api_id(&api)
        .stage_name("prod")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    api
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
