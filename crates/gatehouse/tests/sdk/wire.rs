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
