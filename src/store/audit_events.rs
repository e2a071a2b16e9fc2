//! Audit events: written beside the change they record, paged newest first,
//! read back by time for the live stream, pruned past the retention.

use sqlx::{Any, Transaction};

use super::{EventRow, Store, StoreError};

/// The columns of an [`EventRow`], as a literal so queries stay static strings.
macro_rules! event_columns {
    () => {
        "event_id, occurred_at, event_type, actor, target, origin, details"
    };
}

/// Which events a reader wants; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events whose target is this client id.
    pub target: String,
    /// Event type names; none means every type.
    pub types: Vec<String>,
    /// Events at or after this time, in Unix milliseconds.
    pub since: i64,
}

/// The filter's conditions on `$1` (target), `$2` (comma-joined types) and
/// `$3` (since). A type matches its own comma-delimited place in the list;
/// `_` in a type name is a LIKE wildcard, harmless as names are checked first.
macro_rules! event_filter {
    () => {
        "($1 = '' OR target = $1) \
         AND ($2 = '' OR (',' || $2 || ',') LIKE ('%,' || event_type || ',%')) \
         AND occurred_at >= $3"
    };
}

impl Store {
    /// Writes `events` inside the transaction that makes the change they record.
    pub(super) async fn record_events(
        tx: &mut Transaction<'static, Any>,
        events: &[EventRow],
    ) -> Result<(), sqlx::Error> {
        for event in events {
            let sql = concat!(
                "INSERT INTO audit_events (",
                event_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            );
            sqlx::query(sql)
                .bind(&event.event_id)
                .bind(event.occurred_at)
                .bind(&event.event_type)
                .bind(&event.actor)
                .bind(&event.target)
                .bind(&event.origin)
                .bind(&event.details)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Writes events that record no other change (failed authentications,
    /// throttling), in one transaction.
    pub async fn insert_events(&self, events: &[EventRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Self::record_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` events matching `filter` that sort before `before`
    /// (time, then id), newest first.
    pub async fn events_before(
        &self,
        filter: &EventFilter,
        before: (i64, &str),
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM audit_events WHERE ",
            event_filter!(),
            " AND (occurred_at < $4 OR (occurred_at = $4 AND event_id < $5)) \
             ORDER BY occurred_at DESC, event_id DESC LIMIT $6"
        );
        Ok(sqlx::query_as(sql)
            .bind(&filter.target)
            .bind(filter.types.join(","))
            .bind(filter.since)
            .bind(before.0)
            .bind(before.1)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every event matching `filter`, oldest first: what the live stream
    /// reads, from a little before the newest event it has sent.
    pub async fn events_since(&self, filter: &EventFilter) -> Result<Vec<EventRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM audit_events WHERE ",
            event_filter!(),
            " ORDER BY occurred_at, event_id"
        );
        Ok(sqlx::query_as(sql)
            .bind(&filter.target)
            .bind(filter.types.join(","))
            .bind(filter.since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Forgets events older than `before` (Unix milliseconds).
    pub async fn purge_events(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM audit_events WHERE occurred_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
