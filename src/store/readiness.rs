//! Whether the database answers, as the request path and the health check
//! last found it: a failed or successful query says so at once, so health
//! follows the store without waiting for the next periodic ping. While it is
//! known not to answer, queries on the request path give up quickly, so
//! callers hear UNAVAILABLE at once, and the first that succeeds again marks
//! it back.

use std::{future::Future, time::Duration};

use tokio::sync::watch;

use super::{Store, StoreError};

/// How long a request-path query may take while the database is known down.
const QUERY_TIMEOUT_WHILE_DOWN: Duration = Duration::from_millis(250);

impl Store {
    /// Follows whether the database answered its last query.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Runs `query`, noting whether the database answered. A query the
    /// database refused still shows it answering.
    pub(super) async fn observed<T>(
        &self,
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
        result
    }
}
