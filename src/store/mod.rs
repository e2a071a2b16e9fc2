//! Persistence: clients, secret hashes, signing keys, revocations, status
//! lists and the audit trail, on SQLite or PostgreSQL through one sqlx code path. It stores
//! what it is given and knows nothing of OAuth rules.

mod assertion_ids;
mod audit_events;
mod backup;
mod client_changes;
mod clients;
mod error;
mod failures;
mod instances;
mod keys;
mod notifications;
mod opening;
mod readiness;
mod records;
mod registrations;
mod revocations;
mod secrets;
mod status_lists;
mod trusted_issuers;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::{Any, Executor, Pool, any::AnyPoolOptions};
use tokio::sync::watch;

pub use assertion_ids::AssertionId;
pub use audit_events::EventFilter;
pub use error::StoreError;
pub use failures::FailureCount;
pub use notifications::Notice;
pub use records::{
    ClientRow, EventRow, KeyRow, KeyScheduleRow, RegistrationRow, SecretRow, TrustedIssuerRow,
};
pub use status_lists::{BlockOwner, ListShape, ReservedBlock};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Any>,
    /// Where to listen for change notifications; `None` on SQLite.
    postgres_url: Option<String>,
    /// Whether the database answered the last query made on the request path.
    ready: Arc<watch::Sender<bool>>,
    /// Failed request-path queries, by operation, since start.
    errors: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl Store {
    /// Connects to `sqlite://…` (the file is created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let file = sqlite_file(url);
        opening::check_url(url, file.as_deref())?;
        if let Some(file) = file {
            owner_only(&file).map_err(|err| opening::diagnose(url, &sqlx::Error::Io(err)))?;
        }
        let url = with_create_mode(url);
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            // A connection not had within a second means the database is down
            // or overloaded: the caller hears UNAVAILABLE rather than waits.
            .acquire_timeout(Duration::from_secs(1))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets readers run beside the writer; synchronous=FULL
                        // (SQLite's default, made explicit) makes a commit durable
                        // before the call that made it returns.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|err| opening::diagnose(&url, &err))?;
        let postgres_url = url.starts_with("postgres").then(|| url.clone());
        Ok(Self { pool, postgres_url, ready: Arc::new(watch::Sender::new(true)), errors: Arc::default() })
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Answers whether the database responds, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.observed("ping", sqlx::query("SELECT 1").execute(&self.pool)).await.map(drop)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file of a `sqlite://FILE` URL; `None` for other databases and memory.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let file = url.strip_prefix("sqlite://")?.split('?').next().unwrap_or("");
    (!file.is_empty() && !file.contains(":memory:")).then(|| PathBuf::from(file))
}

/// Creates the database file readable by its owner only, or makes an existing
/// one (and its WAL and shared-memory files) so: it holds the secret hashes
/// and sealed keys. SQLite gives the files it adds the database file's mode.
fn owner_only(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file);
    match created {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let path = PathBuf::from(format!("{}{suffix}", file.display()));
                if path.exists() {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                }
            }
            Ok(())
        }
        Err(err) => Err(err),
    }
}

/// SQLite opens read-write without creating by default; an embedded
/// database should simply appear on first start.
fn with_create_mode(url: &str) -> String {
    let is_sqlite = url.starts_with("sqlite:");
    if !is_sqlite || url.contains("mode=") || url.contains(":memory:") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}mode=rwc")
}

#[cfg(test)]
mod tests {
    use super::with_create_mode;

    #[test]
    fn a_plain_sqlite_url_gains_create_mode() {
        assert_eq!(with_create_mode("sqlite://tokend.db"), "sqlite://tokend.db?mode=rwc");
    }

    #[test]
    fn explicit_modes_and_postgres_urls_are_left_alone() {
        assert_eq!(with_create_mode("sqlite://x.db?mode=ro"), "sqlite://x.db?mode=ro");
        assert_eq!(with_create_mode("postgres://h/db"), "postgres://h/db");
    }
}
