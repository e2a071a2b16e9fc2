//! Single use of `private_key_jwt` assertions: each `jti` is recorded in the
//! store before the assertion is accepted, so a replay on any instance is
//! refused. Recording is a durable write, so the requests waiting at one
//! moment share one transaction (a group commit): a busy instance pays one
//! commit for many assertions, not one each.

use tokio::sync::{mpsc, oneshot};

use crate::{
    authority::AuthError,
    store::{AssertionId, Store},
};

/// The most ids written in one transaction.
const MAX_BATCH: usize = 256;
/// How many ids may wait; past it, requests wait to join the queue.
const QUEUE: usize = 4096;

/// One id waiting to be recorded, and where its answer goes.
struct Waiting {
    id: AssertionId,
    answer: oneshot::Sender<Option<bool>>,
}

/// The handle requests record their ids through; the writer stops when it is dropped.
pub struct UsedIds {
    waiting: mpsc::Sender<Waiting>,
}

impl UsedIds {
    /// Starts the writer on the current runtime.
    pub fn start(store: Store) -> Self {
        let (waiting, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write(store, queue));
        Self { waiting }
    }

    /// Records `id`; false when it was used before.
    pub async fn record(&self, id: AssertionId) -> Result<bool, AuthError> {
        let (answer, answered) = oneshot::channel();
        let unrecorded =
            || AuthError::Busy("the assertion could not be recorded; retry with a new one".into());
        self.waiting.send(Waiting { id, answer }).await.map_err(|_| unrecorded())?;
        answered.await.ok().flatten().ok_or_else(unrecorded)
    }
}

/// Writes what is waiting, as many at a time as have gathered, until the
/// handle is dropped. A failed write answers its batch `None`.
async fn write(store: Store, mut queue: mpsc::Receiver<Waiting>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ids: Vec<AssertionId> = batch.iter().map(|waiting| waiting.id.clone()).collect();
        let outcome = store.record_assertion_ids(&ids).await;
        if let Err(err) = &outcome {
            tracing::warn!(error = %err, count = ids.len(), "could not record assertion ids");
        }
        let answers = outcome.ok();
        for (i, waiting) in batch.drain(..).enumerate() {
            let _ = waiting.answer.send(answers.as_ref().map(|fresh| fresh[i]));
        }
    }
}
