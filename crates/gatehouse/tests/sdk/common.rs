//! Shared helpers: an in-process gatehouse on port 0 and real SDK clients pointed at it.

use std::time::Duration;

use aws_sdk_apigatewayv2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewayv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewayv2::Client;
use gatehouse::server::RunningServer;
use gatehouse::settings::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The store the suite runs on: `GATEHOUSE_TEST_STORE=memory` (default), `sqlite` (a fresh
/// file) or `postgres` (a fresh schema in `GATEHOUSE_TEST_POSTGRES_URL`; `.ci/run` drops
/// the `gh_test_*` schemas afterwards).
pub fn test_store() -> gatehouse_core::store::StoreUrl {
    match std::env::var("GATEHOUSE_TEST_STORE").as_deref() {
        Ok("sqlite") => {
            let dir = tempfile::tempdir().expect("tempdir").keep();
            gatehouse_core::store::StoreUrl::Sqlite(dir.join("state.db"))
        }
        Ok("postgres") => gatehouse_core::store::postgres::test_url("the postgres run")
            .map(|(url, _)| url.parse().expect("a postgres URL"))
            .expect("GATEHOUSE_TEST_STORE=postgres needs GATEHOUSE_TEST_POSTGRES_URL"),
        _ => gatehouse_core::store::StoreUrl::Memory,
    }
}

/// A gatehouse on the suite's store with the given tweaks.
pub async fn server_with(tweak: impl FnOnce(&mut Settings)) -> RunningServer {
    let mut args = Settings {
        store: test_store(),
        ..Settings::ephemeral()
    };
    tweak(&mut args);
    gatehouse::server::start(&args)
        .await
        .expect("server starts")
}

/// A gatehouse on the suite's store.
pub async fn server() -> RunningServer {
    server_with(|_| {}).await
}

/// An SDK client for `endpoint` signing as `access_key` in `region`.
pub fn client_as(endpoint: &str, access_key: &str, region: &str) -> Client {
    let conf = aws_sdk_apigatewayv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(conf)
}

/// An SDK client in us-east-1 for the default account.
pub fn client(server: &RunningServer) -> Client {
    client_as(&server.endpoint(), "AKIDEXAMPLE", "us-east-1")
}

/// (exception name, HTTP status, message) of a failed SDK call.
pub fn failure<T: std::fmt::Debug, E, R>(result: Result<T, SdkError<E, R>>) -> (String, u16, String)
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug + HasStatus,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(SdkError::ServiceError(ctx)) => {
            let status = ctx.raw().status_code();
            let err = ctx.err();
            (
                err.code().unwrap_or_default().to_string(),
                status,
                err.message().unwrap_or_default().to_string(),
            )
        }
        Err(other) => panic!("expected a service error, got {other:?}"),
    }
}

/// The HTTP status of a raw SDK response.
pub trait HasStatus {
    /// The status code.
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_apigatewayv2::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Creates an HTTP API and returns its id.
pub async fn http_api(c: &Client) -> String {
    c.create_api()
        .name("test-http")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("create api")
        .api_id
        .expect("api id")
}

/// Creates stage `name` (no other settings) on API `api`.
pub async fn new_stage(c: &Client, api: &str, name: &str) {
    c.create_stage()
        .api_id(api)
        .stage_name(name)
        .send()
        .await
        .expect("create stage");
}

/// Creates route `key` (no other settings) on API `api` and returns its id.
pub async fn new_route(c: &Client, api: &str, key: &str) -> String {
    c.create_route()
        .api_id(api)
        .route_key(key)
        .send()
        .await
        .expect("create route")
        .route_id()
        .expect("route id")
        .to_string()
}

/// Creates a WebSocket API and returns its id.
pub async fn ws_api(c: &Client) -> String {
    c.create_api()
        .name("test-ws")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .expect("create api")
        .api_id
        .expect("api id")
}

/// A raw HTTP/1.1 exchange, for inputs no SDK would send (and invoke URLs; a `host` among
/// `headers` replaces the address). Returns (status, headers, body).
pub async fn raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// The value of header `name` in a raw response.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Gives the API a route (and, for WebSocket APIs, a MOCK integration behind it) and
/// deploys it; returns the deployment id.
pub async fn deploy_something(c: &Client, api_id: &str) -> String {
    use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
    let api = c.get_api().api_id(api_id).send().await.expect("get api");
    let (integration_type, uri, key) = match api.protocol_type() {
        Some(ProtocolType::Websocket) => (IntegrationType::Mock, None, "$connect"),
        _ => (
            IntegrationType::HttpProxy,
            Some("https://example.com/backend"),
            "GET /things",
        ),
    };
    let mut req = c
        .create_integration()
        .api_id(api_id)
        .integration_type(integration_type);
    if let Some(uri) = uri {
        req = req.integration_uri(uri).integration_method("GET");
    }
    let integration = req.send().await.expect("create integration");
    c.create_route()
        .api_id(api_id)
        .route_key(key)
        .target(format!(
            "integrations/{}",
            integration.integration_id().expect("integration id")
        ))
        .send()
        .await
        .expect("create route");
    c.create_deployment()
        .api_id(api_id)
        .send()
        .await
        .expect("create deployment")
        .deployment_id()
        .expect("deployment id")
        .to_string()
}

/// Starts the real gatehouse binary with `args` (plus `--listen 127.0.0.1:0`) and waits for
/// its ready line; returns the child (killed on drop) and its endpoint.
pub async fn spawn_gatehouse(args: &[&str]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn gatehouse");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("ready line in time")
        .expect("read stdout")
        .expect("a ready line");
    let endpoint = line
        .strip_prefix("gatehouse listening on ")
        .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
        .to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    (child, endpoint)
}

/// The real binary started with `args` (plus `--listen 127.0.0.1:0`) at the default log
/// level, its standard output and error read line by line.
pub struct Logged {
    /// The child, killed when this is dropped.
    _child: tokio::process::Child,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// The lines it wrote to standard output after its ready line, as they come.
    pub stdout: tokio::sync::mpsc::UnboundedReceiver<String>,
    stderr: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Logged {
    /// Starts the binary and waits for its ready line.
    pub async fn start(args: &[&str]) -> Logged {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn gatehouse");
        let mut stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = lines_of(child.stderr.take().expect("stderr"));
        let ready = tokio::time::timeout(Duration::from_secs(30), stdout.recv())
            .await
            .expect("ready line in time")
            .expect("a ready line");
        let addr = ready
            .strip_prefix("gatehouse listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected ready line {ready:?}"));
        Logged {
            _child: child,
            addr,
            stdout,
            stderr,
        }
    }

    /// The first log line from now on that contains every one of `parts` (waiting for it
    /// at most ten seconds).
    pub async fn log_line(&mut self, parts: &[&str]) -> String {
        let wait = async {
            loop {
                let line = self.stderr.recv().await.expect("the log goes on");
                if parts.iter().all(|p| line.contains(p)) {
                    return line;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("no log line with {parts:?}"))
    }
}

/// The lines of `out`, as they are written.
fn lines_of(
    out: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::AsyncBufReadExt;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
