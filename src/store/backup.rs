//! A consistent copy of a SQLite database, taken while servers use it.

use std::path::Path;

use super::{Store, StoreError};

impl Store {
    /// Whether the database is SQLite, which [`Store::back_up_into`] copies
    /// (PostgreSQL has `pg_dump`).
    pub fn is_sqlite(&self) -> bool {
        self.postgres_url.is_none()
    }

    /// Writes a consistent copy of a SQLite database into `file`, which must
    /// be empty: SQLite fills it and keeps its mode.
    pub async fn back_up_into(&self, file: &Path) -> Result<(), StoreError> {
        let path = file.to_str().ok_or_else(|| {
            StoreError::Failed(sqlx::Error::Protocol(format!("{} is not a UTF-8 path", file.display())))
        })?;
        sqlx::query("VACUUM INTO ?").bind(path).execute(&self.pool).await?;
        Ok(())
    }
}
