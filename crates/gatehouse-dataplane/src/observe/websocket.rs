//! WebSocket metrics, in the Prometheus text format: connections open now, connections
//! made and refused, disconnections by close code, messages in and out.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The WebSocket counters.
#[derive(Default)]
pub struct WebSocketMetrics {
    connects: AtomicU64,
    refused: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    /// Close code → disconnections.
    disconnects: Mutex<BTreeMap<u16, u64>>,
}

impl WebSocketMetrics {
    /// A handshake accepted.
    pub fn connected(&self) {
        self.connects.fetch_add(1, Ordering::Relaxed);
    }

    /// A handshake refused.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A message received.
    pub fn message_in(&self) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    /// A message sent.
    pub fn message_out(&self) {
        self.messages_out.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed with `code`.
    pub fn disconnected(&self, code: u16) {
        if let Ok(mut d) = self.disconnects.lock() {
            *d.entry(code).or_default() += 1;
        }
    }

    /// The metrics as Prometheus text; `open` connections are open now.
    pub fn render(&self, open: usize) -> String {
        let mut out = String::new();
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP gatehouse_websocket_connections WebSocket connections open now.\n\
             # TYPE gatehouse_websocket_connections gauge\n\
             gatehouse_websocket_connections {open}\n\
             # HELP gatehouse_websocket_connects_total WebSocket handshakes, by outcome.\n\
             # TYPE gatehouse_websocket_connects_total counter\n\
             gatehouse_websocket_connects_total{{outcome=\"accepted\"}} {}\n\
             gatehouse_websocket_connects_total{{outcome=\"refused\"}} {}\n\
             # HELP gatehouse_websocket_messages_total WebSocket messages, by direction.\n\
             # TYPE gatehouse_websocket_messages_total counter\n\
             gatehouse_websocket_messages_total{{direction=\"in\"}} {}\n\
             gatehouse_websocket_messages_total{{direction=\"out\"}} {}\n\
             # HELP gatehouse_websocket_disconnects_total WebSocket connections closed, by close code.\n\
             # TYPE gatehouse_websocket_disconnects_total counter",
            n(&self.connects),
            n(&self.refused),
            n(&self.messages_in),
            n(&self.messages_out)
        );
        if let Ok(d) = self.disconnects.lock() {
            for (code, count) in d.iter() {
                let _ = writeln!(
                    out,
                    "gatehouse_websocket_disconnects_total{{code=\"{code}\"}} {count}"
                );
            }
        }
        out
    }
}
