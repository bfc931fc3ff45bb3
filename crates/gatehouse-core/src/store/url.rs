//! Store URLs, parsed once: `memory`, `sqlite:PATH`, or
//! `postgres://USER[:PASSWORD]@HOST:PORT/DB[?schema=NAME]`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use super::{memory, postgres, sqlite, SharedStore};

/// Where state is kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// In memory; gone when the process ends.
    Memory,
    /// A SQLite file (created, with its directories, if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by several replicas; the whole URL as given.
    Postgres(String),
}

/// What a URL that names no store is told.
const FORMS: &str = "use `memory`, `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`";

impl FromStr for StoreUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        if url == "memory" || url == "memory:" {
            return Ok(StoreUrl::Memory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::url::parse_url(url)?;
            return Ok(StoreUrl::Postgres(url.to_string()));
        }
        match url.strip_prefix("sqlite:") {
            Some(path) => {
                let path = path.strip_prefix("//").unwrap_or(path);
                if path.is_empty() {
                    return Err("sqlite store needs a path: sqlite:PATH".into());
                }
                Ok(StoreUrl::Sqlite(PathBuf::from(path)))
            }
            None => Err(format!(
                "unknown store URL {:?}: {FORMS}",
                postgres::url::redact(url)
            )),
        }
    }
}

impl fmt::Display for StoreUrl {
    /// The URL as given, with any password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory => f.write_str("memory"),
            StoreUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreUrl::Postgres(url) => f.write_str(&postgres::url::redact(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

impl<'de> serde::Deserialize<'de> for StoreUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for StoreUrl {
    /// The URL as given (passwords included: this is the setting itself, not a log line).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StoreUrl::Postgres(url) => s.serialize_str(url),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl StoreUrl {
    /// `memory`, `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Memory => "memory",
            StoreUrl::Sqlite(_) => "sqlite",
            StoreUrl::Postgres(_) => "postgres",
        }
    }

    /// Opens the store: creates a SQLite file if missing, applies migrations.
    pub async fn open(&self) -> Result<SharedStore, String> {
        Ok(match self {
            StoreUrl::Memory => Arc::new(memory::MemoryStore::new()),
            StoreUrl::Sqlite(path) => Arc::new(
                sqlite::SqliteStore::open(path)
                    .map_err(|e| format!("cannot open sqlite store at {}: {e}", path.display()))?,
            ),
            StoreUrl::Postgres(url) => Arc::new(postgres::PostgresStore::open(url).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form_once() {
        assert_eq!("memory".parse::<StoreUrl>().unwrap(), StoreUrl::Memory);
        assert_eq!(
            "sqlite://tmp/x.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("tmp/x.db".into())
        );
        assert_eq!(
            "sqlite:./.gatehouse/state.db"
                .parse::<StoreUrl>()
                .unwrap()
                .kind(),
            "sqlite"
        );
        assert!("sqlite:".parse::<StoreUrl>().is_err());
        let pg: StoreUrl = "postgres://u:secret@h:5432/db?schema=x".parse().unwrap();
        assert_eq!(pg.kind(), "postgres");
        assert_eq!(pg.to_string(), "postgres://u:***@h:5432/db?schema=x");
        let err = "mysql://u:pw@h/db".parse::<StoreUrl>().unwrap_err();
        assert!(
            err.contains("unknown store URL") && !err.contains("pw"),
            "{err}"
        );
        assert!("postgres://u@h/db?schema=bad-name"
            .parse::<StoreUrl>()
            .is_err());
    }
}
