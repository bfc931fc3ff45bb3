//! HTTP_PROXY integrations: headers, stage variables, timeouts, dead backends, parameter
//! mapping, streamed bodies and the size limits.

use super::*;

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
    auto_deployed_default(&c, &api).await;
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
