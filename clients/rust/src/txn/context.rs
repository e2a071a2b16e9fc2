//! The Transaction Token of the request being handled, for the length of
//! its handling: set by the serving layers, read by the propagating one, so
//! handlers never pass it along by hand. It lives in a tokio task-local:
//! work spawned onto other tasks takes it with [`TxnToken::scope`].

use std::{future::Future, sync::Arc};

use super::TxnClaims;

tokio::task_local! {
    static CURRENT: TxnToken;
}

/// A verified Transaction Token and its claims.
#[derive(Clone, Debug)]
pub struct TxnToken {
    /// The token as received: passed on unchanged (draft §8.2).
    pub token: Arc<str>,
    pub claims: Arc<TxnClaims>,
}

impl TxnToken {
    /// The Txn-Token of the request this task is handling, if it has one.
    pub fn current() -> Option<TxnToken> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `work` with this token as the current one.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}
