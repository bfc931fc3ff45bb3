//! The WebSocket floor: a bare hyper + tokio-tungstenite server doing only what a WebSocket
//! gateway cannot avoid, measured in the same run as gatehouse's WebSocket data plane.
//!
//! - Any GET with `Upgrade: websocket` is accepted (101) and the connection registered under
//!   a new id; with `--ids-file`, a line `CONNECT {id}` is appended for each.
//! - With `--stub URL`, every text message is POSTed to the stub (pooled keep-alive
//!   connections, as a gateway calls the Lambda Invoke API) and the stub's answer goes back
//!   to the sender as one text frame; without it, messages are read and dropped.
//! - `POST /@connections/{id}` sends the body to that connection as one text frame: 200, or
//!   410 for an unknown id.
//!
//! `wsfloor [--stub URL] [--ids-file PATH]` prints `wsfloor listening on http://ADDR` when
//! ready.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

#[derive(Parser)]
struct Cli {
    /// The Invoke-API stub each message is POSTed to (round-trip mode).
    #[arg(long)]
    stub: Option<String>,
    /// Append `CONNECT {id}` to this file for every connection opened.
    #[arg(long)]
    ids_file: Option<String>,
}

type Registry = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Bytes>>>>;

struct Floor {
    registry: Registry,
    next_id: AtomicU64,
    stub: Option<(Client<HttpConnector, Full<Bytes>>, String)>,
    ids_file: Option<Mutex<std::fs::File>>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let stub = cli.stub.map(|s| {
        let client = Client::builder(TokioExecutor::new()).build_http();
        let url = format!(
            "{}/2015-03-31/functions/bench/invocations",
            s.trim_end_matches('/')
        );
        (client, url)
    });
    let ids_file = cli.ids_file.map(|p| {
        Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .expect("ids file"),
        )
    });
    let floor = Arc::new(Floor {
        registry: Arc::default(),
        next_id: AtomicU64::new(1),
        stub,
        ids_file,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!(
        "wsfloor listening on http://{}",
        listener.local_addr().expect("address")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        stream.set_nodelay(true).ok();
        let floor = floor.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| serve(floor.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

async fn serve(
    floor: Arc<Floor>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if let Some(key) = req.headers().get("sec-websocket-key") {
        return Ok(upgrade(floor, key.as_bytes().to_vec(), req));
    }
    let Some(id) = req
        .uri()
        .path()
        .strip_prefix("/@connections/")
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return Ok(empty(StatusCode::NOT_FOUND));
    };
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let sent = floor
        .registry
        .lock()
        .expect("registry")
        .get(&id)
        .map(|tx| tx.send(body).is_ok());
    Ok(empty(match sent {
        Some(true) => StatusCode::OK,
        _ => StatusCode::GONE,
    }))
}

/// Answers 101 and serves the connection once hyper hands the socket over.
fn upgrade(
    floor: Arc<Floor>,
    key: Vec<u8>,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let accept = derive_accept_key(&key);
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        // Small buffers, as gatehouse configures them (tungstenite's default read buffer is
        // 128 KiB per connection).
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        connection(floor, ws).await;
    });
    let mut r = empty(StatusCode::SWITCHING_PROTOCOLS);
    let h = r.headers_mut();
    h.insert("upgrade", "websocket".parse().expect("header"));
    h.insert("connection", "Upgrade".parse().expect("header"));
    h.insert("sec-websocket-accept", accept.parse().expect("header"));
    r
}

async fn connection<S>(floor: Arc<Floor>, ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let id = floor.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel();
    floor.registry.lock().expect("registry").insert(id, tx);
    if let Some(f) = &floor.ids_file {
        let _ = writeln!(f.lock().expect("ids file"), "CONNECT {id}");
    }
    let (mut sink, mut stream) = ws.split();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if let Some(answer) = call_stub(&floor, text).await {
                        if sink.send(Message::Text(answer)).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) => {
                    // tungstenite queued the close reply; drive it out and wait for the end.
                    let _ = sink.flush().await;
                    while let Some(Ok(_)) = stream.next().await {}
                    break;
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            out = rx.recv() => {
                let Some(out) = out else { break };
                let Ok(text) = Utf8Bytes::try_from(out) else { continue };
                if sink.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
        }
    }
    floor.registry.lock().expect("registry").remove(&id);
}

/// The stub's answer to one message (round-trip mode), or None.
async fn call_stub(floor: &Floor, text: Utf8Bytes) -> Option<Utf8Bytes> {
    let (client, url) = floor.stub.as_ref()?;
    let mut req = Request::new(Full::new(Bytes::from(text)));
    *req.method_mut() = hyper::Method::POST;
    *req.uri_mut() = url.parse().ok()?;
    let resp = client.request(req).await.ok()?;
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    Utf8Bytes::try_from(body).ok()
}
