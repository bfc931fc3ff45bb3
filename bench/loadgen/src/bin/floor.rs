//! The floor: a bare hyper server that answers every request with the same bytes
//! gatehouse sends for a GetStage (body and header set, values fixed), doing no other
//! work. Measured with the same load generator in the same run, it shows what this machine
//! gives any hyper server at each concurrency, so gatehouse's figures can be read against
//! it. `floor --body-file FILE` prints `floor listening on http://ADDR` when ready.

use std::convert::Infallible;

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

#[derive(Parser)]
struct Cli {
    /// The response body to send.
    #[arg(long)]
    body_file: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let body = Bytes::from(std::fs::read(&cli.body_file).expect("body file"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!(
        "floor listening on http://{}",
        listener.local_addr().expect("address")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        stream.set_nodelay(true).ok();
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
                            .header("x-amz-apigw-id", "AAAAAAAAAAAAAAAA")
                            .body(Full::new(body))
                            .expect("static response"),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
