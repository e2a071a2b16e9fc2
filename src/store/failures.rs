//! Counts of failed client authentications, shared by the instances on one
//! database: added in batches, summed over a window, forgotten when old.

use super::{Store, StoreError};

/// Failures counted for one subject in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    /// `client` or `address`.
    pub subject_kind: String,
    pub subject: String,
    pub minute: i64,
    pub failures: i64,
}

impl Store {
    /// Adds `counts` to this instance's rows, in one transaction.
    pub async fn add_failures(&self, instance: &str, counts: &[FailureCount]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for count in counts {
            sqlx::query(
                "INSERT INTO authentication_failures (subject_kind, subject, minute, instance, failures) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (subject_kind, subject, minute, instance) \
                 DO UPDATE SET failures = authentication_failures.failures + excluded.failures",
            )
            .bind(&count.subject_kind)
            .bind(&count.subject)
            .bind(count.minute)
            .bind(instance)
            .bind(count.failures)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every subject's failures, over all instances, in the minutes from
    /// `since` on, where they reach `at_least`.
    pub async fn failures_since(&self, since: i64, at_least: i64) -> Result<Vec<FailureCount>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT subject_kind, subject, CAST(SUM(failures) AS BIGINT) FROM authentication_failures \
             WHERE minute >= $1 GROUP BY subject_kind, subject HAVING SUM(failures) >= $2",
        )
        .bind(since)
        .bind(at_least)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(subject_kind, subject, failures)| FailureCount {
                subject_kind,
                subject,
                minute: since,
                failures,
            })
            .collect())
    }

    /// Forgets the counts of minutes before `before`.
    pub async fn purge_failures(&self, before: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM authentication_failures WHERE minute < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
