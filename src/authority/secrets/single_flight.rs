//! Concurrent checks of the same client and the same presented secret share
//! one argon2 verification, so a burst of cold requests (after a restart or a
//! scale-up, when every caller arrives at once) costs one check, not one per
//! request. Checks are keyed by the keyed hash of the presented secret, so
//! only identical credentials ever share an answer.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::watch;

use super::verified::SecretTag;
use crate::domain::Client;

/// What a check found: the client, or `None` for wrong credentials.
pub type Outcome = Option<Arc<Client>>;
type Key = (String, SecretTag);

/// The checks running now, each with the channel its outcome will come on.
#[derive(Default)]
pub struct Checks {
    running: Mutex<HashMap<Key, watch::Receiver<Option<Outcome>>>>,
}

/// A caller's part in a check: run it, or wait for the one running.
pub enum Turn<'a> {
    Lead(Lead<'a>),
    Wait(watch::Receiver<Option<Outcome>>),
}

/// The caller that runs a check; when it goes, finished or not, the check is
/// no longer running.
pub struct Lead<'a> {
    checks: &'a Checks,
    key: Key,
    outcome: watch::Sender<Option<Outcome>>,
}

impl Checks {
    /// Joins the check of `client_id` with the secret whose tag is `tag`, or starts it.
    pub fn join(&self, client_id: &str, tag: SecretTag) -> Turn<'_> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (client_id.to_owned(), tag);
        if let Some(outcome) = running.get(&key) {
            return Turn::Wait(outcome.clone());
        }
        let (outcome, waiting) = watch::channel(None);
        running.insert(key.clone(), waiting);
        Turn::Lead(Lead { checks: self, key, outcome })
    }
}

impl Lead<'_> {
    /// Hands the outcome to everyone waiting.
    pub fn finish(self, outcome: Outcome) {
        let _ = self.outcome.send(Some(outcome));
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        self.checks.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

/// The outcome of the check waited for; `None` when it ended without one (the
/// store failed, or the caller running it went away), so the waiter must
/// check for itself.
pub async fn outcome(mut waiting: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
    let outcome = waiting.wait_for(Option::is_some).await.ok()?;
    outcome.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_second_caller_waits_for_the_first_and_gets_its_outcome() {
        let checks = Checks::default();
        let Turn::Lead(lead) = checks.join("svc", [1; 32]) else { panic!("the first caller leads") };
        let Turn::Wait(waiting) = checks.join("svc", [1; 32]) else { panic!("the second caller waits") };
        assert!(matches!(checks.join("svc", [2; 32]), Turn::Lead(_)), "another secret is another check");
        lead.finish(None);
        assert_eq!(outcome(waiting).await.map(|client| client.is_some()), Some(false));
        assert!(matches!(checks.join("svc", [1; 32]), Turn::Lead(_)), "a finished check is not running");
    }

    #[tokio::test]
    async fn a_leader_that_gives_up_leaves_waiters_to_check_for_themselves() {
        let checks = Checks::default();
        let lead = checks.join("svc", [1; 32]);
        let Turn::Wait(waiting) = checks.join("svc", [1; 32]) else { panic!("the second caller waits") };
        drop(lead);
        assert!(outcome(waiting).await.is_none());
    }
}
