//! Whether the database answers, as the request path and the health check
//! last found it: a failed or successful query says so at once, so health
//! follows the store without waiting for the next periodic ping. While it is
//! known not to answer, queries on the request path give up quickly, so
//! callers hear UNAVAILABLE at once, and the first that succeeds again marks
//! it back.

use std::{future::Future, sync::PoisonError, time::Duration};

use tokio::sync::watch;

use super::{Store, StoreError};

/// How long a request-path query may take while the database is known down.
const QUERY_TIMEOUT_WHILE_DOWN: Duration = Duration::from_millis(250);

impl Store {
    /// Follows whether the database answered its last query.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Runs `query` (the store's `operation`), noting whether the database
    /// answered and counting its failures. A query the database refused
    /// still shows it answering.
    pub(super) async fn observed<T>(
        &self,
        operation: &'static str,
        query: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        let result = if *self.ready.borrow() {
            query.await
        } else {
            tokio::time::timeout(QUERY_TIMEOUT_WHILE_DOWN, query)
                .await
                .unwrap_or(Err(sqlx::Error::PoolTimedOut))
        };
        let result = result.map_err(StoreError::from);
        let answered = !matches!(result, Err(StoreError::Unavailable(_)));
        self.ready.send_if_modified(|ready| std::mem::replace(ready, answered) != answered);
        if result.is_err() {
            *self.errors.lock().unwrap_or_else(PoisonError::into_inner).entry(operation).or_default() += 1;
        }
        result
    }

    /// How many queries of each operation on the request path failed since start.
    pub fn error_counts(&self) -> Vec<(&'static str, u64)> {
        let errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        errors.iter().map(|(operation, count)| (*operation, *count)).collect()
    }
}
