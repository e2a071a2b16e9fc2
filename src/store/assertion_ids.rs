//! The `jti` of each client assertion accepted and not yet expired, shared
//! by every instance on one database so an assertion is accepted once.

use super::{Store, StoreError};

impl Store {
    /// Records that `issuer` used `jti` until `expires_at`; false when it
    /// was recorded already (a replay).
    pub async fn record_assertion_id(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = self
            .observed(
                sqlx::query(
                    "INSERT INTO assertion_ids (issuer, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (issuer, jti) DO NOTHING",
                )
                .bind(issuer)
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets the ids of assertions expired before `now`: they cannot be
    /// replayed, as their `exp` refuses them.
    pub async fn forget_assertion_ids(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM assertion_ids WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        Ok(())
    }
}
