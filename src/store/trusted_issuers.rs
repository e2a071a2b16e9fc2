//! Trusted issuer rows: add, read all, remove; each change announced to every instance.

use super::{EventRow, Notice, Store, StoreError, TrustedIssuerRow};

impl Store {
    /// Adds an issuer with `events`; one already there is [`StoreError::Conflict`].
    pub async fn insert_trusted_issuer(
        &self,
        row: &TrustedIssuerRow,
        events: &[EventRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO trusted_issuers (issuer, jwks, jwks_uri, discovery, audiences, \
             max_assertion_lifetime_seconds, single_use, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.issuer)
        .bind(&row.jwks)
        .bind(&row.jwks_uri)
        .bind(row.discovery)
        .bind(&row.audiences)
        .bind(row.max_assertion_lifetime_seconds)
        .bind(row.single_use)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Issuers).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every trusted issuer, in issuer order.
    pub async fn trusted_issuers(&self) -> Result<Vec<TrustedIssuerRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT issuer, jwks, jwks_uri, discovery, audiences, max_assertion_lifetime_seconds, single_use, \
             created_at FROM trusted_issuers ORDER BY issuer",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Removes an issuer with `events`; false (and nothing written) when there was none.
    pub async fn delete_trusted_issuer(&self, issuer: &str, events: &[EventRow]) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM trusted_issuers WHERE issuer = $1")
            .bind(issuer)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::record_events(&mut tx, events).await?;
        Self::announce(&mut tx, Notice::Issuers).await?;
        tx.commit().await?;
        Ok(true)
    }
}
