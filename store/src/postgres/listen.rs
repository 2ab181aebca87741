//! LISTEN on a connection of its own, so every node hears the changes the others make
//! (NOTIFY, sent in the transaction of each change) within a round trip. A lost connection
//! is made again after a second; the listener then hears [`Notice::Listening`] again, and
//! drops what it cached, since changes made meanwhile were not heard.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, GenericClient, NoTls};

use super::errors::db_error;
use crate::{Change, Notice, StoreResult};

/// The channel every node listens on.
const CHANNEL: &str = "cloudexec";
/// Notices kept for a listener that lags (past it, it hears `Listening` instead).
pub(super) const BACKLOG: usize = 4096;

/// Sends `change` to every node listening, on commit of `c`'s transaction (at once outside one).
pub(super) async fn notify(c: &impl GenericClient, change: &Change) -> StoreResult<()> {
    c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &change.encode()]).await.map_err(db_error)?;
    Ok(())
}

/// Listens until the store is dropped (the task is aborted then).
pub(super) async fn listen(config: tokio_postgres::Config, notices: broadcast::Sender<Notice>) {
    loop {
        if let Err(error) = listen_once(&config, &notices).await {
            tracing::warn!(%error, "listening for other nodes' changes failed; listening again in a second");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(
    config: &tokio_postgres::Config,
    notices: &broadcast::Sender<Notice>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let forward = notices.clone();
    let messages = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notification(n) = message?
                && let Some(change) = Change::decode(n.payload())
            {
                let _ = forward.send(Notice::Changed(change));
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    let _ = notices.send(Notice::Listening);
    let ended = messages.await;
    drop(client);
    match ended {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
