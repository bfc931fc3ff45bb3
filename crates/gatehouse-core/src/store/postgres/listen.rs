//! Hearing the other replicas' changes: every write commits with a `NOTIFY` on the
//! database's change channel (delivered to every listener when the transaction commits),
//! and each replica keeps one connection that `LISTEN`s on it and counts what it hears in
//! the store's [`Changes`]. While that connection is down (and until it is up), the count
//! reports a change on every reading, so that nothing read is reused unchecked; it is made
//! again after a second.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{AsyncMessage, NoTls};

use crate::store::Changes;

/// How long to wait before connecting again.
const RETRY: Duration = Duration::from_secs(1);

/// The channel a schema's changes are announced on, quoted (a schema of its own per test
/// database: channels are database-wide).
pub fn channel(schema: Option<&str>) -> String {
    format!("\"gatehouse_changes.{}\"", schema.unwrap_or("public"))
}

/// Listens on `channel` through connections made with `config` for as long as the task
/// runs, counting each change heard in `changes`.
pub async fn run(config: tokio_postgres::Config, channel: String, changes: Arc<Changes>) {
    loop {
        if let Err(e) = listen(&config, &channel, &changes).await {
            tracing::warn!(error = %e, "not hearing other replicas' changes; retrying");
        }
        changes.hearing(false);
        tokio::time::sleep(RETRY).await;
    }
}

/// One listening connection, until it fails.
async fn listen(
    config: &tokio_postgres::Config,
    channel: &str,
    changes: &Changes,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    // The connection is driven by reading its messages: that also carries the LISTEN.
    let messages = async {
        while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
            match message? {
                AsyncMessage::Notification(_) => changes.advance(),
                _ => continue,
            }
        }
        Ok(())
    };
    let subscribe = async {
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        changes.hearing(true);
        std::future::pending::<Result<(), tokio_postgres::Error>>().await
    };
    tokio::select! {
        ended = messages => ended,
        failed = subscribe => failed,
    }
}
