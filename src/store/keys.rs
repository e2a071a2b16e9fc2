//! Signing keys: kept so tokens stay verifiable across restarts.

use super::{EventRow, KeyRow, Store, StoreError};

impl Store {
    /// Stores a key with `events`, in one transaction.
    pub async fn insert_key(&self, key: &KeyRow, events: &[EventRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, active_from) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(key.created_at)
        .bind(key.active_from)
        .execute(&mut *tx)
        .await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores `private_key` as the key material of `kid` (a key sealed after the fact).
    pub async fn replace_private_key(&self, kid: &str, private_key: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
            .bind(private_key)
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the key `kid` with `events`, in one transaction; deleting
    /// one that is gone already is no error.
    pub async fn delete_key(&self, kid: &str, events: &[EventRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut *tx).await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every key, newest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, algorithm, private_key, created_at, active_from FROM signing_keys \
             ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
