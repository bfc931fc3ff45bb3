//! The data plane's floor: a bare hyper reverse proxy that forwards every request to one
//! backend (pooled keep-alive connections) and passes the answer back, doing no other work.
//! Measured in the same run as gatehouse's HTTP_PROXY integration and nginx, it shows what
//! this machine gives any proxy. `proxyfloor --backend http://ADDR` prints
//! `proxyfloor listening on http://ADDR` when ready.

use std::convert::Infallible;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

#[derive(Parser)]
struct Cli {
    /// The backend's base URL.
    #[arg(long)]
    backend: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let backend: hyper::Uri = cli.backend.parse().expect("backend URL");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!(
        "proxyfloor listening on http://{}",
        listener.local_addr().expect("address")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        stream.set_nodelay(true).ok();
        let (client, backend) = (client.clone(), backend.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (client, backend) = (client.clone(), backend.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let uri = format!(
                        "{}{}",
                        backend.to_string().trim_end_matches('/'),
                        parts
                            .uri
                            .path_and_query()
                            .map(|p| p.as_str())
                            .unwrap_or("/")
                    );
                    let mut out = Request::new(Full::new(body));
                    *out.method_mut() = parts.method;
                    *out.uri_mut() = uri.parse().expect("uri");
                    let answer = match client.request(out).await {
                        Ok(resp) => {
                            let (parts, body) = resp.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            Response::from_parts(parts, Full::new(body))
                        }
                        Err(_) => Response::builder()
                            .status(502)
                            .body(Full::new(Bytes::new()))
                            .expect("response"),
                    };
                    Ok::<_, Infallible>(answer)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
