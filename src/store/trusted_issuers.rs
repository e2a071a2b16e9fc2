//! Trusted issuer rows: add, read all, remove.

use super::{Store, StoreError, TrustedIssuerRow};

impl Store {
    /// Adds an issuer; one already there is [`StoreError::Conflict`].
    pub async fn insert_trusted_issuer(&self, row: &TrustedIssuerRow) -> Result<(), StoreError> {
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
        .execute(&self.pool)
        .await?;
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

    /// Removes an issuer; false when there was none.
    pub async fn delete_trusted_issuer(&self, issuer: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM trusted_issuers WHERE issuer = $1")
            .bind(issuer)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
