//! Events checked against AWS's: each fixture in `tests/fixtures/events/` holds a request
//! recorded from AWS (its origin cited in the file) and the event AWS sent for it, written
//! here from the recording's members and values. The request is sent to gatehouse as the
//! recording's client sent it, the event gatehouse builds is caught at the Lambda stub, and
//! the two are compared member by member, in order; only what `"<varies>"` marks in the
//! fixture (ids, times, addresses) is left uncompared, and it must be present all the same.

use futures_util::{SinkExt, StreamExt};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events");
const VARIES: &str = "<varies>";

/// JSON with its objects' members in their order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    Scalar(serde_json::Value),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = s.next_element::<Json>()? {
                    items.push(v);
                }
                Ok(Json::Array(items))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Scalar(v.into()))
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Scalar(serde_json::Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn parse(text: &str) -> Json {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> &str {
        match self {
            Json::Scalar(serde_json::Value::String(s)) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    /// Where `expected` says a value varies, this one's value (present or not) is set so.
    fn ignore_as(&mut self, expected: &Json) {
        match (self, expected) {
            (this, Json::Scalar(serde_json::Value::String(s))) if s == VARIES => {
                *this = Json::Scalar(VARIES.into());
            }
            (Json::Object(mine), Json::Object(theirs)) => {
                for (k, v) in mine.iter_mut() {
                    if let Some((_, e)) = theirs.iter().find(|(ek, _)| ek == k) {
                        v.ignore_as(e);
                    }
                }
            }
            (Json::Array(mine), Json::Array(theirs)) => {
                for (v, e) in mine.iter_mut().zip(theirs) {
                    v.ignore_as(e);
                }
            }
            _ => {}
        }
    }

    /// Member paths and values, one line each, in order (for readable differences).
    fn lines(&self, at: &str, out: &mut Vec<String>) {
        match self {
            Json::Object(m) => {
                for (k, v) in m {
                    v.lines(&format!("{at}.{k}"), out);
                }
                if m.is_empty() {
                    out.push(format!("{at} = {{}}"));
                }
            }
            Json::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    v.lines(&format!("{at}[{i}]"), out);
                }
                if items.is_empty() {
                    out.push(format!("{at} = []"));
                }
            }
            Json::Scalar(v) => out.push(format!("{at} = {v}")),
        }
    }
}

/// Compares an event gatehouse sent with the recorded one; the differences, line by line,
/// when they differ.
fn assert_same_event(origin: &str, sent: &str, recorded: &Json) {
    let mut sent = Json::parse(sent);
    sent.ignore_as(recorded);
    if &sent != recorded {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        sent.lines("", &mut a);
        recorded.lines("", &mut b);
        let only_sent: Vec<&String> = a.iter().filter(|l| !b.contains(l)).collect();
        let only_recorded: Vec<&String> = b.iter().filter(|l| !a.contains(l)).collect();
        panic!(
            "the event differs from AWS's ({origin})\nonly in gatehouse's: {only_sent:#?}\nonly in AWS's: {only_recorded:#?}\n(same lines in another order if both are empty)\ngatehouse's:\n{}",
            a.join("\n")
        );
    }
}

/// A Lambda stub that keeps every event's text and answers 200.
async fn recording_stub() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = events.clone();
    let addr = backend(
        Duration::ZERO,
        Arc::new(move |req| {
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(req.body()).into_owned());
            hyper::Response::new(r#"{"statusCode":200}"#.to_string())
        }),
    )
    .await;
    (addr, events)
}

fn fixture(name: &str) -> Json {
    let path = format!("{FIXTURES}/{name}");
    Json::parse(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// Sends the request exactly as the fixture gives it (its headers and `host` only; a
/// `content-length` when it has a body) and reads the answer's status.
async fn send_as_recorded(addr: SocketAddr, host: &str, request: &Json) -> u16 {
    let body = request.get("body").map(Json::text).unwrap_or_default();
    let mut text = format!(
        "{} {} HTTP/1.1\r\nhost: {host}\r\n",
        request.get("method").unwrap().text(),
        request.get("target").unwrap().text()
    );
    if let Some(Json::Array(headers)) = request.get("headers") {
        for h in headers {
            let Json::Array(pair) = h else { continue };
            text.push_str(&format!("{}: {}\r\n", pair[0].text(), pair[1].text()));
        }
    }
    if !body.is_empty() {
        text.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap()
}

/// An HTTP API fixture: one route to the Lambda stub in the fixture's payload format, on
/// the `$default` stage, called through the host form.
async fn http_fixture(name: &str) {
    let f = fixture(name);
    let origin = f.get("origin").unwrap().text();
    let (stub, events) = recording_stub().await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = http_api(&c).await;
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:recorded")
        .payload_format_version(f.get("payloadFormatVersion").unwrap().text())
        .send()
        .await
        .unwrap();
    route(
        &c,
        &api,
        f.get("routeKey").unwrap().text(),
        i.integration_id().unwrap(),
    )
    .await;
    auto_deployed_default(&c, &api).await;
    let host = format!("{api}.execute-api.localhost");
    let status = send_as_recorded(s.addr, &host, f.get("request").unwrap()).await;
    assert_eq!(status, 200, "{origin}");
    let sent = events.lock().unwrap().pop().expect("an event");
    assert_same_event(origin, &sent, f.get("event").unwrap());
}

#[tokio::test]
async fn a_payload_2_0_event_is_awss() {
    http_fixture("http-2.0-get-root.json").await;
}

#[tokio::test]
async fn a_payload_1_0_event_is_awss() {
    http_fixture("http-1.0-post-proxy.json").await;
}

/// A WebSocket fixture: the connection opened with the recorded client's headers, its
/// messages sent, its close made; the events after `$connect` compared in order.
#[tokio::test]
async fn websocket_events_are_awss() {
    let f = fixture("websocket-message-and-disconnect.json");
    let origin = f.get("origin").unwrap().text();
    let request = f.get("request").unwrap();
    let (stub, events) = recording_stub().await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = ws_api(&c, &["$connect", "$disconnect", "$default"]).await;
    let mut req = format!("ws://{}/_aws/execute-api/{api}/prod", s.addr)
        .into_client_request()
        .unwrap();
    if let Some(Json::Array(headers)) = request.get("headers") {
        for h in headers {
            let Json::Array(pair) = h else { continue };
            req.headers_mut().insert(
                pair[0].text().parse::<http::HeaderName>().unwrap(),
                pair[1].text().parse().unwrap(),
            );
        }
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let Some(Json::Array(messages)) = request.get("messages") else {
        panic!("messages")
    };
    for m in messages {
        socket.send(Message::text(m.text())).await.unwrap();
    }
    let Some(Json::Array(close)) = request.get("close") else {
        panic!("close")
    };
    let Json::Scalar(code) = &close[0] else {
        panic!("code")
    };
    socket
        .close(Some(CloseFrame {
            code: CloseCode::from(code.as_u64().unwrap() as u16),
            reason: close[1].text().to_string().into(),
        }))
        .await
        .unwrap();
    while socket.next().await.is_some() {}
    let Some(Json::Array(recorded)) = f.get("events") else {
        panic!("events")
    };
    // $connect, then one event per recorded one.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while events.lock().unwrap().len() < recorded.len() + 1 {
        assert!(tokio::time::Instant::now() < deadline, "events in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = events.lock().unwrap().clone();
    for (sent, recorded) in sent[1..].iter().zip(recorded) {
        assert_same_event(origin, sent, recorded);
    }
}
