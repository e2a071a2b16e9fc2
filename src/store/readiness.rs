//! Whether the database answers, as the request path and the health check
//! last found it: a failed or successful query says so at once, so health
//! follows the store without waiting for the next periodic ping.

use tokio::sync::watch;

use super::{Store, StoreError};

impl Store {
    /// Follows whether the database answered its last query.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// `result` as a store result, noting whether the database answered.
    /// A query the database refused still shows it answering.
    pub(super) fn observed<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        let result = result.map_err(StoreError::from);
        let answered = !matches!(result, Err(StoreError::Unavailable(_)));
        self.ready.send_if_modified(|ready| std::mem::replace(ready, answered) != answered);
        result
    }
}
