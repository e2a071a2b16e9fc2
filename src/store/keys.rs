//! Signing keys: kept so tokens stay verifiable across restarts, and the
//! schedule they rotate on.

use sqlx::{Any, Transaction};

use super::{EventRow, KeyRow, KeyScheduleRow, Notice, Store, StoreError};

/// The PostgreSQL advisory lock every change to the set of keys holds for its
/// transaction: instances that find a rotation due at the same moment make
/// one key between them, and a re-sealing sees every key there is.
const KEYS_LOCK: i64 = 0x746f_6b65_6e64_6b72; // "tokendkr"

impl Store {
    /// Stores a key with `events`, in one transaction.
    pub async fn insert_key(&self, key: &KeyRow, events: &[EventRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::lock_keys(&mut tx).await?;
        Self::insert_key_unless_newer(&mut tx, key, None).await?;
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Keys).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores the first key of its algorithm, unless another instance made
    /// one first (under the same lock as rotation): whether this one did.
    pub async fn insert_first_key(&self, key: &KeyRow) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::lock_keys(&mut tx).await?;
        // No key is newer than the end of time: the algorithm alone decides.
        if !Self::insert_key_unless(&mut tx, key, "algorithm = $2 OR created_at > $7", i64::MAX).await? {
            return Ok(false);
        }
        Self::announce(&mut tx, Notice::Keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a key with `events` unless some key was created after `since`:
    /// a scheduled rotation, which many instances may find due at once and
    /// only one makes. Whether this one did.
    pub async fn insert_key_if_none_since(
        &self,
        key: &KeyRow,
        since: i64,
        events: &[EventRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Read committed lets two conditional inserts both see no new key;
        // the lock makes the second wait and then see the first's. On SQLite
        // the one statement holds the write lock while it checks.
        Self::lock_keys(&mut tx).await?;
        if !Self::insert_key_unless_newer(&mut tx, key, Some(since)).await? {
            return Ok(false);
        }
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Holds [`KEYS_LOCK`] until the transaction ends (PostgreSQL only).
    async fn lock_keys(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        if tx.backend_name() == "PostgreSQL" {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(KEYS_LOCK).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Replaces the sealed material of every key with `resealed` (kid,
    /// sealed key) and records `events`, in one transaction, provided the
    /// keys are still exactly those: false, and nothing written, when a key
    /// was added or retired since they were read.
    pub async fn reseal_keys(
        &self,
        resealed: &[(String, String)],
        events: &[EventRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::lock_keys(&mut tx).await?;
        let mut stored: Vec<(String,)> =
            sqlx::query_as("SELECT kid FROM signing_keys").fetch_all(&mut *tx).await?;
        let mut expected: Vec<&str> = resealed.iter().map(|(kid, _)| kid.as_str()).collect();
        stored.sort();
        expected.sort_unstable();
        if !stored.iter().map(|(kid,)| kid.as_str()).eq(expected) {
            return Ok(false);
        }
        for (kid, sealed) in resealed {
            sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
                .bind(sealed)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
        }
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_key_unless_newer(
        tx: &mut Transaction<'static, Any>,
        key: &KeyRow,
        since: Option<i64>,
    ) -> Result<bool, StoreError> {
        Self::insert_key_unless(tx, key, "created_at > $7", since.unwrap_or(i64::MAX)).await
    }

    /// Inserts `key` unless a stored key meets `clash` (SQL over the row's
    /// columns, `$2` the new key's algorithm, `$7` `since`, which it must
    /// use): whether it did.
    async fn insert_key_unless(
        tx: &mut Transaction<'static, Any>,
        key: &KeyRow,
        clash: &'static str,
        since: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, active_from, public_jwk) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE {clash})"
        );
        // `clash` is one of this file's own literals, never a caller's text.
        let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&key.kid)
            .bind(&key.algorithm)
            .bind(&key.private_key)
            .bind(key.created_at)
            .bind(key.active_from)
            .bind(&key.public_jwk)
            .bind(since)
            .execute(&mut **tx)
            .await?;
        Ok(inserted.rows_affected() == 1)
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

    /// Deletes the key `kid` with `events`, in one transaction; whether it
    /// was there. Deleting one that is gone already (another instance
    /// retired it first) is no error and records nothing.
    pub async fn delete_key(&self, kid: &str, events: &[EventRow]) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::lock_keys(&mut tx).await?;
        let deleted =
            sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every key, newest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, algorithm, private_key, created_at, active_from, public_jwk FROM signing_keys \
             ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the schedule a server starts with, in place of the last one.
    pub async fn record_key_schedule(&self, schedule: &KeyScheduleRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO key_schedule \
             (id, algorithm, rotation_period, activation_delay, retire_after, recorded_at) \
             VALUES (1, $1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET algorithm = excluded.algorithm, \
             rotation_period = excluded.rotation_period, activation_delay = excluded.activation_delay, \
             retire_after = excluded.retire_after, recorded_at = excluded.recorded_at",
        )
        .bind(&schedule.algorithm)
        .bind(schedule.rotation_period)
        .bind(schedule.activation_delay)
        .bind(schedule.retire_after)
        .bind(schedule.recorded_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The schedule the servers last started with; `None` before any did.
    pub async fn key_schedule(&self) -> Result<Option<KeyScheduleRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT algorithm, rotation_period, activation_delay, retire_after, recorded_at \
             FROM key_schedule WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }
}
