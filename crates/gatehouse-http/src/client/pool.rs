//! The outbound client's idle connections, kept per origin (`http://host:port`): the most
//! recently used one is taken first, one idle for [`CHECK_AFTER`] is checked before it is
//! used again, and a reaper closes those idle for [`IDLE_TIMEOUT`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use http::uri::{Authority, Scheme};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

use super::conn::{Conn, TakesBack};
use crate::scratch;

/// How long a connection may stay idle before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// An idle connection older than this is checked before it is used again.
pub const CHECK_AFTER: Duration = Duration::from_secs(1);

/// Most idle connections kept for one origin.
const MAX_IDLE_PER_ORIGIN: usize = 1024;

/// The connector and the idle connections, by origin (`http://host:port`).
pub(crate) struct Pool {
    /// Opens new connections.
    pub(crate) connector: HttpsConnector<HttpConnector>,
    idle: Mutex<HashMap<Arc<str>, Vec<Idle>, foldhash::fast::RandomState>>,
    reaping: AtomicBool,
}

/// A connection waiting for its next request.
struct Idle {
    conn: Conn,
    since: Instant,
}

impl Pool {
    /// A pool with no connection yet, opening new ones with `connector`.
    pub(crate) fn new(connector: HttpsConnector<HttpConnector>) -> Pool {
        Pool {
            connector,
            idle: Mutex::default(),
            reaping: AtomicBool::new(false),
        }
    }

    /// How many connections to `origin` are idle (`None`: it has no list).
    #[cfg(test)]
    pub(crate) fn idle_at(&self, origin: &str) -> Option<usize> {
        self.idle.lock().ok()?.get(origin).map(Vec::len)
    }

    /// The most recently used open connection to `scheme://authority`, if one is idle, and
    /// the origin's key (a string: hashed and compared faster than `Authority`, whose
    /// comparisons ignore case byte by byte; made once per origin).
    pub(crate) fn checkout(
        &self,
        scheme: &Scheme,
        authority: &Authority,
        now: Instant,
    ) -> (Option<Conn>, Arc<str>) {
        scratch::joined(&[scheme.as_str(), "://", authority.as_str()], |key| {
            let Ok(mut idle) = self.idle.lock() else {
                return (None, Arc::from(key));
            };
            let (origin, list) = match idle.get_key_value(key) {
                Some((origin, _)) => {
                    let origin = origin.clone();
                    let list = idle.get_mut(&origin);
                    (origin, list)
                }
                None => {
                    let origin: Arc<str> = Arc::from(key);
                    idle.insert(origin.clone(), Vec::new());
                    (origin, None)
                }
            };
            let Some(list) = list else {
                return (None, origin);
            };
            while let Some(Idle { conn, since }) = list.pop() {
                let age = now.saturating_duration_since(since);
                if age < CHECK_AFTER || (age < IDLE_TIMEOUT && !conn.is_closed()) {
                    return (Some(conn), origin);
                }
            }
            (None, origin)
        })
    }
}

impl TakesBack for Pool {
    /// `conn` idle again.
    fn take_back(self: Arc<Self>, origin: &Arc<str>, conn: Conn, since: Instant) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let list = match idle.get_mut(origin) {
            Some(list) => list,
            None => idle.entry(origin.clone()).or_default(),
        };
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push(Idle { conn, since });
        }
        drop(idle);
        // The reaper starts with the first connection given back (on a runtime: a body
        // dropped outside one leaves it for the next).
        if !self.reaping.load(Ordering::Relaxed) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                if !self.reaping.swap(true, Ordering::Relaxed) {
                    runtime.spawn(reap(Arc::downgrade(&self)));
                }
            }
        }
    }
}

/// Closes connections idle for longer than [`IDLE_TIMEOUT`], every so often, while the pool
/// is in use.
async fn reap(pool: Weak<Pool>) {
    loop {
        tokio::time::sleep(IDLE_TIMEOUT / 2).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let Ok(mut idle) = pool.idle.lock() else {
            return;
        };
        for list in idle.values_mut() {
            list.retain(|i| i.since.elapsed() < IDLE_TIMEOUT);
        }
        idle.retain(|_, list| !list.is_empty());
    }
}
