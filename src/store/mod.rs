//! Persistence: clients, secret hashes, signing keys and revocations, on SQLite
//! or PostgreSQL through one sqlx code path. It stores what it is given and
//! knows nothing of OAuth rules.

mod client_changes;
mod clients;
mod error;
mod keys;
mod records;
mod revocations;
mod secrets;

use std::time::Duration;

use sqlx::{Any, Executor, Pool, any::AnyPoolOptions};

pub use error::StoreError;
pub use records::{ClientRow, KeyRow, SecretRow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A handle on the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Any>,
}

impl Store {
    /// Connects to `sqlite://…` (the file is created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = with_create_mode(url);
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
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
            .await?;
        Ok(Self { pool })
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Answers whether the database responds, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
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
