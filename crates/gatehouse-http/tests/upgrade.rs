//! Upgrades pass through the plain path: a `101` answer hands the socket (with the bytes the
//! client sent after its request) to the handler's [`OnUpgrade`]; any other answer to an
//! upgrade request leaves the connection an HTTP/1.1 one.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_http::body::{self, Body};
use gatehouse_http::server::upgrade::{self, OnUpgrade};
use gatehouse_http::server::{self, Handler, Peer, Timeouts};
use http::{Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Accepts upgrades on `/echo` (the upgraded connection echoes what it reads), refuses them
/// elsewhere with a 426 whose body names the path.
struct Echo;

impl Handler for Echo {
    async fn handle(&self, req: Request<Body>, _peer: &Peer) -> Response<Body> {
        let asked = upgrade::is_requested(req.headers());
        if asked && req.uri().path() == "/echo" {
            let mut resp = Response::new(body::empty());
            *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            resp.headers_mut()
                .insert("upgrade", http::HeaderValue::from_static("echo"));
            resp.headers_mut()
                .insert("connection", http::HeaderValue::from_static("upgrade"));
            resp.extensions_mut()
                .insert(OnUpgrade::new(|mut up: upgrade::Upgraded| async move {
                    let _ = up.io.write_all(&up.read).await;
                    let mut buf = [0u8; 64];
                    while let Ok(n) = up.io.read(&mut buf).await {
                        if n == 0 || up.io.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }));
            return resp;
        }
        let text = format!(
            "{} {}",
            if asked { "refused" } else { "plain" },
            req.uri().path()
        );
        let mut resp = Response::new(body::full(Bytes::from(text)));
        if asked {
            *resp.status_mut() = StatusCode::UPGRADE_REQUIRED;
        }
        resp
    }
}

async fn start() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeouts = Timeouts {
        header: Duration::from_secs(5),
        idle: Duration::from_secs(5),
    };
    tokio::spawn(server::serve(
        listener,
        Arc::new(Echo),
        timeouts,
        std::future::pending(),
    ));
    addr
}

/// Reads from `socket` until `want` has arrived (or 5 s pass).
async fn read_until(socket: &mut TcpStream, want: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&seen).contains(want) {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_101_hands_the_connection_and_its_early_bytes_over() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    // The client's first bytes of the new protocol come in the same write as the request.
    socket
        .write_all(
            b"GET /echo HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: echo\r\n\r\nearly",
        )
        .await
        .unwrap();
    let seen = read_until(&mut socket, "early").await;
    assert!(
        seen.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{seen}"
    );
    assert!(seen.ends_with("\r\n\r\nearly"), "{seen}");
    socket.write_all(b"later").await.unwrap();
    assert_eq!(read_until(&mut socket, "later").await, "later");
}

#[tokio::test]
async fn a_refused_upgrade_leaves_an_http_connection() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(
            b"GET /other HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n",
        )
        .await
        .unwrap();
    let seen = read_until(&mut socket, "refused /other").await;
    assert!(
        seen.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{seen}"
    );
    socket
        .write_all(b"GET /next HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let seen = read_until(&mut socket, "plain /next").await;
    assert!(seen.starts_with("HTTP/1.1 200 OK\r\n"), "{seen}");
}
