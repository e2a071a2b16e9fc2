//! PostgreSQL's LISTEN/NOTIFY as the change feed's wake-up call: a change
//! committed by one instance (or the CLI) reaches every other at once, not at
//! its next upkeep. SQLite has no such channel; there the upkeep alone serves.

use std::time::Duration;

use sqlx::{Any, Transaction, postgres::PgListener};
use tokio::sync::mpsc;

use super::{Store, StoreError};

/// The channel that carries the id of each changed client.
const CLIENT_CHANGES: &str = "tokend_client_changes";
/// How long to wait before listening again after the connection failed; it
/// doubles with each failure in a row, up to [`MAX_RETRY`].
const RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

impl Store {
    /// Announces, inside the transaction that makes it, a change to
    /// `client_id`; PostgreSQL delivers it when the transaction commits.
    pub(super) async fn announce_client_change(
        tx: &mut Transaction<'static, Any>,
        client_id: &str,
    ) -> Result<(), StoreError> {
        if tx.backend_name() == "PostgreSQL" {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CLIENT_CHANGES)
                .bind(client_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The ids of clients changed anywhere, as they are committed; `None` on
    /// SQLite. Notifications sent while the connection is down are lost, so
    /// the upkeep's reading of the feed stays the backstop.
    pub fn client_change_notices(&self) -> Option<mpsc::Receiver<String>> {
        let url = self.postgres_url.clone()?;
        let (notices, received) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut failures = 0;
            while !notices.is_closed() {
                if let Err(err) = listen(&url, &notices, &mut failures).await {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %err, "cannot listen for client change notifications; retrying");
                    }
                }
                tokio::time::sleep(RETRY.saturating_mul(1 << failures.min(5)).min(MAX_RETRY)).await;
            }
        });
        Some(received)
    }
}

/// Forwards notifications until the connection fails or nobody receives
/// them; `failures` counts failed attempts in a row and is reset once listening.
async fn listen(url: &str, notices: &mpsc::Sender<String>, failures: &mut u32) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CLIENT_CHANGES).await?;
    if std::mem::take(failures) > 0 {
        tracing::info!("listening for client change notifications again");
    }
    loop {
        let notice = tokio::select! {
            notice = listener.try_recv() => notice?,
            _ = notices.closed() => return Ok(()),
        };
        let Some(notice) = notice else {
            return Ok(());
        };
        if notices.send(notice.payload().to_owned()).await.is_err() {
            return Ok(());
        }
    }
}
