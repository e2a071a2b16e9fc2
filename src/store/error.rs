//! The store's one error type: what went wrong, sorted by what a caller can do about it.

use sqlx::migrate::MigrateError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or did not answer in time; retrying may help.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A row with the same key exists already.
    #[error("a record with that key already exists")]
    Conflict,
    /// Anything else: a bug, a broken schema, a full disk.
    #[error("the database failed")]
    Failed(#[source] sqlx::Error),
    #[error("the schema migration failed")]
    Migration(#[from] MigrateError),
}

/// Database error codes that say "not now" rather than "never": PostgreSQL's
/// connection exceptions (08…), insufficient resources (53…) and shutdowns
/// (57P01–57P03); SQLite's BUSY (5) and LOCKED (6).
fn means_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "5" || code == "6"
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::Database(db) if db.code().is_some_and(|code| means_unavailable(&code)) => {
                StoreError::Unavailable(err)
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Failed(err),
        }
    }
}
