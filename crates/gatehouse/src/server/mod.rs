//! The HTTP server: [`serve`] accepts connections on a listener until a shutdown signal and
//! then drains in-flight requests; [`start`] opens the store and serves on a background
//! task (tests, embedding). Each request goes through the [`pipeline`].

pub mod admin;
pub mod app;
pub mod h1;
pub mod h1_response;
pub mod metrics;
pub mod net;
pub mod pipeline;
pub mod response;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::store::SharedStore;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use app::App;
pub use pipeline::handle;

use crate::settings::{Checked, Settings};

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
    let mut http = http1::Builder::new();
    // half_close: a client may shut its side once its request is sent (`nc -N`, HTTP/1.0
    // scripts) and still reads the answer, as from gatehouse's own HTTP/1.1 path.
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .half_close(true)
        .keep_alive(true);
    // Every connection holds a receiver: on shutdown each finishes the request it is
    // serving and closes; the sender learns when the last one has.
    let (stop, stopped) = watch::channel(false);
    let shared = h1::Shared {
        app: Arc::new(app),
        http,
        shutdown: stopped,
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(h1::serve(stream, peer, shared.clone()));
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    drop(shared);
    let _ = stop.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, stop.closed())
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

/// Opens the store the settings name and, with `--seed`, loads the state file into it
/// (stored roots with the same ids are replaced; others are kept).
pub async fn open_store(settings: &Settings) -> Result<SharedStore, String> {
    let store = settings.store.open().await?;
    if let Some(path) = &settings.seed {
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

/// Opens (and seeds) the store the settings name, binds `settings.listen` and serves in the
/// background. The listener is bound when this returns, so requests can be sent at once.
pub async fn start(settings: &Settings) -> Result<RunningServer, String> {
    let checked = settings.check()?;
    let store = open_store(settings).await?;
    serve_in_background(settings, checked, store).await
}

/// Like [`start`] with an already opened store.
pub async fn start_with_store(
    settings: &Settings,
    store: SharedStore,
) -> Result<RunningServer, String> {
    let checked = settings.check()?;
    serve_in_background(settings, checked, store).await
}

async fn serve_in_background(
    settings: &Settings,
    checked: Checked,
    store: SharedStore,
) -> Result<RunningServer, String> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = App::new(settings, checked, store.clone());
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
