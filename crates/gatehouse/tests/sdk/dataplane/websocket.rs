//! WebSocket APIs: real WebSocket clients (tokio-tungstenite) connect on the invoke URLs,
//! a Lambda Invoke-API stub and an HTTP backend answer `$connect`, messages and
//! `$disconnect`, and `@connections` reaches the connections over plain HTTP.

use std::time::Duration;

use aws_sdk_apigatewayv2::types::ProtocolType;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::*;

/// Every event the stub received, as the text it received.
type Events = Arc<Mutex<Vec<String>>>;
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Lambda stub for WebSocket routes: records every event; `$connect` answers as
/// `connect` says (status, or a function error when `None`), messages answer their body
/// back (two-way routes send it on) prefixed with `echo:`.
async fn ws_lambda(events: Events, connect: Option<u16>) -> SocketAddr {
    backend(
        Duration::ZERO,
        Arc::new(move |req| {
            let event: serde_json::Value = serde_json::from_slice(req.body()).unwrap_or_default();
            events
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(req.body()).into_owned());
            if event["type"] == "REQUEST" {
                return authorizer_answer(&event);
            }
            let route = event["requestContext"]["routeKey"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let answer = match (route.as_str(), connect) {
                ("$connect", Some(status)) => serde_json::json!({"statusCode": status}),
                ("$connect", None) => {
                    return hyper::Response::builder()
                        .header("x-amz-function-error", "Unhandled")
                        .body(r#"{"errorMessage":"boom"}"#.to_string())
                        .unwrap()
                }
                ("$disconnect", _) => serde_json::json!({"statusCode": 200}),
                _ => serde_json::json!({
                    "statusCode": 200,
                    "body": format!("echo:{}", event["body"].as_str().unwrap_or(""))
                }),
            };
            hyper::Response::new(answer.to_string())
        }),
    )
    .await
}

/// A server whose Lambda endpoint is a [`ws_lambda`] stub (`$connect` answered 200), with
/// `tweak` applied to its other settings; and the events the stub records.
async fn with_stub(
    tweak: impl FnOnce(&mut gatehouse::settings::Settings),
) -> (Events, gatehouse::server::RunningServer) {
    let events: Events = Arc::default();
    let stub = ws_lambda(events.clone(), Some(200)).await;
    let s = server_with(|a| {
        a.lambda_endpoint = Some(format!("http://{stub}"));
        tweak(a);
    })
    .await;
    (events, s)
}

/// A Lambda REQUEST authorizer's answer to `event`: by the `token` query parameter, an
/// IAM policy allowing (`allow`, with a context) or denying (`deny`) `$connect`, or the
/// `Unauthorized` error.
fn authorizer_answer(event: &serde_json::Value) -> hyper::Response<String> {
    let token = event["queryStringParameters"]["token"]
        .as_str()
        .unwrap_or("");
    if token == "unauthorized" {
        return hyper::Response::builder()
            .header("x-amz-function-error", "Unhandled")
            .body(r#"{"errorMessage":"Unauthorized"}"#.to_string())
            .unwrap();
    }
    let effect = if token == "allow" { "Allow" } else { "Deny" };
    let answer = serde_json::json!({
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]
        }]},
        "context": {"tier": "gold", "n": 7}
    });
    hyper::Response::new(answer.to_string())
}

/// Connects to `api`'s stage `prod` through the path form; the handshake's status when it
/// is refused.
async fn open(s: &gatehouse::server::RunningServer, api: &str) -> Result<Socket, u16> {
    let url = format!("ws://{}/_aws/execute-api/{api}/prod", s.addr);
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The next text frame, within 5 s.
async fn next_text(socket: &mut Socket) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("the connection is open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            return text.to_string();
        }
    }
}

/// The close frame's code and reason, within 5 s.
async fn closed(socket: &mut Socket) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (u16::from(frame.code), frame.reason.to_string())
            }
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) => {
                return (0, String::new())
            }
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("no close in time"),
        }
    }
}

/// The first recorded event of `route` that `pick` takes, as text, waiting up to 5 s.
async fn event_text(
    events: &Events,
    route: &str,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> String {
    for _ in 0..500 {
        let found = events.lock().unwrap().iter().find_map(|text| {
            let e: serde_json::Value = serde_json::from_str(text).ok()?;
            (e["requestContext"]["routeKey"] == route && pick(&e)).then(|| text.clone())
        });
        if let Some(e) = found {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {route} event")
}

/// The first recorded event of `route`, waiting up to 5 s for it.
async fn event(events: &Events, route: &str) -> serde_json::Value {
    json(&event_text(events, route, |_| true).await)
}

/// The member names of the object that follows `"member":` in `json`, in written order.
fn order_of(json: &str, member: &str) -> Vec<String> {
    let start = json.find(&format!("\"{member}\":{{")).unwrap() + member.len() + 3;
    let mut depth = 1;
    let end = start
        + json[start + 1..]
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .unwrap()
            .0
        + 2;
    order(&json[start..end])
}

/// The member names of a JSON object, in the order they were written.
fn order(json: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut found: Vec<(usize, String)> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (json.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

#[tokio::test]
async fn a_connection_lives_through_connect_messages_and_disconnect() {
    let (events, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["$connect", "$disconnect", "echo", "$default"]).await;
    let url = format!("ws://{}/_aws/execute-api/{api}/prod?room=1&room=2", s.addr);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("User-Agent", "gatehouse-test".parse().unwrap());
    let (mut socket, resp) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(resp.status(), 101);
    assert!(resp.headers().get("sec-websocket-protocol").is_none());
    let connect = event(&events, "$connect").await;
    let id = connect["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 16, "{id}");
    assert!(
        id.ends_with('=') && !id.contains('+') && !id.contains('/'),
        "{id}"
    );
    assert_eq!(connect["requestContext"]["eventType"], "CONNECT");
    assert_eq!(connect["queryStringParameters"]["room"], "2");
    assert_eq!(
        connect["multiValueQueryStringParameters"]["room"],
        serde_json::json!(["1", "2"])
    );
    // Header names as the client wrote them (this client writes `user-agent`).
    assert_eq!(
        connect["headers"]["user-agent"], "gatehouse-test",
        "{connect}"
    );
    assert_eq!(connect["headers"]["Sec-WebSocket-Version"], "13");
    assert_eq!(connect["headers"]["X-Forwarded-Proto"], "https");
    assert!(
        connect["headers"].get("Connection").is_none()
            && connect["headers"].get("connection").is_none()
    );
    assert_eq!(
        connect["requestContext"]["identity"]["userAgent"],
        "gatehouse-test"
    );
    // Two-way route: the function's body comes back; one-way ($default): nothing does.
    socket
        .send(Message::text(r#"{"action":"echo","n":1}"#))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut socket).await,
        r#"echo:{"action":"echo","n":1}"#
    );
    let message = event(&events, "echo").await;
    assert_eq!(message["requestContext"]["eventType"], "MESSAGE");
    assert_eq!(message["requestContext"]["connectionId"], id.as_str());
    assert_eq!(
        message["requestContext"]["messageId"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
    assert!(message.get("headers").is_none());
    socket.send(Message::text("not json")).await.unwrap();
    let fallback = event(&events, "$default").await;
    assert_eq!(fallback["body"], "not json");
    // @connections: GET, POST (a frame arrives), DELETE (the socket closes, 1000).
    let (status, _, body) = raw(s.addr, "GET", &format!("/@connections/{id}"), &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let got = json(&body);
    assert_eq!(got["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(got["identity"]["userAgent"], "gatehouse-test");
    assert!(got["connectedAt"].as_str().unwrap().ends_with('Z'));
    let path = format!(
        "/_aws/execute-api/{api}/prod/@connections/{}",
        id.replace('=', "%3D")
    );
    let (status, _, _) = raw(s.addr, "POST", &path, &[], b"pushed").await;
    assert_eq!(status, 200);
    assert_eq!(next_text(&mut socket).await, "pushed");
    let (status, _, body) = raw(s.addr, "DELETE", &path, &[], b"").await;
    assert_eq!((status, body.as_str()), (204, ""));
    assert_eq!(closed(&mut socket).await.0, 1000);
    let disconnect = event(&events, "$disconnect").await;
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1000);
    assert_eq!(
        disconnect["requestContext"]["disconnectReason"],
        "Connection Closed Normally"
    );
    assert_eq!(disconnect["headers"]["x-api-key"], "");
    // Gone now: 410, no body.
    let (status, headers, body) = raw(s.addr, "POST", &path, &[], b"late").await;
    assert_eq!((status, body.as_str()), (410, ""));
    assert_eq!(header(&headers, "x-amzn-errortype"), Some("GoneException"));
}

#[tokio::test]
async fn events_list_their_members_in_awss_order() {
    let (events, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["$connect", "$disconnect", "$default"]).await;
    let mut socket = open(&s, &api).await.unwrap();
    socket.send(Message::text("hi")).await.unwrap();
    let message = event_text(&events, "$default", |_| true).await;
    socket.close(None).await.unwrap();
    let disconnect = event_text(&events, "$disconnect", |_| true).await;
    let connect = event_text(&events, "$connect", |_| true).await;
    // As AWS writes them (powertools' apiGatewayWebSocketApi*.json, recorded from AWS).
    assert_eq!(
        order(&connect),
        [
            "headers",
            "multiValueHeaders",
            "requestContext",
            "isBase64Encoded"
        ]
    );
    let tail = [
        "stage",
        "connectedAt",
        "requestTimeEpoch",
        "identity",
        "requestId",
        "domainName",
        "connectionId",
        "apiId",
    ];
    let with_tail = |head: &[&str]| -> Vec<String> {
        head.iter()
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(
        order_of(&connect, "requestContext"),
        with_tail(&[
            "routeKey",
            "eventType",
            "extendedRequestId",
            "requestTime",
            "messageDirection"
        ])
    );
    assert_eq!(
        order(&message),
        ["requestContext", "body", "isBase64Encoded"]
    );
    assert_eq!(
        order_of(&message, "requestContext"),
        with_tail(&[
            "routeKey",
            "messageId",
            "eventType",
            "extendedRequestId",
            "requestTime",
            "messageDirection"
        ])
    );
    assert_eq!(
        order(&disconnect),
        [
            "headers",
            "multiValueHeaders",
            "requestContext",
            "isBase64Encoded"
        ]
    );
    assert_eq!(
        order_of(&disconnect, "headers"),
        ["Host", "x-api-key", "X-Forwarded-For", "x-restapi"]
    );
    assert_eq!(
        order_of(&disconnect, "requestContext"),
        with_tail(&[
            "routeKey",
            "disconnectStatusCode",
            "eventType",
            "extendedRequestId",
            "requestTime",
            "messageDirection",
            "disconnectReason"
        ])
    );
    let disconnect = json(&disconnect);
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1005);
    assert_eq!(
        disconnect["requestContext"]["disconnectReason"],
        "Client-side close frame status not set"
    );
    let connect = json(&connect);
    let rc = &connect["requestContext"];
    assert_eq!(rc["requestId"], rc["extendedRequestId"]);
    assert!(rc["requestTime"].as_str().unwrap().ends_with(" +0000"));
    assert!(rc["requestTimeEpoch"].as_i64() >= rc["connectedAt"].as_i64());
    assert!(
        rc["identity"].get("userAgent").is_none(),
        "no User-Agent was sent"
    );
}

#[tokio::test]
async fn connect_decides_the_handshake() {
    for (answer, expected) in [(Some(401), 401), (Some(302), 302), (None, 502)] {
        let events: Events = Arc::default();
        let stub = ws_lambda(events.clone(), answer).await;
        let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
        let c = client(&s);
        let api = ws_api(&c, &["$connect", "$disconnect", "$default"]).await;
        assert_eq!(open(&s, &api).await.err(), Some(expected), "{answer:?}");
        // No connection was made: no $disconnect follows.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(events
            .lock()
            .unwrap()
            .iter()
            .all(|e| !e.contains("\"routeKey\":\"$disconnect\"")));
    }
}

#[tokio::test]
async fn handshakes_the_stage_cannot_take_are_refused() {
    let (_, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["$default"]).await;
    // No $connect route: accepted.
    assert!(open(&s, &api).await.is_ok());
    // An unknown stage, a path after the stage: 403.
    let url = |path: &str| format!("ws://{}/_aws/execute-api/{api}{path}", s.addr);
    for path in ["/nostage", "/prod/extra"] {
        match tokio_tungstenite::connect_async(url(path)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 403, "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    // A plain HTTP request to the stage: 426, with the protocol it needs.
    let (status, headers, _) = get(&s, &api, "/prod").await;
    assert_eq!(
        (status, header(&headers, "upgrade")),
        (426, Some("websocket"))
    );
    // A handshake of another version: 400.
    let (status, headers, _) = raw(
        s.addr,
        "GET",
        &format!("/_aws/execute-api/{api}/prod"),
        &[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "8"),
        ],
        b"",
    )
    .await;
    assert_eq!(
        (status, header(&headers, "sec-websocket-version")),
        (400, Some("13"))
    );
}

#[tokio::test]
async fn a_message_no_route_takes_gets_awss_forbidden_frame() {
    let (_, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["echo"]).await;
    let mut socket = open(&s, &api).await.unwrap();
    socket
        .send(Message::text(r#"{"action":"other"}"#))
        .await
        .unwrap();
    let frame = next_text(&mut socket).await;
    assert!(
        frame.starts_with(r#"{"message": "Forbidden", "connectionId":""#),
        "{frame}"
    );
    assert_eq!(order(&frame), ["message", "connectionId", "requestId"]);
    // The connection stays open.
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .unwrap();
    assert_eq!(next_text(&mut socket).await, r#"echo:{"action":"echo"}"#);
}

#[tokio::test]
async fn connections_close_on_limits_and_bad_frames() {
    let (events, s) = with_stub(|a| {
        a.websocket_idle_timeout = 0.3;
    })
    .await;
    let c = client(&s);
    let api = ws_api(&c, &["$disconnect", "$default"]).await;
    // Idle: closed with 1001, and $disconnect says so.
    let mut socket = open(&s, &api).await.unwrap();
    assert_eq!(closed(&mut socket).await, (1001, "Going away".into()));
    let idle = |e: &serde_json::Value| e["requestContext"]["disconnectStatusCode"] == 1001;
    let disconnect = json(&event_text(&events, "$disconnect", idle).await);
    assert_eq!(
        disconnect["requestContext"]["disconnectReason"],
        "Going away"
    );
    // A binary frame: 1003; a message over 128 KB: 1009.
    let mut socket = open(&s, &api).await.unwrap();
    socket.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(closed(&mut socket).await.0, 1003);
    let mut socket = open(&s, &api).await.unwrap();
    let _ = socket.send(Message::text("x".repeat(129 * 1024))).await;
    assert_eq!(closed(&mut socket).await.0, 1009);
    // A client's own close code and reason reach $disconnect.
    let mut socket = open(&s, &api).await.unwrap();
    socket
        .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: CloseCode::Library(4001),
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    // The server answers the close (RFC 6455 §5.5.1: the code echoed) and ends the socket.
    assert_eq!(closed(&mut socket).await, (4001, "bye".into()));
    assert!(socket.next().await.is_none());
    let by_client = |e: &serde_json::Value| e["requestContext"]["disconnectStatusCode"] == 4001;
    let disconnect = json(&event_text(&events, "$disconnect", by_client).await);
    assert_eq!(disconnect["requestContext"]["disconnectReason"], "bye");
}

#[tokio::test]
async fn the_host_form_and_the_endpoint_template_reach_a_websocket_api() {
    let (events, s) = with_stub(|a| {
        a.api_endpoint_template = Some("http://{apiId}.execute-api.localhost:4599".into());
    })
    .await;
    let c = client(&s);
    let api = ws_api(&c, &["$connect", "echo"]).await;
    let endpoint = c.get_api().api_id(&api).send().await.unwrap();
    assert_eq!(
        endpoint.api_endpoint(),
        Some(format!("ws://{api}.execute-api.localhost:4599").as_str())
    );
    let http = http_api(&c).await;
    let endpoint = c.get_api().api_id(&http).send().await.unwrap();
    assert!(endpoint.api_endpoint().unwrap().starts_with("http://"));
    // The host form: any `{apiId}.execute-api.<anything>` host.
    let mut request = format!("ws://{}/prod", s.addr)
        .into_client_request()
        .unwrap();
    let host = format!("{api}.execute-api.localhost:{}", s.addr.port());
    request.headers_mut().insert("host", host.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .unwrap();
    assert_eq!(next_text(&mut socket).await, r#"echo:{"action":"echo"}"#);
    let connect = event(&events, "$connect").await;
    assert_eq!(
        connect["requestContext"]["domainName"],
        host.split(':').next().unwrap()
    );
}

#[tokio::test]
async fn a_lambda_authorizer_decides_connect_and_its_context_follows_the_connection() {
    let (events, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["echo"]).await;
    let authorizer = c
        .create_authorizer()
        .api_id(&api)
        .name("tokens")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations")
        .identity_source("route.request.querystring.token")
        .send()
        .await
        .unwrap();
    let integration = c.get_integrations().api_id(&api).send().await.unwrap();
    let target = format!(
        "integrations/{}",
        integration.items()[0].integration_id().unwrap()
    );
    c.create_route()
        .api_id(&api)
        .route_key("$connect")
        .target(target)
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Custom)
        .authorizer_id(authorizer.authorizer_id().unwrap())
        .send()
        .await
        .unwrap();
    let url = |token: &str| format!("ws://{}/_aws/execute-api/{api}/prod{token}", s.addr);
    let status = |r: Result<_, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Ok(_) => 101,
        Err(e) => panic!("{e}"),
    };
    // No token: 401 without calling the authorizer.
    assert_eq!(status(tokio_tungstenite::connect_async(url("")).await), 401);
    assert!(events.lock().unwrap().is_empty());
    assert_eq!(
        status(tokio_tungstenite::connect_async(url("?token=deny")).await),
        403
    );
    assert_eq!(
        status(tokio_tungstenite::connect_async(url("?token=unauthorized")).await),
        401
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url("?token=allow"))
        .await
        .unwrap();
    // The authorizer's event, as AWS writes it.
    let request = events
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.contains("\"token\":\"allow\""))
        .cloned()
        .unwrap();
    assert_eq!(
        order(&request),
        [
            "type",
            "methodArn",
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "stageVariables",
            "requestContext"
        ]
    );
    let request = json(&request);
    assert!(request["methodArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{api}/prod/$connect")));
    assert_eq!(request["headers"]["Connection"], "upgrade");
    assert_eq!(request["headers"]["content-length"], "0");
    assert!(request["headers"].get("Sec-WebSocket-Key").is_none());
    assert!(request["multiValueHeaders"]
        .get("Sec-WebSocket-Key")
        .is_some());
    assert_eq!(request["stageVariables"], serde_json::json!({}));
    assert_eq!(request["requestContext"]["eventType"], "CONNECT");
    // What it allowed with reaches $connect and every later event, values as text.
    let passed = serde_json::json!({"principalId": "user-1", "tier": "gold", "n": "7"});
    let integration_event = |e: &serde_json::Value| e.get("type").is_none();
    let connect = json(&event_text(&events, "$connect", integration_event).await);
    assert_eq!(connect["requestContext"]["authorizer"], passed);
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .unwrap();
    next_text(&mut socket).await;
    assert_eq!(
        event(&events, "echo").await["requestContext"]["authorizer"],
        passed
    );
}

#[tokio::test]
async fn connects_and_messages_are_throttled() {
    let (_, s) = with_stub(|a| {
        a.websocket_connect_rate_limit = 2.0;
    })
    .await;
    let c = client(&s);
    let api = ws_api(&c, &["echo"]).await;
    // The account's new-connection rate: the third at once is refused.
    let first = open(&s, &api).await.unwrap();
    let _second = open(&s, &api).await.unwrap();
    assert_eq!(open(&s, &api).await.err(), Some(429));
    drop(first);
    // A route's limit: a burst of 1, then AWS's frame layout with Too Many Requests.
    c.update_stage()
        .api_id(&api)
        .stage_name("prod")
        .route_settings(
            "echo",
            RouteSettings::builder()
                .throttling_burst_limit(1)
                .throttling_rate_limit(0.01)
                .build(),
        )
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut socket = open(&s, &api).await.unwrap();
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .unwrap();
    assert_eq!(next_text(&mut socket).await, r#"echo:{"action":"echo"}"#);
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .await
        .unwrap();
    let frame = next_text(&mut socket).await;
    assert!(
        frame.starts_with(r#"{"message": "Too Many Requests", "connectionId":""#),
        "{frame}"
    );
    // `$connect`'s limit of 0 refuses every handshake.
    c.update_stage()
        .api_id(&api)
        .stage_name("prod")
        .route_settings(
            "$connect",
            RouteSettings::builder().throttling_burst_limit(0).build(),
        )
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(open(&s, &api).await.err(), Some(429));
}

#[tokio::test]
async fn http_proxy_routes_post_messages_to_the_backend() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = c
        .create_api()
        .name("relay")
        .protocol_type(ProtocolType::Websocket)
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
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("POST")
        .integration_uri(format!("http://{backend}/relay/${{stageVariables.room}}"))
        .send()
        .await
        .unwrap();
    let target = format!("integrations/{}", integration.integration_id().unwrap());
    for key in ["$connect", "$default"] {
        let route = c
            .create_route()
            .api_id(&api)
            .route_key(key)
            .target(&target)
            .set_route_response_selection_expression((key == "$default").then(|| "$default".into()))
            .send()
            .await
            .unwrap();
        if key == "$default" {
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
        .stage_variables("room", "lobby")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    // $connect through the backend (2xx: accepted), then a message POSTed to it and its
    // answer sent back (a two-way route).
    let mut socket = open(&s, &api).await.unwrap();
    socket.send(Message::text("hello backend")).await.unwrap();
    let answer = json(&next_text(&mut socket).await);
    assert_eq!(
        (
            answer["method"].as_str(),
            answer["path"].as_str(),
            answer["body"].as_str()
        ),
        (Some("POST"), Some("/relay/lobby"), Some("hello backend"))
    );
}

#[tokio::test]
async fn a_server_shutting_down_closes_its_connections_with_going_away() {
    let (events, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["$disconnect", "$default"]).await;
    let mut socket = open(&s, &api).await.unwrap();
    let stopping = tokio::spawn(s.stop());
    assert_eq!(closed(&mut socket).await, (1001, "Going away".into()));
    stopping.await.unwrap();
    // $disconnect ran before the server finished stopping.
    let disconnect = event(&events, "$disconnect").await;
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1001);
}

/// `GET /_gatehouse/connections`: a stage's open connections, as the console lists them;
/// one closed through `@connections` is gone from the list.
#[tokio::test]
async fn a_stages_open_connections_are_listed() {
    let s = server().await;
    let c = client(&s);
    let api = ws_api(&c, &["$default"]).await;
    let _first = open(&s, &api).await.unwrap();
    let _second = open(&s, &api).await.unwrap();
    let listed = |s: &gatehouse::server::RunningServer| {
        let (addr, api) = (s.addr, api.clone());
        async move {
            let path = format!("/_gatehouse/connections?apiId={api}&stage=prod");
            let (status, _, body) = raw(addr, "GET", &path, &[], b"").await;
            assert_eq!(status, 200, "{body}");
            json(&body)["connections"].as_array().unwrap().clone()
        }
    };
    let open_now = listed(&s).await;
    assert_eq!(open_now.len(), 2);
    let id = open_now[0]["connectionId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    assert!(open_now[0]["connectedAt"].as_str().unwrap().ends_with('Z'));
    let (status, _, _) = raw(s.addr, "DELETE", &format!("/@connections/{id}"), &[], b"").await;
    assert_eq!(status, 204);
    let wait = async {
        while listed(&s).await.len() != 1 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("the closed connection leaves the list");
}

/// The inspector keeps a WebSocket stage's events: the `$connect` handshake, each message
/// (with its text) and the `$disconnect`.
#[tokio::test]
async fn a_connections_events_are_traced() {
    let (events, s) = with_stub(|_| {}).await;
    let c = client(&s);
    let api = ws_api(&c, &["$connect", "$disconnect", "$default"]).await;
    let mut socket = open(&s, &api).await.unwrap();
    socket.send(Message::text("hello inspector")).await.unwrap();
    event(&events, "$default").await;
    socket.close(None).await.unwrap();
    event(&events, "$disconnect").await;
    let path = format!("/_gatehouse/invocations?apiId={api}&stage=prod");
    let traced = async {
        loop {
            let (status, _, body) = raw(s.addr, "GET", &path, &[], b"").await;
            assert_eq!(status, 200, "{body}");
            let all = json(&body)["invocations"].as_array().unwrap().clone();
            if all.len() == 3 {
                return all;
            }
            tokio::task::yield_now().await;
        }
    };
    let all = tokio::time::timeout(Duration::from_secs(5), traced)
        .await
        .expect("three traces");
    // Newest first.
    let keys: Vec<&str> = all
        .iter()
        .map(|t| t["routeKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["$disconnect", "$default", "$connect"]);
    let message = &all[1];
    assert_eq!(message["eventType"], "MESSAGE");
    assert_eq!(message["request"]["body"]["text"], "hello inspector");
    assert_eq!(message["connectionId"], all[0]["connectionId"]);
    assert_eq!(message["messageId"].as_str().unwrap().len(), 16);
    assert_eq!(all[0]["eventType"], "DISCONNECT");
}
