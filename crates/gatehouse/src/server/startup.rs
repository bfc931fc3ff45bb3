//! What the server says on standard output once it accepts connections, after its ready
//! line: where its state is (so that a server started from another folder, on an empty
//! store, is noticed) and where deployed stages answer.

use std::net::SocketAddr;

use gatehouse_core::store::{SharedStore, StoreUrl};

/// The lines that follow the ready line, for a server bound to `addr` on `store` (opened
/// from `url`).
pub async fn lines(url: &StoreUrl, store: &SharedStore, addr: SocketAddr) -> Vec<String> {
    let held = match store.stats().await {
        Ok(s) if s.apis == 0 => "empty".to_string(),
        Ok(s) => format!("{}, {}", counted(s.apis, "API"), counted(s.stages, "stage")),
        Err(_) => "its contents could not be read".to_string(),
    };
    let port = addr.port();
    // (A server on every address is called on the loopback one.)
    let host = match addr.ip().is_unspecified() {
        true => "127.0.0.1".to_string(),
        false => addr.ip().to_string(),
    };
    let host = match addr {
        SocketAddr::V6(_) if host != "127.0.0.1" => format!("[{host}]"),
        _ => host,
    };
    vec![
        format!("gatehouse state: {}, {held}", located(url)),
        format!(
            "gatehouse invoke URLs: http://{host}:{port}/_aws/execute-api/{{apiId}}/{{stage}}/… \
             and http://{{apiId}}.execute-api.localhost:{port}/{{stage}}/…"
        ),
    ]
}

/// `1 API`, `2 APIs`.
fn counted(n: u64, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// The store URL with a SQLite file's absolute path.
fn located(url: &StoreUrl) -> String {
    match url {
        StoreUrl::Sqlite(path) => match std::fs::canonicalize(path).or(std::path::absolute(path)) {
            Ok(abs) => format!("sqlite:{}", abs.display()),
            Err(_) => url.to_string(),
        },
        StoreUrl::Memory => "memory (gone when the server stops)".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_sqlite_path_is_made_absolute() {
        let here = std::env::current_dir().unwrap();
        let url: StoreUrl = "sqlite:./.gatehouse/state.db".parse().unwrap();
        let shown = located(&url);
        assert!(
            shown.starts_with(&format!("sqlite:{}", here.display())),
            "{shown}"
        );
        assert!(shown.ends_with("state.db"), "{shown}");
        let pg: StoreUrl = "postgres://u:secret@127.0.0.1:5432/test".parse().unwrap();
        assert!(!located(&pg).contains("secret"));
    }
}
