//! The HTTP server: [`router`] builds the service without a socket; [`serve`] runs it on a
//! listener until a shutdown signal, draining in-flight requests; [`start`] does both on a
//! background task for tests and embedding.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::FutureExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::credentials::Credentials;
use crate::auth::{sigv4, Authenticator, Defaults, Mode};
use crate::config::{AuthMode, ServeArgs};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::limits::{self, FaultAction, FaultRule, Faults, Throttle, ThrottleConfig};
use crate::metrics::{Metrics, Rejection};
use crate::model::{ids, time};
use crate::net::IdleTimeout;
use crate::ops::{self, Ctx, Input, Reply, Service, ServiceConfig};
use crate::store::{self, SharedStore};
use crate::wire;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    /// Operations and their store.
    pub service: Service,
    /// Resolves (and in strict mode verifies) each caller.
    pub auth: Arc<Authenticator>,
    /// Body size limit in bytes.
    pub body_limit: usize,
    /// Per-account throttling, when on.
    pub throttle: Option<Arc<Throttle>>,
    /// Injected faults.
    pub faults: Arc<Faults>,
    /// Requests that may run at once; the rest are shed with 503.
    pub permits: Arc<Semaphore>,
    /// The number of permits.
    pub max_concurrent: usize,
    /// Connection timeouts.
    pub timeouts: Timeouts,
    /// When the server was built (for uptime).
    pub started: Instant,
    /// `memory`, `sqlite` or `postgres`.
    pub store_kind: &'static str,
    /// Request counters and latency histograms.
    pub metrics: Arc<Metrics>,
}

/// Connection timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time allowed to send a request's headers.
    pub header: Duration,
    /// Time an idle keep-alive connection stays open.
    pub idle: Duration,
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!("{what} must be a positive number of seconds"))
    }
}

impl App {
    /// Builds the application state from settings and an opened store. Fails on settings
    /// that cannot work (strict mode without credentials, an unreadable credentials file,
    /// open mode on a non-loopback address without the explicit flag).
    pub fn new(args: &ServeArgs, store: SharedStore) -> Result<App, String> {
        let defaults = Defaults {
            account: args.default_account.clone(),
            region: args.default_region.clone(),
        };
        let mode = match args.auth {
            AuthMode::Open => {
                if !args.listen.ip().is_loopback() && !args.allow_unauthenticated_remote {
                    return Err(format!(
                        "refusing to listen on {} in open mode: anyone who can reach it could act as any account. \
                         Use --auth strict --credentials FILE, listen on a loopback address, \
                         or pass --allow-unauthenticated-remote if you accept that",
                        args.listen
                    ));
                }
                Mode::Open
            }
            AuthMode::Strict => match (&args.credentials, &args.inline_credentials) {
                (Some(path), _) => Mode::Strict(Credentials::load(path)?),
                (None, Some(inline)) => Mode::Strict(inline.clone()),
                (None, None) => {
                    return Err("--auth strict needs --credentials FILE (or GATEHOUSE_CREDENTIALS, or [[credentials]] in the settings file)".into())
                }
            },
        };
        let faults = args
            .faults
            .iter()
            .filter(|f| !f.trim().is_empty())
            .map(|f| FaultRule::parse(f.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let throttle = if args.throttle {
            if !(args.throttle_rate >= 0.0
                && args.throttle_burst >= 1.0
                && args.throttle_deploy_interval >= 0.0)
            {
                return Err("--throttle-rate must be >= 0, --throttle-burst >= 1 and --throttle-deploy-interval >= 0".into());
            }
            Some(Arc::new(Throttle::new(ThrottleConfig {
                rate: args.throttle_rate,
                burst: args.throttle_burst,
                deploy_interval: args.throttle_deploy_interval,
            })))
        } else {
            None
        };
        if args.max_concurrent_requests == 0 {
            return Err("--max-concurrent-requests must be at least 1".into());
        }
        Ok(App {
            service: Service {
                store,
                config: Arc::new(ServiceConfig {
                    max_stages_per_api: args.max_stages_per_api as usize,
                }),
                renders: Arc::default(),
            },
            auth: Arc::new(Authenticator::new(mode, defaults)),
            body_limit: args.body_limit,
            throttle,
            faults: Arc::new(Faults::new(faults)),
            permits: Arc::new(Semaphore::new(args.max_concurrent_requests)),
            max_concurrent: args.max_concurrent_requests,
            timeouts: Timeouts {
                header: seconds("--header-timeout", args.header_timeout)?,
                idle: seconds("--idle-timeout", args.idle_timeout)?,
            },
            started: Instant::now(),
            store_kind: if args.store.starts_with("sqlite:") {
                "sqlite"
            } else if args.store.starts_with("postgres") {
                "postgres"
            } else {
                "memory"
            },
            metrics: Arc::new(Metrics::default()),
        })
    }
}

/// The service as an axum router (no socket).
pub fn router(app: App) -> Router {
    Router::new()
        .fallback(|State(app): State<App>, req: Request| async move { handle(&app, req).await })
        .with_state(app)
}

/// Answers one request: every request, whatever it is, goes through here.
pub async fn handle(app: &App, req: Request) -> Response {
    let started = Instant::now();
    let request_id = ids::request_id();
    let method = req.method().clone();
    // For the log line after the request is consumed (a Uri clone shares its bytes).
    let uri = req.uri().clone();
    // Load shedding: beyond the concurrency cap, answer 503 at once instead of queueing.
    let permit = app.permits.try_acquire();
    // A bug must never take the connection down without an answer: a panic becomes a 500.
    let outcome = match permit {
        Ok(_permit) => AssertUnwindSafe(dispatch(app, req)).catch_unwind().await,
        Err(_) => {
            app.metrics.reject(Rejection::LoadShed);
            Ok((
                Err(ApiError::new(
                    ErrorKind::ServiceUnavailable,
                    "Too many concurrent requests; please retry",
                )),
                None,
                None,
            ))
        }
    };
    let mut error = None;
    let (mut response, op, scope) = match outcome {
        Ok((Ok(reply), op, scope)) => (reply_response(reply), op, scope),
        Ok((Err(e), op, scope)) => {
            error = Some(e.kind);
            (e.into_response(), op, scope)
        }
        Err(_) => {
            tracing::error!(request_id = %request_id, "request handler panicked");
            error = Some(ErrorKind::Internal);
            (
                ApiError::internal("Internal server error").into_response(),
                None,
                None,
            )
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids::random_id(16)) {
        headers.insert("x-amz-apigw-id", v);
    }
    let latency = started.elapsed();
    if !is_internal_path(uri.path()) {
        app.metrics.record(op, error, latency);
    }
    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %uri.path(),
        operation = op.map(|o| format!("{o:?}")).unwrap_or_default(),
        account = scope.as_ref().map(|s| s.account.as_str()).unwrap_or(""),
        region = scope.as_ref().map(|s| s.region.as_str()).unwrap_or(""),
        status = response.status().as_u16(),
        latency_us = latency.as_micros() as u64,
        "request"
    );
    response
}

/// gatehouse's own endpoints (not counted in the request metrics).
fn is_internal_path(path: &str) -> bool {
    path.starts_with("/_gatehouse/") || path.starts_with("/moto-api/")
}

fn reply_response(reply: Reply) -> Response {
    match reply.body {
        Some(body) => {
            let mut r = (reply.status, body).into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static(reply.content_type));
            r
        }
        None => (reply.status, Body::empty()).into_response(),
    }
}

type Dispatched = (
    ApiResult<Reply>,
    Option<ops::Operation>,
    Option<crate::model::Scope>,
);

/// gatehouse's own endpoints (not AWS operations): health, info, and state reset (also at
/// moto's `/moto-api/reset`, so test suites written for moto's server mode run unchanged).
async fn internal(app: &App, parts: &axum::http::request::Parts) -> Option<ApiResult<Reply>> {
    use axum::http::{Method, StatusCode};
    let (method, path, query) = (&parts.method, parts.uri.path(), parts.uri.query());
    let uptime = app.started.elapsed().as_secs();
    let version = env!("CARGO_PKG_VERSION");
    Some(match (method, path) {
        (&Method::GET, "/_gatehouse/health") => match app.service.store.ping().await {
            Ok(()) => Reply::json(
                StatusCode::OK,
                &serde_json::json!({"status": "ok", "store": "ok", "version": version, "uptimeSeconds": uptime}),
            ),
            Err(e) => Reply::json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({"status": "unavailable", "store": e.to_string(), "version": version, "uptimeSeconds": uptime}),
            ),
        },
        (&Method::GET, "/_gatehouse/info") => Reply::json(
            StatusCode::OK,
            &serde_json::json!({
                "version": version,
                "uptimeSeconds": uptime,
                "store": app.store_kind,
                "auth": match app.auth.mode { Mode::Open => "open", Mode::Strict(_) => "strict" },
                "throttle": app.throttle.is_some(),
                "defaultRegion": app.auth.defaults.region,
                "defaultAccount": app.auth.defaults.account,
            }),
        ),
        (&Method::GET, "/_gatehouse/metrics") => {
            let stored = match app.service.store.stats().await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot count stored records for metrics");
                    None
                }
            };
            let in_flight = app.max_concurrent - app.permits.available_permits();
            let text = app.metrics.render(stored, in_flight, app.started.elapsed());
            Ok(Reply {
                status: StatusCode::OK,
                body: Some(text.into()),
                content_type: "text/plain; version=0.0.4; charset=utf-8",
            })
        }
        (&Method::POST, "/_gatehouse/reset") | (&Method::POST, "/moto-api/reset") => {
            let signed = sigv4::Request {
                method: method.as_str(),
                path,
                query,
                headers: &parts.headers,
                body: b"",
            };
            if let Err(e) = app.auth.authorize_admin(&signed, time::now()) {
                return Some(Err(e));
            }
            let account = wire::parse_query(query)
                .ok()
                .and_then(|q| wire::query_param(&q, "account").map(str::to_string));
            match app.service.store.reset(account.as_deref()).await {
                Ok(()) => Reply::json(StatusCode::OK, &serde_json::json!({"status": "ok"})),
                Err(e) => Err(e.into_api_error()),
            }
        }
        _ => return None,
    })
}

async fn dispatch(app: &App, req: Request) -> Dispatched {
    let (parts, body) = req.into_parts();
    if !parts.uri.path().starts_with("/v2/") {
        if let Some(reply) = internal(app, &parts).await {
            return (reply, None, None);
        }
    }
    let too_large = || {
        ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "Request body is larger than the limit of {} bytes",
                app.body_limit
            ),
        )
    };
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > app.body_limit) {
        app.metrics.reject(Rejection::BodyLimit);
        return (Err(too_large()), None, None);
    }
    let body = match axum::body::to_bytes(body, app.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            app.metrics.reject(Rejection::BodyLimit);
            return (Err(too_large()), None, None);
        }
    };
    let signed = sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let scope = match app.auth.authenticate(&signed, time::now()) {
        Ok(s) => s,
        Err(e) => {
            app.metrics.reject(Rejection::Auth);
            return (Err(e), None, None);
        }
    };
    let query = match wire::parse_query(parts.uri.query()) {
        Ok(q) => q,
        Err(e) => return (Err(e), None, Some(scope)),
    };
    let (op, labels) = match ops::route(&parts.method, parts.uri.path()) {
        Ok(found) => found,
        Err(e) => {
            app.metrics.reject(Rejection::UnknownOperation);
            return (Err(e), None, Some(scope));
        }
    };
    if let Some(t) = &app.throttle {
        // Shared buckets when the store keeps them (PostgreSQL: all replicas), else local.
        let shared = app
            .service
            .store
            .take_tokens(&scope.account, &t.buckets(op))
            .await;
        let verdict = match shared {
            Ok(Some(true)) => Ok(()),
            Ok(Some(false)) => Err(ApiError::new(
                ErrorKind::TooManyRequests,
                limits::TOO_MANY_REQUESTS,
            )),
            Ok(None) => t.check(&scope.account, op, std::time::Instant::now()),
            Err(e) => Err(e.into_api_error()),
        };
        if let Err(e) = verdict {
            return (Err(e), Some(op), Some(scope));
        }
    }
    if !app.faults.is_empty() {
        match app.faults.pick(op) {
            Some((FaultAction::Fail(kind), spec)) => {
                return (Err(limits::injected(kind, &spec)), Some(op), Some(scope))
            }
            Some((FaultAction::Delay(d), _)) => tokio::time::sleep(d).await,
            None => {}
        }
    }
    let ctx = Ctx {
        scope: scope.clone(),
    };
    let input = Input {
        labels,
        query,
        body,
    };
    (
        ops::call(&app.service, &ctx, op, input).await,
        Some(op),
        Some(scope),
    )
}

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and drains
/// in-flight requests (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = app.timeouts;
    // hyper calls `handle` directly (no router or tower layers: every path goes to it).
    let app = Arc::new(app);
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&app, req.map(Body::new)).await) }
    });
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let io = TokioIo::new(IdleTimeout::new(stream, timeouts.idle));
                let conn = http.serve_connection(io, service.clone());
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing remaining connections");
    }
    Ok(())
}

/// A server running on a background task (tests, embedding).
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The store it serves from.
    pub store: SharedStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// `http://ADDR`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Opens the store named in `args` and, with `--seed`, loads the state file into it
/// (stored APIs with the same ids are replaced; others are kept).
pub async fn open_store(args: &ServeArgs) -> Result<SharedStore, String> {
    let store = store::open_async(&args.store).await?;
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
        let file = crate::statefile::parse(&text)
            .map_err(|e| format!("seed file {}: {e}", path.display()))?;
        let n = crate::statefile::import(store.as_ref(), file, true)
            .await
            .map_err(|e| format!("seed file {}: {e}", path.display()))?;
        tracing::info!(apis = n, file = %path.display(), "seeded");
    }
    Ok(store)
}

/// Opens (and seeds) the store named in `args`, binds `args.listen` and serves in the
/// background. The listener is bound when this returns, so requests can be sent at once.
pub async fn start(args: &ServeArgs) -> Result<RunningServer, String> {
    let store = open_store(args).await?;
    start_with_store(args, store).await
}

/// Like [`start`] with an already opened store.
pub async fn start_with_store(
    args: &ServeArgs,
    store: SharedStore,
) -> Result<RunningServer, String> {
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = App::new(args, store.clone())?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        addr,
        store,
        stop: Some(tx),
        task: Some(task),
    })
}
