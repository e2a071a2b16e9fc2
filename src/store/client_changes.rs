//! The feed of client changes that instances read to keep their caches honest.

use sqlx::{Any, Transaction};

use super::{Notice, Store, StoreError};

impl Store {
    /// Notes, inside the transaction that makes it, a change to `client_id`.
    pub(super) async fn note_client_change(
        tx: &mut Transaction<'static, Any>,
        client_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("the operating system's random source failed");
        let change_id: String = id.iter().map(|byte| format!("{byte:02x}")).collect();
        sqlx::query("INSERT INTO client_changes (change_id, client_id, changed_at) VALUES ($1, $2, $3)")
            .bind(change_id)
            .bind(client_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(Self::announce(tx, Notice::Client(client_id.to_owned())).await?)
    }

    /// `(change_id, client_id)` of the changes made at or after `since`.
    pub async fn client_changes_since(&self, since: i64) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT change_id, client_id FROM client_changes WHERE changed_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Forgets changes made before `before`, which every instance has read.
    pub async fn purge_client_changes(&self, before: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM client_changes WHERE changed_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
