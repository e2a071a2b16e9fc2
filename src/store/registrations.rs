//! Dynamic registrations (RFC 7591, RFC 7592): the registration access token
//! of each client registered that way, written with its client.

use sqlx::{Any, Transaction};

use super::{RegistrationRow, Store, StoreError};

impl Store {
    pub(super) async fn insert_registration(
        tx: &mut Transaction<'static, Any>,
        registration: &RegistrationRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_registrations \
             (client_id, token_id, token_hash, registered_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&registration.client_id)
        .bind(&registration.token_id)
        .bind(&registration.token_hash)
        .bind(&registration.registered_by)
        .bind(registration.created_at)
        .bind(registration.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Puts a new registration access token in place of the client's old
    /// one, the token `replacing` names; `Conflict` when another request
    /// replaced that token first (each token replaces itself once).
    pub(super) async fn replace_registration_token(
        tx: &mut Transaction<'static, Any>,
        registration: &RegistrationRow,
        replacing: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE client_registrations SET token_id = $2, token_hash = $3, updated_at = $4 \
             WHERE client_id = $1 AND token_id = $5",
        )
        .bind(&registration.client_id)
        .bind(&registration.token_id)
        .bind(&registration.token_hash)
        .bind(registration.updated_at)
        .bind(replacing)
        .execute(&mut **tx)
        .await?;
        match done.rows_affected() {
            0 => Err(StoreError::Conflict),
            _ => Ok(()),
        }
    }

    /// The dynamic registration of `client_id`; `None` for a client an
    /// administrator registered, or none at all.
    pub async fn registration(&self, client_id: &str) -> Result<Option<RegistrationRow>, StoreError> {
        let sql = "SELECT client_id, token_id, token_hash, registered_by, created_at, updated_at \
                   FROM client_registrations WHERE client_id = $1";
        self.observed("read_registration", sqlx::query_as(sql).bind(client_id).fetch_optional(&self.pool))
            .await
    }

    /// Up to `limit` clients that came by dynamic registration before
    /// `created_before`, have a secret, and never used one: a flood's leftovers.
    pub async fn unused_registrations(
        &self,
        created_before: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT c.client_id FROM clients c JOIN client_registrations r ON r.client_id = c.client_id \
                   WHERE c.created_at < $1 \
                   AND EXISTS (SELECT 1 FROM client_secrets s WHERE s.client_id = c.client_id) \
                   AND NOT EXISTS (SELECT 1 FROM client_secrets s \
                                   WHERE s.client_id = c.client_id AND s.last_used_at IS NOT NULL) \
                   ORDER BY c.created_at LIMIT $2";
        let query = sqlx::query_scalar(sql).bind(created_before).bind(limit);
        self.observed("unused_registrations", query.fetch_all(&self.pool)).await
    }
}
