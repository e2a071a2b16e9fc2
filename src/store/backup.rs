//! A consistent copy of a SQLite database, taken while servers use it.

use std::path::Path;

use super::{Store, StoreError};

impl Store {
    /// Writes a consistent copy of the database to `file`, which must not
    /// exist yet; the copy is readable by its owner only, as the database
    /// is. `None` when the database is not SQLite (PostgreSQL has `pg_dump`).
    pub async fn back_up_to(&self, file: &Path) -> Option<Result<(), StoreError>> {
        if self.postgres_url.is_some() {
            return None;
        }
        Some(self.vacuum_into(file).await)
    }

    async fn vacuum_into(&self, file: &Path) -> Result<(), StoreError> {
        use std::os::unix::fs::OpenOptionsExt;
        // SQLite writes into an empty file it finds, keeping its mode; one
        // made here cannot be someone else's or readable by others.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .map_err(|err| StoreError::Failed(sqlx::Error::Io(err)))?;
        let path = file.to_str().ok_or_else(|| {
            StoreError::Failed(sqlx::Error::Protocol(format!("{} is not a UTF-8 path", file.display())))
        })?;
        let copied = sqlx::query("VACUUM INTO ?").bind(path).execute(&self.pool).await;
        if copied.is_err() {
            let _ = std::fs::remove_file(file);
        }
        copied.map(drop).map_err(StoreError::from)
    }
}
