//! The connections this process holds, by id: what `@connections` reads (who, since when,
//! last active), and the channel that reaches each connection's task (frames to send, a
//! close to make). The registry also makes the connection ids, each carrying this replica's
//! tag, and tells from an id which replica holds the connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Frames queued for one connection beyond which a post is refused (`LimitExceeded`).
pub const QUEUE: usize = 256;

/// What a connection's task is asked to do.
#[derive(Debug)]
pub enum Command {
    /// Send this data as one message.
    Send(Bytes),
    /// Close the connection (`DELETE @connections`: 1000, `Connection Closed Normally`).
    Close,
}

/// What is known of a connection from its handshake on.
#[derive(Debug, Clone)]
pub struct Info {
    /// The connection's id.
    pub id: String,
    /// The account that owns its API.
    pub account: String,
    /// The API's region.
    pub region: String,
    /// Its API.
    pub api_id: String,
    /// Its stage.
    pub stage: String,
    /// The host the client connected to.
    pub domain_name: String,
    /// When it was made, ms since the epoch.
    pub connected_at: i64,
    /// The client's address.
    pub source_ip: String,
    /// The client's `User-Agent`, if it sent one.
    pub user_agent: Option<String>,
    /// What the `$connect` authorizer passed on, for every later event.
    pub authorizer: Option<serde_json::Value>,
}

/// An open connection.
pub struct Live {
    /// What is known of it.
    pub info: Info,
    last_active: AtomicI64,
    tx: mpsc::Sender<Command>,
}

impl Live {
    /// When data last went either way, ms since the epoch.
    pub fn last_active(&self) -> i64 {
        self.last_active.load(Ordering::Relaxed)
    }

    /// A sender of commands to the connection's task.
    pub fn sender(&self) -> mpsc::Sender<Command> {
        self.tx.clone()
    }

    /// Notes activity at `now_ms`.
    pub fn touch(&self, now_ms: i64) {
        self.last_active.fetch_max(now_ms, Ordering::Relaxed);
    }
}

/// Why a command did not reach a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreached {
    /// No such open connection.
    Gone,
    /// Its queue is full.
    Busy,
}

/// Which replica holds a connection, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// This one (or nobody: the id names no connection of any replica).
    Here,
    /// The replica with this tag.
    Replica(u16),
}

/// The open connections, by id.
#[derive(Default)]
pub struct Registry {
    open: Mutex<HashMap<String, Arc<Live>>>,
    /// The tag of this replica, carried by its connection ids (0 when it is alone).
    tag: u16,
}

impl Registry {
    /// A registry whose connection ids carry `tag`.
    pub fn new(tag: u16) -> Registry {
        Registry {
            open: Mutex::default(),
            tag,
        }
    }

    /// A new connection id.
    pub fn new_id(&self) -> String {
        super::ids::connection(self.tag)
    }

    /// Which replica holds connection `id`.
    pub fn holder(&self, id: &str) -> Holder {
        match super::ids::tag_of(id) {
            Some(tag) if tag != self.tag => Holder::Replica(tag),
            _ => Holder::Here,
        }
    }

    /// Registers `info` as open; the receiver gets the commands for it.
    pub fn open(&self, info: Info) -> (Arc<Live>, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let live = Arc::new(Live {
            last_active: AtomicI64::new(info.connected_at),
            info,
            tx,
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(live.info.id.clone(), live.clone());
        }
        (live, rx)
    }

    /// Forgets connection `id` (it has closed).
    pub fn close(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    /// The open connection `id`.
    pub fn get(&self, id: &str) -> Option<Arc<Live>> {
        self.open.lock().ok()?.get(id).cloned()
    }

    /// How many connections are open.
    pub fn count(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }

    /// The ids of every open connection.
    pub fn ids(&self) -> Vec<String> {
        self.open
            .lock()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The open connections of `stage` of API `api_id` in `region`, oldest first.
    pub fn on_stage(&self, region: &str, api_id: &str, stage: &str) -> Vec<Arc<Live>> {
        let Ok(open) = self.open.lock() else {
            return Vec::new();
        };
        let mut found: Vec<Arc<Live>> = open
            .values()
            .filter(|l| l.info.region == region && l.info.api_id == api_id && l.info.stage == stage)
            .cloned()
            .collect();
        found.sort_by_key(|l| l.info.connected_at);
        found
    }

    /// Asks connection `id` to do `command`.
    pub fn tell(&self, id: &str, command: Command) -> Result<(), Unreached> {
        let live = self.get(id).ok_or(Unreached::Gone)?;
        live.tx.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Unreached::Busy,
            mpsc::error::TrySendError::Closed(_) => Unreached::Gone,
        })
    }
}
