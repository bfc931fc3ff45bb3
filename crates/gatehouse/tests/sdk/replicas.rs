//! Two gatehouse processes on one PostgreSQL database: read-your-writes across replicas,
//! no lost fields under concurrent updates, one winner for concurrent creates, the stage
//! quota under concurrency. Skipped (and says so) without GATEHOUSE_TEST_POSTGRES_URL.

use std::time::Duration;

use tokio::process::Child;

use crate::common::*;

async fn replica(url: &str) -> (Child, String) {
    spawn_gatehouse(&["--store", url]).await
}

#[tokio::test]
async fn two_replicas_on_one_database_stay_consistent() {
    let Some((url, schema)) = gatehouse_core::store::postgres::test_url("two-replica tests") else {
        return;
    };
    // Both start at once: migrations must be applied exactly once.
    let ((_a, ea), (_b, eb)) = tokio::join!(replica(&url), replica(&url));
    let a = client_as(&ea, "AKIDEXAMPLE", "us-east-1");
    let b = client_as(&eb, "AKIDEXAMPLE", "us-east-1");

    // Read-your-writes across replicas.
    let id = http_api(&a).await;
    new_stage(&a, &id, "dev").await;
    for i in 0..30 {
        let d = format!("v{i}");
        a.update_stage()
            .api_id(&id)
            .stage_name("dev")
            .description(&d)
            .send()
            .await
            .unwrap();
        let seen = b
            .get_stage()
            .api_id(&id)
            .stage_name("dev")
            .send()
            .await
            .unwrap();
        assert_eq!(seen.description(), Some(d.as_str()));
    }

    // Concurrent UpdateStage through both replicas: every variable survives.
    let mut calls = Vec::new();
    for i in 0..60 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let id = id.clone();
        calls.push(tokio::spawn(async move {
            c.update_stage()
                .api_id(&id)
                .stage_name("dev")
                .stage_variables(format!("v{i}"), "x")
                .send()
                .await
                .map(|_| ())
        }));
    }
    for c in calls {
        c.await.unwrap().unwrap();
    }
    let vars = b
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(vars.stage_variables().unwrap().len(), 60);

    // Concurrent CreateStage with the same name: exactly one wins.
    for n in 0..5 {
        let name = format!("race{n}");
        let (ra, rb) = tokio::join!(
            a.create_stage().api_id(&id).stage_name(&name).send(),
            b.create_stage().api_id(&id).stage_name(&name).send()
        );
        let oks = [ra.is_ok(), rb.is_ok()].iter().filter(|x| **x).count();
        assert_eq!(oks, 1, "{name}");
        let loser = if ra.is_ok() { failure(rb) } else { failure(ra) };
        assert_eq!((loser.0.as_str(), loser.1), ("ConflictException", 409));
    }

    // The quota holds under concurrency: a fresh API, 20 creates at once, 10 succeed.
    let q = http_api(&b).await;
    let mut calls = Vec::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let q = q.clone();
        calls.push(tokio::spawn(async move {
            c.create_stage()
                .api_id(&q)
                .stage_name(format!("q{i}"))
                .send()
                .await
                .is_ok()
        }));
    }
    let mut ok = 0;
    for c in calls {
        if c.await.unwrap() {
            ok += 1;
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(
        a.get_stages()
            .api_id(&q)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        10
    );
    gatehouse_core::store::postgres::drop_test_schema(&url, &schema).await;
}

async fn throttled_replica(url: &str) -> (Child, String) {
    spawn_gatehouse(&[
        "--store",
        url,
        "--throttle",
        "--throttle-rate",
        "0.001",
        "--throttle-burst",
        "10",
    ])
    .await
}

#[tokio::test]
async fn throttling_holds_across_replicas() {
    let Some((url, schema)) = gatehouse_core::store::postgres::test_url("shared throttling test")
    else {
        return;
    };
    let ((_a, ea), (_b, eb)) = tokio::join!(throttled_replica(&url), throttled_replica(&url));
    let no_retry = |endpoint: &str| {
        use aws_sdk_apigatewayv2::config::retry::RetryConfig;
        use aws_sdk_apigatewayv2::config::{BehaviorVersion, Credentials, Region};
        let conf = aws_sdk_apigatewayv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("111111111111", "s", None, None, "t"))
            .endpoint_url(endpoint)
            .retry_config(RetryConfig::disabled())
            .build();
        aws_sdk_apigatewayv2::Client::from_conf(conf)
    };
    let clients = [no_retry(&ea), no_retry(&eb)];
    let mut ok = 0;
    for i in 0..30 {
        match clients[i % 2].get_apis().send().await {
            Ok(_) => ok += 1,
            Err(e) => {
                let (code, status, _) = failure::<(), _, _>(Err(e));
                assert_eq!((code.as_str(), status), ("TooManyRequestsException", 429));
            }
        }
    }
    assert_eq!(
        ok, 10,
        "the account's burst of 10 is shared by both replicas"
    );
    // Another account has its own bucket.
    let other = client_as(&ea, "222222222222", "us-east-1");
    other.get_apis().send().await.unwrap();
    gatehouse_core::store::postgres::drop_test_schema(&url, &schema).await;
}

#[tokio::test]
async fn auto_deploy_holds_under_concurrent_changes_through_two_replicas() {
    let Some((url, schema)) = gatehouse_core::store::postgres::test_url("replica auto-deploy test")
    else {
        return;
    };
    let ((_a, ea), (_b, eb)) = tokio::join!(replica(&url), replica(&url));
    let a = client_as(&ea, "AKIDEXAMPLE", "us-east-1");
    let b = client_as(&eb, "AKIDEXAMPLE", "us-east-1");
    let id = http_api(&a).await;
    a.create_stage()
        .api_id(&id)
        .stage_name("live")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    let integration = a
        .create_integration()
        .api_id(&id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::HttpProxy)
        .integration_uri("https://example.com")
        .integration_method("ANY")
        .send()
        .await
        .unwrap();
    let target = format!("integrations/{}", integration.integration_id().unwrap());
    let mut calls = Vec::new();
    for i in 0..10 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (id, target) = (id.clone(), target.clone());
        calls.push(tokio::spawn(async move {
            c.create_route()
                .api_id(&id)
                .route_key(format!("GET /r{i}"))
                .target(target)
                .send()
                .await
                .map(|_| ())
        }));
    }
    for c in calls {
        c.await.unwrap().unwrap();
    }
    // One automatic deployment per route change, and the stage points at the last one,
    // which (changes being serialized per API) holds all ten routes.
    let deployments = b.get_deployments().api_id(&id).send().await.unwrap();
    assert_eq!(deployments.items().len(), 10);
    let last = deployments
        .items()
        .last()
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string();
    let live = a
        .get_stage()
        .api_id(&id)
        .stage_name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(live.deployment_id(), Some(last.as_str()));
    let store = gatehouse_core::store::postgres::PostgresStore::open(&url)
        .await
        .unwrap();
    let scope = gatehouse_core::model::Scope::new("123456789012", "us-east-1");
    let snap = gatehouse_core::store::get_snapshot(&store, &scope, &id, &last)
        .await
        .unwrap();
    assert_eq!(snap.routes.len(), 10);
    drop(store);
    gatehouse_core::store::postgres::drop_test_schema(&url, &schema).await;
}

#[tokio::test]
async fn route_throttles_are_shared_by_replicas() {
    let Some((url, _schema)) =
        gatehouse_core::store::postgres::test_url("shared data-plane throttling")
    else {
        return;
    };
    let ((_a, ea), (_b, eb)) = tokio::join!(replica(&url), replica(&url));
    let a = client_as(&ea, "AKIDEXAMPLE", "us-east-1");
    let api = a
        .create_api()
        .name("shared")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .target("http://127.0.0.1:9/")
        .send()
        .await
        .unwrap();
    let api_id = api.api_id().unwrap().to_string();
    // Burst 3, and almost no refill: three requests in all, whichever replica serves them.
    a.update_stage()
        .api_id(&api_id)
        .stage_name("$default")
        .default_route_settings(
            aws_sdk_apigatewayv2::types::RouteSettings::builder()
                .throttling_burst_limit(3)
                .throttling_rate_limit(0.001)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut throttled = 0;
    for i in 0..8 {
        let endpoint = if i % 2 == 0 { &ea } else { &eb };
        let addr: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
        let (status, _, _) = raw(
            addr,
            "GET",
            &format!("/_aws/execute-api/{api_id}/x"),
            &[],
            b"",
        )
        .await;
        if status == 429 {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 5, "3 of 8 pass across both replicas");
}

/// A WebSocket API of account 111111111111 whose `$connect` and `$disconnect` go to the
/// Lambda stub, deployed to `prod`, created through `endpoint`.
async fn chat_api(endpoint: &str) -> String {
    let c = crate::strict::sdk_at(endpoint, "AKIASTRICTA", "secret-a", None);
    crate::dataplane::ws_api(&c, &["$connect", "$disconnect"]).await
}

use crate::dataplane::Seen;
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A client connected to `api`'s stage on the replica at `endpoint`, and its connection id
/// (from the `$connect` event the stub saw).
async fn connect_to(endpoint: &str, api: &str, seen: &Seen) -> (Socket, String) {
    let before = seen.lock().unwrap().len();
    let url = format!("ws{}/_aws/execute-api/{api}/prod", &endpoint[4..]);
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let seen = seen.lock().unwrap();
    let connect = seen[before..]
        .iter()
        .find(|(_, e)| e["requestContext"]["eventType"] == "CONNECT")
        .expect("a $connect event");
    let id = connect.1["requestContext"]["connectionId"]
        .as_str()
        .unwrap();
    (socket, id.to_string())
}

/// A signed `@connections` request to the replica at `endpoint`: (status, error type, body).
async fn connections(
    endpoint: &str,
    method: &str,
    path: &str,
    body: &[u8],
    key: (&str, &str),
) -> (u16, String, String) {
    let addr = endpoint[7..].parse().unwrap();
    let how = crate::strict::Signing {
        service: "execute-api",
        key: key.0,
        secret: key.1,
        ..crate::strict::Signing::default()
    };
    crate::strict::send(addr, method, path, body, how).await
}

/// The console's list of `api`'s open connections on `prod`, read through the replica at
/// `endpoint`, holds connection `id` (whichever replica holds it), and every replica answered.
async fn listed_through(endpoint: &str, api: &str, id: &str) {
    let how = crate::strict::Signing {
        key: OWNER.0,
        secret: OWNER.1,
        ..crate::strict::Signing::default()
    };
    let list = format!("/_gatehouse/connections?apiId={api}&stage=prod");
    let addr = endpoint[7..].parse().unwrap();
    let (status, _, body) = crate::strict::send(addr, "GET", &list, b"", how).await;
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed["connections"][0]["connectionId"], id, "{body}");
    assert_eq!(listed["unreached"], serde_json::json!([]));
}

const OWNER: (&str, &str) = ("AKIASTRICTA", "secret-a");
const OTHER: (&str, &str) = ("AKIASTRICTB", "secret-b");

#[tokio::test]
async fn a_websocket_connection_is_reached_through_every_replica() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let Some((url, _schema)) =
        gatehouse_core::store::postgres::test_url("two-replica WebSocket test")
    else {
        return;
    };
    let seen: Seen = Default::default();
    let stub =
        crate::dataplane::lambda_stub(seen.clone(), (200, false, r#"{"statusCode":200}"#)).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials.toml");
    std::fs::write(&creds, crate::strict::CREDENTIALS).unwrap();
    let lambda = format!("http://{stub}");
    let args = [
        "--store",
        url.as_str(),
        "--auth",
        "strict",
        "--credentials",
        creds.to_str().unwrap(),
        "--lambda-endpoint",
        lambda.as_str(),
    ];
    let ((mut a, ea), (_b, eb)) = tokio::join!(spawn_gatehouse(&args), spawn_gatehouse(&args));
    let api = chat_api(&ea).await;
    let (mut socket, id) = connect_to(&ea, &api, &seen).await;
    let on_stage = format!("/_aws/execute-api/{api}/prod/@connections/{id}");
    let at_root = format!("/@connections/{}", id.replace('=', "%3D"));

    // Through the replica that does not hold the socket: post (both addresses), get.
    for (path, text) in [(&on_stage, "via the stage"), (&at_root, "via the root")] {
        let (status, kind, body) = connections(&eb, "POST", path, text.as_bytes(), OWNER).await;
        assert_eq!((status, kind.as_str()), (200, ""), "{body}");
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        assert_eq!(frame, Message::text(text));
    }
    let (status, _, body) = connections(&eb, "GET", &on_stage, b"", OWNER).await;
    assert_eq!(status, 200, "{body}");
    let got: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(got["identity"]["sourceIp"], "127.0.0.1");
    // Another account: 403, as on the replica that holds it; another stage's URL: 410.
    let (status, kind, _) = connections(&eb, "POST", &on_stage, b"x", OTHER).await;
    assert_eq!((status, kind.as_str()), (403, "ForbiddenException"));
    let elsewhere = on_stage.replace("/prod/", "/dev/");
    let (status, kind, _) = connections(&eb, "POST", &elsewhere, b"x", OWNER).await;
    assert_eq!((status, kind.as_str()), (410, "GoneException"));
    // The replica-to-replica path wants the store's secret.
    let passed = format!("/_gatehouse/replica/connections/{id}");
    let (status, _, _) = raw(eb[7..].parse().unwrap(), "POST", &passed, &[], b"x").await;
    assert_eq!(status, 403);
    let peers =
        format!("/_gatehouse/replica/stage-connections?region=us-east-1&apiId={api}&stage=prod");
    let (status, _, _) = raw(eb[7..].parse().unwrap(), "GET", &peers, &[], b"").await;
    assert_eq!(status, 403);
    // The console's list, read through either replica, holds it.
    for endpoint in [&ea, &eb] {
        listed_through(endpoint, &api, &id).await;
    }

    // DELETE through the other replica closes it; $disconnect runs; then it is gone.
    let (status, _, _) = connections(&eb, "DELETE", &on_stage, b"", OWNER).await;
    assert_eq!(status, 204);
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a close in time");
    assert!(matches!(closed, Some(Ok(Message::Close(Some(f)))) if u16::from(f.code) == 1000));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen
        .lock()
        .unwrap()
        .iter()
        .any(|(_, e)| e["requestContext"]["eventType"] == "DISCONNECT")
    {
        assert!(tokio::time::Instant::now() < deadline, "no $disconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, kind, body) = connections(&eb, "POST", &on_stage, b"x", OWNER).await;
    assert_eq!(
        (status, kind.as_str(), body.as_str()),
        (410, "GoneException", "")
    );

    // A replica that dies takes its connections with it: the other answers 410 at once.
    let (_socket, id) = connect_to(&ea, &api, &seen).await;
    let path = format!("/@connections/{id}");
    let (status, _, _) = connections(&eb, "GET", &path, b"", OWNER).await;
    assert_eq!(status, 200);
    a.kill().await.unwrap();
    let started = std::time::Instant::now();
    let (status, kind, _) = connections(&eb, "POST", &path, b"x", OWNER).await;
    assert_eq!((status, kind.as_str()), (410, "GoneException"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
