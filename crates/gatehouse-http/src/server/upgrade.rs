//! Upgrades (HTTP → WebSocket and the like), on the plain path: a handler that accepts an
//! upgrade request answers `101 Switching Protocols` with an [`OnUpgrade`] in the answer's
//! extensions; once the answer's head is written, the connection — its socket and any bytes
//! the client sent after the request — goes to that [`OnUpgrade`] and is served by it from
//! then on, in a task of its own (the HTTP connection's task, and its buffers, end there). A `101` without one closes the connection; any
//! other answer to an upgrade request leaves the connection an HTTP/1.1 one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// A connection handed over after a `101` answer.
pub struct Upgraded {
    /// The socket.
    pub io: TcpStream,
    /// What the client sent after the upgrade request, already read.
    pub read: Bytes,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// What serves an upgraded connection until it ends.
pub type Serve = Box<dyn FnOnce(Upgraded) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Who takes the connection when a `101` answer has gone out (an answer's extension; taken
/// once).
#[derive(Clone)]
pub struct OnUpgrade(Arc<Mutex<Option<Serve>>>);

impl OnUpgrade {
    /// The connection goes to `serve`.
    pub fn new<F, Fut>(serve: F) -> OnUpgrade
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let serve: Serve = Box::new(move |upgraded| Box::pin(serve(upgraded)));
        OnUpgrade(Arc::new(Mutex::new(Some(serve))))
    }

    /// The one who takes the connection (once).
    pub fn take(&self) -> Option<Serve> {
        self.0.lock().ok()?.take()
    }
}

/// Whether a request's headers ask to switch protocols (an `Upgrade` header and a
/// `Connection` that names `upgrade`).
pub fn is_requested(headers: &HeaderMap) -> bool {
    headers.contains_key(http::header::UPGRADE)
        && headers
            .get_all(http::header::CONNECTION)
            .iter()
            .any(|v| crate::framing::has_token(v.as_bytes(), b"upgrade"))
}

/// Who takes the connection after `resp`, if it is a `101` (one that names nobody:
/// an [`OnUpgrade`] already taken, so the connection closes).
pub fn taker<B>(resp: &Response<B>) -> Option<OnUpgrade> {
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return None;
    }
    let named = resp.extensions().get::<OnUpgrade>().cloned();
    Some(named.unwrap_or_else(|| OnUpgrade(Arc::new(Mutex::new(None)))))
}
