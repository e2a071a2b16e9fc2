//! Client rows: create with a first secret, read, page through, change, delete.

use super::{ClientRow, SecretRow, Store, StoreError};

/// The columns of a [`ClientRow`], as a literal so queries stay static strings.
macro_rules! client_columns {
    () => {
        "client_id, display_name, allowed_scopes, default_scopes, audiences, \
         token_ttl_seconds, disabled_at, created_at, updated_at, registration"
    };
}

impl Store {
    /// Inserts a client and its first secret in one transaction.
    /// A taken client id is [`StoreError::Conflict`].
    pub async fn insert_client(&self, client: &ClientRow, secret: &SecretRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO clients (client_id, display_name, allowed_scopes, default_scopes, audiences, \
             token_ttl_seconds, disabled_at, created_at, updated_at, registration) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&client.client_id)
        .bind(&client.display_name)
        .bind(&client.allowed_scopes)
        .bind(&client.default_scopes)
        .bind(&client.audiences)
        .bind(client.token_ttl_seconds)
        .bind(client.disabled_at)
        .bind(client.created_at)
        .bind(client.updated_at)
        .bind(&client.registration)
        .execute(&mut *tx)
        .await?;
        Self::insert_secret(&mut tx, secret).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
        let sql = concat!("SELECT ", client_columns!(), " FROM clients WHERE client_id = $1");
        self.observed(sqlx::query_as(sql).bind(client_id).fetch_optional(&self.pool).await)
    }

    /// Up to `limit` clients whose ids sort after `after`, in id order.
    pub async fn clients_after(&self, after: &str, limit: i64) -> Result<Vec<ClientRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            client_columns!(),
            " FROM clients WHERE client_id > $1 ORDER BY client_id LIMIT $2"
        );
        Ok(sqlx::query_as(sql).bind(after).bind(limit).fetch_all(&self.pool).await?)
    }

    /// Overwrites a client's mutable fields, noting the change; false when no
    /// such client exists.
    pub async fn update_client(&self, client: &ClientRow) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE clients SET display_name = $2, allowed_scopes = $3, default_scopes = $4, \
             audiences = $5, token_ttl_seconds = $6, disabled_at = $7, updated_at = $8, \
             registration = $9 WHERE client_id = $1",
        )
        .bind(&client.client_id)
        .bind(&client.display_name)
        .bind(&client.allowed_scopes)
        .bind(&client.default_scopes)
        .bind(&client.audiences)
        .bind(client.token_ttl_seconds)
        .bind(client.disabled_at)
        .bind(client.updated_at)
        .bind(&client.registration)
        .execute(&mut *tx)
        .await?;
        Self::note_client_change(&mut tx, &client.client_id, client.updated_at).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a client and its secrets at `now`, noting the change; false when
    /// no such client exists.
    pub async fn delete_client(&self, client_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM client_secrets WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        let done =
            sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
        Self::note_client_change(&mut tx, client_id, now).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
