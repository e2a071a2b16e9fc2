//! The instances serving on one database: each joins at start, beats at every
//! upkeep and leaves when it stops, announcing joins and departures so the
//! others re-split what they share at once.

use sqlx::{Any, Transaction};

use super::{Notice, Store, StoreError};

impl Store {
    /// Records `instance_id` as serving from `now`, and tells the others.
    pub async fn join_fleet(&self, instance_id: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::beat(&mut tx, instance_id, now).await?;
        Self::announce(&mut tx, Notice::Fleet).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Notes that `instance_id` is alive at `now`, forgets instances not
    /// heard from since `forget_before`, and returns the ids of those heard
    /// from since `alive_since`, in order.
    pub async fn fleet_heartbeat(
        &self,
        instance_id: &str,
        now: i64,
        alive_since: i64,
        forget_before: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::beat(&mut tx, instance_id, now).await?;
        sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.fleet(alive_since).await
    }

    /// The instances heard from since `alive_since`, in order.
    pub async fn fleet(&self, alive_since: i64) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT instance_id FROM instances WHERE heartbeat_at >= $1 ORDER BY instance_id";
        Ok(sqlx::query_scalar(sql).bind(alive_since).fetch_all(&self.pool).await?)
    }

    /// Notes that `instance_id` is alive at `now`, adding it if it is not there.
    async fn beat(
        tx: &mut Transaction<'static, Any>,
        instance_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO instances (instance_id, heartbeat_at) VALUES ($1, $2) \
             ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(instance_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Removes `instance_id`, which is stopping, and tells the others.
    pub async fn leave_fleet(&self, instance_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM instances WHERE instance_id = $1")
            .bind(instance_id)
            .execute(&mut *tx)
            .await?;
        Self::announce(&mut tx, Notice::Fleet).await?;
        tx.commit().await?;
        Ok(())
    }
}
