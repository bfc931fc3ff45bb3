//! The server: [`serve`] runs gatehouse's HTTP/1.1 server (`gatehouse-http`) with the
//! [`App`] as its handler; [`start`] opens the store and serves on a background task
//! (tests, embedding). Every request goes through the [`front`] door, which hands it to one
//! front: [`management`] (with the [`admin`] endpoints), [`invoke`], [`connections`].

pub mod admin;
pub mod app;
pub mod asked;
pub mod connections;
pub mod console;
pub mod diff;
pub mod explain;
pub mod front;
pub mod inspect;
pub mod invoke;
pub mod management;
pub mod metrics;
pub mod open_connections;
pub mod recent;
pub mod replicas;
pub mod response;
pub mod stacks;
pub mod startup;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use gatehouse_core::store::SharedStore;
use gatehouse_http::body::Body;
use gatehouse_http::server::{Handler, Peer};
use http::{Request, Response};
use tokio::net::TcpListener;

pub use app::{App, Listener};
pub use front::handle;
pub use gatehouse_http::server::SHUTDOWN_GRACE;

use crate::settings::{Checked, Settings};

impl Handler for App {
    fn handle(
        &self,
        req: Request<Body>,
        peer: &Peer,
    ) -> impl Future<Output = Response<Body>> + Send {
        front::handle(self, req, peer)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and drains
/// in-flight requests (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = app.timeouts;
    gatehouse_http::server::serve(listener, Arc::new(app), timeouts, shutdown).await
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

/// Binds `settings.listen`, joins the other replicas of `store` (PostgreSQL) and builds the
/// application state: what serving needs, ready before the first request.
pub async fn prepare(
    settings: &Settings,
    checked: Checked,
    store: SharedStore,
) -> Result<(TcpListener, App), String> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let replicas = replicas::Replicas::join(&store, settings.replica_url.as_deref(), addr).await?;
    Ok((listener, App::new(settings, checked, store, replicas)))
}

async fn serve_in_background(
    settings: &Settings,
    checked: Checked,
    store: SharedStore,
) -> Result<RunningServer, String> {
    let (listener, app) = prepare(settings, checked, store.clone()).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let template = stacks::serve_template(settings, &app, addr).await?;
    let watcher = template.and_then(|t| t.watch).map(tokio::spawn);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let replicas = app.replicas.clone();
    let task = tokio::spawn(async move {
        let served = serve(listener, app, async move {
            let _ = rx.await;
        })
        .await;
        if let Some(w) = watcher {
            w.abort();
        }
        if let Some(r) = replicas {
            r.leave().await;
        }
        served
    });
    Ok(RunningServer {
        addr,
        store,
        stop: Some(tx),
        task: Some(task),
    })
}
