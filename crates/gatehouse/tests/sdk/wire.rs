//! The bytes on the wire: a plain request is answered by gatehouse's own HTTP/1.1 path and
//! one with a transfer coding by hyper's; a client sees the same status line, the same
//! headers in the same order and the same body from either.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

/// Sends `head` (and, with `chunked`, an empty chunked body) on a new connection and returns
/// the first answer: status line, header lines without the ones that differ every time, and
/// the body.
async fn answer(
    addr: std::net::SocketAddr,
    head: &str,
    chunked: bool,
) -> (String, Vec<String>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = head.to_string();
    if chunked {
        req.push_str("transfer-encoding: chunked\r\n\r\n0\r\n\r\n");
    } else {
        req.push_str("\r\n");
    }
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Keep-alive: read until the head and the body its length states are here.
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.parse().ok())
                .expect("a stated length");
            if body.len() >= length {
                let mut lines = head.lines().map(String::from);
                let status = lines.next().unwrap();
                let varying = [
                    "date:",
                    "x-amzn-requestid:",
                    "x-amz-apigw-id:",
                    "apigw-requestid:",
                ];
                let headers = lines
                    .filter(|l| !varying.iter().any(|v| l.starts_with(v)))
                    .collect();
                return (status, headers, body.to_string());
            }
        }
    }
}

#[tokio::test]
async fn both_http_paths_answer_with_the_same_bytes() {
    let s = server().await;
    let host = format!("host: {}\r\n", s.addr);
    for head in [
        // A management operation, an unknown path, and invoke URLs of an unknown API.
        format!("GET /v2/apis HTTP/1.1\r\n{host}"),
        format!("GET /nowhere HTTP/1.1\r\n{host}"),
        format!("GET /_aws/execute-api/abcdef1234/x HTTP/1.1\r\n{host}"),
        "POST /x HTTP/1.1\r\nhost: abcdef1234.execute-api.localhost\r\n".to_string(),
    ] {
        let own = answer(s.addr, &head, false).await;
        let hyper = answer(s.addr, &head, true).await;
        assert_eq!(own, hyper, "{head}");
        assert!(
            own.1.iter().all(|l| !l.starts_with("connection:")),
            "{own:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_shuts_its_side_after_the_request_still_gets_the_answer() {
    // The answer is delayed, so the server reads the client's end of stream before it has
    // the answer to write.
    let s = server_with(|a| a.faults = vec!["GetApis=delay:300ms".into()]).await;
    let head = "GET /v2/apis HTTP/1.1\r\nhost: x\r\n";
    for (req, status) in [
        // gatehouse's own path, then hyper's: HTTP/1.0, a chunked body, `connection: close`.
        (format!("{head}\r\n"), "HTTP/1.1 200"),
        (
            head.replace("HTTP/1.1", "HTTP/1.0") + "\r\n",
            "HTTP/1.0 200",
        ),
        (
            format!("{head}transfer-encoding: chunked\r\n\r\n0\r\n\r\n"),
            "HTTP/1.1 200",
        ),
        (format!("{head}connection: close\r\n\r\n"), "HTTP/1.1 200"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        stream.write_all(req.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with(status), "{req:?} => {got:?}");
    }
}

/// Reads from `stream` until `count` answers (each with a stated length) have arrived.
async fn answers(stream: &mut tokio::net::TcpStream, count: usize) -> Vec<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut found = Vec::new();
        let mut rest = &buf[..];
        while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&rest[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rest.len() < end + 4 + length {
                break;
            }
            let body = String::from_utf8_lossy(&rest[end + 4..end + 4 + length]).to_string();
            found.push((head.lines().next().unwrap_or_default().to_string(), body));
            rest = &rest[end + 4 + length..];
        }
        if found.len() >= count {
            return found;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed after {} answers", found.len());
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn pipelined_and_piecemeal_requests_are_answered_in_order() {
    let s = server().await;
    // Two requests in one write: two answers, in order.
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(
            b"GET /_aws/execute-api/abcdef1234/one HTTP/1.1\r\nhost: x\r\n\r\n\
              GET /nowhere HTTP/1.1\r\nhost: x\r\n\r\n",
        )
        .await
        .unwrap();
    let got = answers(&mut stream, 2).await;
    assert_eq!(got[0].0, "HTTP/1.1 404 Not Found");
    assert_eq!(got[0].1, r#"{"message":"Not Found"}"#);
    assert!(
        got[1].1.contains("No operation matches GET /nowhere"),
        "{got:?}"
    );
    // A head and a body arriving a few bytes at a time, on the same connection.
    let body = r#"{"name":"piecemeal","protocolType":"HTTP"}"#;
    let req = format!(
        "POST /v2/apis HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    for piece in req.as_bytes().chunks(7) {
        stream.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let got = answers(&mut stream, 1).await;
    assert_eq!(got[0].0, "HTTP/1.1 201 Created", "{got:?}");
    assert!(got[0].1.contains(r#""name":"piecemeal""#), "{got:?}");
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    let s = server().await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"GET /v2/apis HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    answers(&mut stream, 1).await;
    let started = std::time::Instant::now();
    s.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing more, then the end");
}
