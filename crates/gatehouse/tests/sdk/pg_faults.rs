//! PostgreSQL going away and coming back, through a TCP proxy the test controls: requests
//! fail fast with 503 ServiceUnavailableException (which SDKs retry), nothing is half
//! applied, and gatehouse recovers by itself. Skipped without GATEHOUSE_TEST_POSTGRES_URL.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_apigatewayv2::config::retry::RetryConfig;
use aws_sdk_apigatewayv2::config::{BehaviorVersion, Credentials, Region};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::common::*;

/// A TCP proxy to PostgreSQL that can be cut and restored on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream: upstream.to_string(),
            tasks: Arc::default(),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// The database "goes away": no new connections, existing ones cut.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

#[tokio::test]
async fn postgres_outage_fails_fast_and_recovers() {
    let Some((url, schema)) = gatehouse_core::store::postgres::test_url("postgres outage test")
    else {
        return;
    };
    // postgres://USER@HOST:PORT/DB?... → the same through the proxy.
    let after_at = url.split_once('@').unwrap().1;
    let hostport = after_at.split_once('/').unwrap().0.to_string();
    let proxy = Proxy::start(&hostport).await;
    let via_proxy = url.replacen(&hostport, &proxy.addr.to_string(), 1);
    let s = server_with(|a| a.store = via_proxy.parse().unwrap()).await;
    let conf = aws_sdk_apigatewayv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "s", None, None, "t"))
        .endpoint_url(s.endpoint())
        .retry_config(RetryConfig::disabled())
        .build();
    let c = aws_sdk_apigatewayv2::Client::from_conf(conf);
    let id = http_api(&c).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("dev")
        .description("before")
        .send()
        .await
        .unwrap();

    proxy.cut();
    for _ in 0..3 {
        let started = Instant::now();
        let (code, status, _) = failure(
            c.update_stage()
                .api_id(&id)
                .stage_name("dev")
                .description("during")
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), status),
            ("ServiceUnavailableException", 503)
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "fails fast: {:?}",
            started.elapsed()
        );
        let (code, status, _) = failure(c.get_stage().api_id(&id).stage_name("dev").send().await);
        assert_eq!(
            (code.as_str(), status),
            ("ServiceUnavailableException", 503)
        );
    }
    // The health endpoint tells a load balancer the same.
    let (status, _, body) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"status\":\"unavailable\""), "{body}");

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let stage = loop {
        match c.get_stage().api_id(&id).stage_name("dev").send().await {
            Ok(st) => break st,
            Err(_) if Instant::now() < deadline => tokio::task::yield_now().await,
            Err(e) => panic!("did not recover: {e:?}"),
        }
    };
    assert_eq!(
        stage.description(),
        Some("before"),
        "failed writes were not applied"
    );
    let (status, _, body) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    c.update_stage()
        .api_id(&id)
        .stage_name("dev")
        .description("after")
        .send()
        .await
        .unwrap();
    s.stop().await;
    gatehouse_core::store::postgres::drop_test_schema(&url, &schema).await;
}
