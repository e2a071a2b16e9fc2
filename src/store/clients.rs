//! Client rows: create with a first secret, read, page through, change, delete.

use sqlx::{Any, any::AnyArguments, query::Query};

use super::{ClientRow, EventRow, RegistrationRow, SecretRow, Store, StoreError};
use crate::domain::ClientId;

/// The columns of a [`ClientRow`], as a literal so queries stay static strings.
macro_rules! client_columns {
    () => {
        "client_id, display_name, allowed_scopes, default_scopes, audiences, \
         token_ttl_seconds, disabled_at, created_at, updated_at, registration, \
         auth_methods, tls_subject_dn, tls_san_dns, tls_san_uri, jwks, bound_tokens, \
         rate_limit_per_second, rate_limit_burst, secret_max_age_seconds, jwks_uri, federated_identities, \
         claims, token_exchange_audiences, dpop_bound, txn_token_requester, grant_types"
    };
}

/// What a client's rows are read with: its columns, and whether it came by
/// dynamic registration.
macro_rules! client_selected {
    () => {
        concat!(
            client_columns!(),
            ", CAST(CASE WHEN EXISTS (SELECT 1 FROM client_registrations r \
             WHERE r.client_id = clients.client_id) THEN 1 ELSE 0 END AS BIGINT) AS registered_dynamically"
        )
    };
}

/// Client ids looked up in one query at most (well under SQLite's 32,766 parameters).
const REGISTERED_PER_QUERY: usize = 500;

impl Store {
    /// Inserts a client, its first secret if it has one and its dynamic
    /// registration if it came by one, with `events`, in one transaction. A
    /// taken client id is [`StoreError::Conflict`].
    pub async fn insert_client(
        &self,
        client: &ClientRow,
        secret: Option<&SecretRow>,
        registration: Option<&RegistrationRow>,
        events: &[EventRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = concat!(
            "INSERT INTO clients (",
            client_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"
        );
        bind_client(sqlx::query(sql), client).execute(&mut *tx).await?;
        if let Some(secret) = secret {
            Self::insert_secret(&mut tx, secret).await?;
        }
        if let Some(registration) = registration {
            Self::insert_registration(&mut tx, registration).await?;
        }
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn client(&self, client_id: &ClientId) -> Result<Option<ClientRow>, StoreError> {
        let sql = concat!("SELECT ", client_selected!(), " FROM clients WHERE client_id = $1");
        let query = sqlx::query_as(sql).bind(client_id.as_str());
        self.observed("read_client", query.fetch_optional(&self.pool)).await
    }

    /// Those of `client_ids` that name a registered client, active or not.
    pub async fn registered_client_ids(&self, client_ids: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut registered = Vec::new();
        for chunk in client_ids.chunks(REGISTERED_PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql =
                format!("SELECT client_id FROM clients WHERE client_id IN ({})", placeholders.join(", "));
            // Only numbered placeholders are formatted in; the ids are bound.
            let query =
                chunk.iter().fold(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), |query, id| query.bind(*id));
            registered.extend(self.observed("registered_client_ids", query.fetch_all(&self.pool)).await?);
        }
        Ok(registered)
    }

    /// How many clients are registered, and how many of them are active.
    pub async fn count_clients(&self) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN disabled_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) FROM clients",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Up to `limit` clients whose ids sort after `after`, in id order.
    pub async fn clients_after(
        &self,
        after: &str,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<ClientRow>, StoreError> {
        // `>= prefix` lets the primary key start at the first match; `substr`
        // (in both dialects) ends the range without LIKE's wildcards.
        let sql = concat!(
            "SELECT ",
            client_selected!(),
            " FROM clients WHERE client_id > $1 AND client_id >= $2 AND substr(client_id, 1, $3) = $2 \
             ORDER BY client_id LIMIT $4"
        );
        let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
        Ok(sqlx::query_as(sql)
            .bind(after)
            .bind(prefix)
            .bind(length)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Overwrites a client's mutable fields (and its registration access
    /// token's, when it has a new one: the row, and the id of the token it
    /// replaces), noting the change and writing `events`; false (and nothing
    /// written) when no such client exists, `Conflict` (and nothing written)
    /// when the token replaced was replaced already.
    pub async fn update_client(
        &self,
        client: &ClientRow,
        registration: Option<(&RegistrationRow, &str)>,
        events: &[EventRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Every column in `client_columns!` order, as `bind_client` binds
        // them; `created_at` is written back unchanged.
        let sql = "UPDATE clients SET display_name = $2, allowed_scopes = $3, default_scopes = $4, \
             audiences = $5, token_ttl_seconds = $6, disabled_at = $7, created_at = $8, updated_at = $9, \
             registration = $10, auth_methods = $11, tls_subject_dn = $12, tls_san_dns = $13, \
             tls_san_uri = $14, jwks = $15, bound_tokens = $16, rate_limit_per_second = $17, \
             rate_limit_burst = $18, secret_max_age_seconds = $19, jwks_uri = $20, \
             federated_identities = $21, claims = $22, token_exchange_audiences = $23, dpop_bound = $24, \
             txn_token_requester = $25, grant_types = $26 WHERE client_id = $1";
        let done = bind_client(sqlx::query(sql), client).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some((registration, replacing)) = registration {
            Self::replace_registration_token(&mut tx, registration, replacing).await?;
        }
        Self::note_client_change(&mut tx, &client.client_id, client.updated_at).await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a client and its secrets at `now`, noting the change and
    /// writing `events`; false (and nothing written) when no such client exists.
    pub async fn delete_client(
        &self,
        client_id: &str,
        now: i64,
        events: &[EventRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owned = [
            "DELETE FROM client_secrets WHERE client_id = $1",
            "DELETE FROM client_registrations WHERE client_id = $1",
        ];
        for sql in owned {
            sqlx::query(sql).bind(client_id).execute(&mut *tx).await?;
        }
        let done =
            sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::note_client_change(&mut tx, client_id, now).await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Binds every column of `client` as `$1`… in `client_columns!` order.
fn bind_client<'q>(
    query: Query<'q, Any, AnyArguments>,
    client: &'q ClientRow,
) -> Query<'q, Any, AnyArguments> {
    query
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
        .bind(&client.auth_methods)
        .bind(&client.tls_subject_dn)
        .bind(&client.tls_san_dns)
        .bind(&client.tls_san_uri)
        .bind(&client.jwks)
        .bind(client.bound_tokens)
        .bind(client.rate_limit_per_second)
        .bind(client.rate_limit_burst)
        .bind(client.secret_max_age_seconds)
        .bind(&client.jwks_uri)
        .bind(&client.federated_identities)
        .bind(&client.claims)
        .bind(&client.token_exchange_audiences)
        .bind(client.dpop_bound)
        .bind(client.txn_token_requester)
        .bind(&client.grant_types)
}
