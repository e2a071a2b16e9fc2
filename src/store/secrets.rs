//! Secret hashes: look one up, list a client's live ones, rotate, note use.

use sqlx::{Any, Transaction};

use super::{EventRow, SecretRow, Store, StoreError};

/// The columns of a [`SecretRow`], as a literal so queries stay static strings.
macro_rules! secret_columns {
    () => {
        "secret_id, client_id, secret_hash, created_at, expires_at, last_used_at"
    };
}

impl Store {
    pub(super) async fn insert_secret(
        tx: &mut Transaction<'static, Any>,
        secret: &SecretRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_secrets (secret_id, client_id, secret_hash, created_at, expires_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&secret.secret_id)
        .bind(&secret.client_id)
        .bind(&secret.secret_hash)
        .bind(secret.created_at)
        .bind(secret.expires_at)
        .bind(secret.last_used_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The soonest time at which some client loses its last live secret:
    /// over clients whose live secrets all expire, the least of their latest
    /// expiries. `None` when no client's secrets all expire.
    pub async fn soonest_credential_loss(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let (soonest,): (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(MIN(last_expiry) AS BIGINT) FROM (\
               SELECT MAX(expires_at) AS last_expiry FROM client_secrets \
               WHERE expires_at IS NULL OR expires_at > $1 GROUP BY client_id \
               HAVING COUNT(*) = COUNT(expires_at)) AS expiring",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(soonest)
    }

    pub async fn secret(&self, secret_id: &str) -> Result<Option<SecretRow>, StoreError> {
        let sql = concat!("SELECT ", secret_columns!(), " FROM client_secrets WHERE secret_id = $1");
        self.observed("read_secret", sqlx::query_as(sql).bind(secret_id).fetch_optional(&self.pool)).await
    }

    /// The client's secrets that have not expired at `now`, newest first.
    pub async fn live_secrets(&self, client_id: &str, now: i64) -> Result<Vec<SecretRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            secret_columns!(),
            " FROM client_secrets WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
             ORDER BY created_at DESC, secret_id"
        );
        Ok(sqlx::query_as(sql).bind(client_id).bind(now).fetch_all(&self.pool).await?)
    }

    /// Adds `secret` and makes every older secret of its client expire no later
    /// than `old_expire_at`, with `events`, in one transaction. Secrets
    /// already expired are dropped. False when the client does not exist.
    pub async fn rotate_secret(
        &self,
        secret: &SecretRow,
        old_expire_at: i64,
        updated_at: i64,
        events: &[EventRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let touched = sqlx::query("UPDATE clients SET updated_at = $2 WHERE client_id = $1")
            .bind(&secret.client_id)
            .bind(updated_at)
            .execute(&mut *tx)
            .await?;
        if touched.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE client_secrets SET expires_at = $2 \
             WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&secret.client_id)
        .bind(old_expire_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM client_secrets WHERE client_id = $1 AND expires_at <= $2")
            .bind(&secret.client_id)
            .bind(secret.created_at)
            .execute(&mut *tx)
            .await?;
        Self::insert_secret(&mut tx, secret).await?;
        Self::note_client_change(&mut tx, &secret.client_id, updated_at).await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records that a secret was used at `now`.
    pub async fn touch_secret(&self, secret_id: &str, now: i64) -> Result<(), StoreError> {
        let touched = sqlx::query("UPDATE client_secrets SET last_used_at = $2 WHERE secret_id = $1")
            .bind(secret_id)
            .bind(now)
            .execute(&self.pool);
        self.observed("touch_secret", touched).await.map(drop)
    }
}

impl Store {
    /// Live secrets of every client whose id lies between `first` and `last`
    /// inclusive: the secrets of one page of clients in one query.
    pub async fn live_secrets_between(
        &self,
        first: &str,
        last: &str,
        now: i64,
    ) -> Result<Vec<SecretRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            secret_columns!(),
            " FROM client_secrets \
             WHERE client_id >= $1 AND client_id <= $2 AND (expires_at IS NULL OR expires_at > $3) \
             ORDER BY created_at DESC, secret_id"
        );
        Ok(sqlx::query_as(sql).bind(first).bind(last).bind(now).fetch_all(&self.pool).await?)
    }
}
