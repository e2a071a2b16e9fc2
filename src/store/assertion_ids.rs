//! The `jti` of each client assertion accepted and not yet expired, shared
//! by every instance on one database so an assertion is accepted once.

use super::{Store, StoreError};

/// One assertion's id, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionId {
    /// The assertion's `iss`: the client that signed it.
    pub issuer: String,
    pub jti: String,
    pub expires_at: i64,
}

impl Store {
    /// Records `ids` in one transaction (one commit for many requests); for
    /// each, false when it was recorded already (a replay), also by an
    /// earlier entry of `ids`.
    pub async fn record_assertion_ids(&self, ids: &[AssertionId]) -> Result<Vec<bool>, StoreError> {
        let record = async {
            let mut tx = self.pool.begin().await?;
            let mut fresh = Vec::with_capacity(ids.len());
            for id in ids {
                let done = sqlx::query(
                    "INSERT INTO assertion_ids (issuer, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (issuer, jti) DO NOTHING",
                )
                .bind(&id.issuer)
                .bind(&id.jti)
                .bind(id.expires_at)
                .execute(&mut *tx)
                .await?;
                fresh.push(done.rows_affected() == 1);
            }
            tx.commit().await?;
            Ok(fresh)
        };
        self.observed("record_assertion_ids", record).await
    }

    /// Forgets the ids of assertions expired before `now`: they cannot be
    /// replayed, as their `exp` refuses them.
    pub async fn forget_assertion_ids(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM assertion_ids WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        Ok(())
    }
}
