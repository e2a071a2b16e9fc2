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
    /// The database named at start could not be opened: what was tried,
    /// why it failed, and what would likely fix it.
    #[error("cannot open the database {url}: {cause}; {hint}")]
    CannotOpen { url: String, cause: String, hint: &'static str },
}

/// Database error codes that say "not now" rather than "never": PostgreSQL's
/// connection exceptions (08…), insufficient resources such as a full disk
/// (53…) and shutdowns (57P01–57P03); SQLite's BUSY (5), LOCKED (6), IOERR
/// (10), FULL (13) and CANTOPEN (14), in any of their extended forms.
fn means_unavailable(code: &str) -> bool {
    const SQLITE_NOT_NOW: [u32; 5] = [5, 6, 10, 13, 14];
    // SQLite's codes are numbers under 5 digits; PostgreSQL's SQLSTATEs are 5 characters.
    let sqlite = (code.len() < 5).then(|| code.parse::<u32>().ok()).flatten();
    match sqlite {
        Some(extended) => SQLITE_NOT_NOW.contains(&(extended & 0xff)),
        None => code.starts_with("08") || code.starts_with("53") || code.starts_with("57P"),
    }
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

#[cfg(test)]
mod tests {
    use super::means_unavailable;

    #[test]
    fn codes_that_mean_not_now() {
        // SQLite: BUSY, BUSY_SNAPSHOT, LOCKED, IOERR_WRITE, FULL, CANTOPEN.
        for code in ["5", "517", "6", "778", "13", "14"] {
            assert!(means_unavailable(code), "{code}");
        }
        // PostgreSQL: connection failure, disk full, admin shutdown.
        for code in ["08006", "53100", "57P01"] {
            assert!(means_unavailable(code), "{code}");
        }
        // SQLite CONSTRAINT and CORRUPT, PostgreSQL syntax error and unique violation.
        for code in ["19", "2067", "11", "42601", "23505"] {
            assert!(!means_unavailable(code), "{code}");
        }
    }
}
