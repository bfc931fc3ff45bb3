//! PostgreSQL URLs: our own `schema=NAME` parameter, redaction for messages and logs, and the
//! test helpers that make a fresh schema per test.

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Splits our own `schema=NAME` parameter off a URL.
pub fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_string());
                false
            }
            None => true,
        })
        .collect();
    let base = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (base, schema)
}

/// Parses a store URL without connecting: the connection settings and the schema, if named.
pub fn parse_url(url: &str) -> Result<(tokio_postgres::Config, Option<String>), String> {
    let (base, schema) = split_schema(url);
    if let Some(s) = &schema {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("schema name {s:?} must be letters, digits and _"));
        }
    }
    let config = base
        .parse()
        .map_err(|e| format!("invalid postgres URL {}: {e}", redact(url)))?;
    Ok((config, schema))
}

/// Test support: the PostgreSQL URL from `GATEHOUSE_TEST_POSTGRES_URL` with a fresh schema,
/// or `None` (and a line saying the test is skipped) when it is not set.
#[cfg(any(test, feature = "testing"))]
pub fn test_url(what: &str) -> Option<(String, String)> {
    let Ok(base) = std::env::var("GATEHOUSE_TEST_POSTGRES_URL") else {
        eprintln!("skipped {what}: GATEHOUSE_TEST_POSTGRES_URL is not set");
        return None;
    };
    let schema = format!("gh_test_{}", crate::model::ids::random_id(12));
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((format!("{base}{sep}schema={schema}"), schema))
}

/// Test support: says that `tests` PostgreSQL tests of `suite` skip themselves, when
/// `GATEHOUSE_TEST_POSTGRES_URL` is not set — on the process's own standard error, which
/// the test harness does not capture (it captures `print!` and `eprint!` only), so that the
/// line shows in `cargo test`'s normal output.
#[cfg(any(test, feature = "testing"))]
pub fn report_skipped(tests: usize, suite: &str) {
    use std::io::Write;
    if std::env::var_os("GATEHOUSE_TEST_POSTGRES_URL").is_some() {
        return;
    }
    let line = format!(
        "\nnote: {tests} PostgreSQL tests of {suite} were skipped: set \
         GATEHOUSE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them\n"
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Test support: drops a schema made by [`test_url`].
#[cfg(any(test, feature = "testing"))]
pub async fn drop_test_schema(base_url: &str, schema: &str) {
    let (base, _) = split_schema(base_url);
    if let Ok(config) = base.parse::<tokio_postgres::Config>() {
        if let Ok((client, conn)) = config.connect(tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_and_splits_schema() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            split_schema("postgres://u@h/db?schema=x&sslmode=disable"),
            (
                "postgres://u@h/db?sslmode=disable".to_string(),
                Some("x".to_string())
            )
        );
    }
}
