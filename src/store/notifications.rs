//! PostgreSQL's LISTEN/NOTIFY as the wake-up call for changes other
//! instances must see: a client change, a signing key added or retired, a
//! token revoked, a trusted issuer added or removed, committed by one
//! instance (or the CLI), an instance joining or leaving, reaches every
//! other at once, not at its next upkeep. SQLite has no such channel; there the upkeep alone serves.

use std::time::Duration;

use sqlx::{Any, Transaction, postgres::PgListener};
use tokio::sync::mpsc;

use super::Store;

/// The channel that carries the id of each changed client.
const CLIENT_CHANGES: &str = "tokend_client_changes";
/// The channel that says the signing keys changed.
const KEY_CHANGES: &str = "tokend_key_changes";
/// The channel that carries each revoked token's expiry and `jti`.
const REVOCATIONS: &str = "tokend_revocations";
/// The channel that says the trusted issuers changed.
const ISSUER_CHANGES: &str = "tokend_issuer_changes";
/// The channel that says an instance joined or left.
const FLEET_CHANGES: &str = "tokend_fleet_changes";
/// How long to wait before listening again after the connection failed; it
/// doubles with each failure in a row, up to [`MAX_RETRY`].
const RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// What changed elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The client with this id.
    Client(String),
    /// A signing key was added or retired.
    Keys,
    /// The token with this `jti`, which expires then, was revoked.
    Revoked { jti: String, expires_at: i64 },
    /// A trusted issuer was added or removed.
    Issuers,
    /// An instance joined the fleet or left it.
    Fleet,
}

impl Notice {
    fn channel_and_payload(&self) -> (&'static str, String) {
        match self {
            Notice::Client(client_id) => (CLIENT_CHANGES, client_id.clone()),
            Notice::Keys => (KEY_CHANGES, String::new()),
            // A jti holds no space: the expiry comes first, then the jti.
            Notice::Revoked { jti, expires_at } => (REVOCATIONS, format!("{expires_at} {jti}")),
            Notice::Issuers => (ISSUER_CHANGES, String::new()),
            Notice::Fleet => (FLEET_CHANGES, String::new()),
        }
    }

    fn received(channel: &str, payload: &str) -> Option<Self> {
        match channel {
            CLIENT_CHANGES => Some(Notice::Client(payload.to_owned())),
            KEY_CHANGES => Some(Notice::Keys),
            REVOCATIONS => {
                let (expires_at, jti) = payload.split_once(' ')?;
                Some(Notice::Revoked { jti: jti.to_owned(), expires_at: expires_at.parse().ok()? })
            }
            ISSUER_CHANGES => Some(Notice::Issuers),
            FLEET_CHANGES => Some(Notice::Fleet),
            _ => None,
        }
    }
}

impl Store {
    /// Announces, inside the transaction that makes it, a change;
    /// PostgreSQL delivers it when the transaction commits.
    pub(super) async fn announce(
        tx: &mut Transaction<'static, Any>,
        notice: Notice,
    ) -> Result<(), sqlx::Error> {
        if tx.backend_name() == "PostgreSQL" {
            let (channel, payload) = notice.channel_and_payload();
            sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The changes made anywhere, as they are committed; `None` on SQLite.
    /// Notifications sent while the connection is down are lost, so the
    /// upkeep's reading of the store stays the backstop.
    pub fn change_notices(&self) -> Option<mpsc::Receiver<Notice>> {
        let url = self.postgres_url.clone()?;
        let (notices, received) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut failures = 0;
            while !notices.is_closed() {
                if let Err(err) = listen(&url, &notices, &mut failures).await {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %err, "cannot listen for change notifications; retrying");
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
async fn listen(url: &str, notices: &mpsc::Sender<Notice>, failures: &mut u32) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([CLIENT_CHANGES, KEY_CHANGES, REVOCATIONS, ISSUER_CHANGES, FLEET_CHANGES]).await?;
    if std::mem::take(failures) > 0 {
        tracing::info!("listening for change notifications again");
    }
    loop {
        let notice = tokio::select! {
            notice = listener.try_recv() => notice?,
            _ = notices.closed() => return Ok(()),
        };
        let Some(notice) = notice else {
            return Ok(());
        };
        let Some(notice) = Notice::received(notice.channel(), notice.payload()) else {
            continue;
        };
        if notices.send(notice).await.is_err() {
            return Ok(());
        }
    }
}
