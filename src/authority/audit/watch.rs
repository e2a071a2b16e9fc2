//! The live stream of audit events. Events are read back from the store, not
//! passed around in memory, so a watcher on one instance sees what every
//! instance (and the CLI) commits. One poller per instance runs while anyone
//! watches; it re-reads a short overlap each time, since a transaction can
//! commit after a later-stamped one, and sends each event once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{sync::broadcast, task::JoinHandle};

use super::AuditEvent;
use crate::{
    authority::Clock,
    store::{EventFilter, Store},
};

/// How often the store is read while anyone watches.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How far back each read reaches before the newest event seen: longer than
/// any transaction takes between stamping its event and committing.
const OVERLAP_MILLIS: i64 = 30_000;
/// Events a slow watcher may fall behind by before its stream ends.
const BACKLOG: usize = 1024;

pub struct EventHub {
    store: Store,
    clock: Clock,
    sender: broadcast::Sender<Arc<AuditEvent>>,
    poller: Mutex<Option<JoinHandle<()>>>,
}

impl EventHub {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock, sender: broadcast::Sender::new(BACKLOG), poller: Mutex::default() }
    }

    /// A receiver of every event committed from now on; starts the poller if
    /// it is not running.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AuditEvent>> {
        let receiver = self.sender.subscribe();
        let mut poller = self.poller.lock().unwrap_or_else(PoisonError::into_inner);
        if poller.as_ref().is_none_or(JoinHandle::is_finished) {
            let (store, sender, start) = (self.store.clone(), self.sender.clone(), self.clock.now_millis());
            *poller = Some(tokio::spawn(poll(store, sender, start)));
        }
        receiver
    }
}

impl Drop for EventHub {
    fn drop(&mut self) {
        if let Some(poller) = self.poller.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            poller.abort();
        }
    }
}

/// Reads new events and sends them until nobody receives; events stamped
/// before `start` were committed before anyone subscribed.
async fn poll(store: Store, sender: broadcast::Sender<Arc<AuditEvent>>, start: i64) {
    // Ids sent (or older than `start`), with their times, to send each once.
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut newest = start;
    let mut first = true;
    while sender.receiver_count() > 0 {
        let filter = EventFilter { since: newest - OVERLAP_MILLIS, ..EventFilter::default() };
        match store.events_since(&filter).await {
            Ok(events) => {
                for event in events {
                    if seen.contains_key(&event.event_id) {
                        continue;
                    }
                    seen.insert(event.event_id.clone(), event.occurred_at);
                    newest = newest.max(event.occurred_at);
                    if !(first && event.occurred_at < start) {
                        let _ = sender.send(Arc::new(AuditEvent::from(event)));
                    }
                }
                first = false;
                seen.retain(|_, time| *time >= newest - OVERLAP_MILLIS);
            }
            Err(err) => tracing::warn!(error = %err, "could not read audit events for watchers"),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
