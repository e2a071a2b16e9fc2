//! Revoked token ids, kept until the tokens would have expired anyway, and
//! announced to every instance as they are recorded.

use super::{EventRow, Notice, Store, StoreError};

impl Store {
    /// Records a revoked token id at `now`, with its status list and index
    /// when it has them and `events` (an administrator's revocation is
    /// audited), in one transaction; revoking twice is harmless.
    pub async fn revoke(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: i64,
        status: Option<(i64, i64)>,
        now: i64,
        events: &[EventRow],
    ) -> Result<(), StoreError> {
        let revoked = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at, status_list, status_index) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (jti) DO NOTHING",
            )
            .bind(jti)
            .bind(client_id)
            .bind(expires_at)
            .bind(now)
            .bind(status.map(|(list, _)| list))
            .bind(status.map(|(_, index)| index))
            .execute(&mut *tx)
            .await?;
            Self::record_events(&mut tx, events).await?;
            let notice = Notice::Revoked { jti: jti.to_owned(), expires_at };
            Self::announce(&mut tx, notice).await?;
            tx.commit().await
        };
        self.observed("revoke", revoked).await
    }

    /// `(jti, expires_at)` of revocations recorded at or after `since` whose
    /// tokens are still unexpired at `now`.
    pub async fn revocations_since(&self, since: i64, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at >= $1 AND expires_at > $2",
        )
        .bind(since)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Forgets revocations of tokens that have expired by `now`.
    pub async fn purge_revocations(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
