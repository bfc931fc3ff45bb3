//! The server side: [`serve`] accepts connections on a listener until a shutdown signal and
//! then drains them; each connection is read by [`conn`] (plain HTTP/1.1 and upgrade
//! requests parsed by [`request`], answers written by [`response`]; anything else handed to
//! hyper) and every request goes to the one [`Handler`].

pub mod conn;
pub mod io;
pub mod request;
pub mod response;
pub mod upgrade;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::body::Body;
pub use io::Peer;

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What answers the requests of a server.
pub trait Handler: Send + Sync + 'static {
    /// The answer to `req`, which came from `peer`.
    fn handle(
        &self,
        req: Request<Body>,
        peer: &Peer,
    ) -> impl Future<Output = Response<Body>> + Send;
}

/// A connection's time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Time allowed to send a request's headers.
    pub header: Duration,
    /// Time an idle keep-alive connection stays open.
    pub idle: Duration,
}

/// Serves `handler` on `listener` until `shutdown` resolves, then stops accepting and drains
/// in-flight requests (for at most [`SHUTDOWN_GRACE`]).
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = http1::Builder::new();
    // half_close: a client may shut its side once its request is sent (`nc -N`, HTTP/1.0
    // scripts) and still reads the answer, as from the plain path.
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .half_close(true)
        .keep_alive(true);
    // Every connection holds a receiver: on shutdown each finishes the request it is
    // serving and closes; the sender learns when the last one has.
    let (stop, stopped) = watch::channel(false);
    let shared = conn::Shared {
        handler,
        http,
        timeouts,
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
                tokio::spawn(conn::serve(stream, peer, shared.clone()));
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
