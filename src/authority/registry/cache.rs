//! Active clients by id, in memory, so the hot path reads no client row.
//!
//! A client goes the moment this process changes it (update, rotation,
//! deletion) or the change feed says another did (see `changes.rs`), and
//! after [`TTL_SECONDS`] in any case, the backstop should the store be
//! unreadable when the feed is read. Inactive or missing clients are not
//! cached, so re-enabling a client anywhere takes effect at once.

use std::sync::Arc;

use tokend_common::expiring::Expiring;

use crate::domain::Client;

const TTL_SECONDS: i64 = 60;
/// Enough for every client of a large fleet; past it the cache starts over,
/// so nothing a caller sends can grow memory without bound.
const MAX_CLIENTS: usize = 100_000;

pub struct ClientCache(Expiring<String, Arc<Client>>);

impl ClientCache {
    pub fn new() -> Self {
        Self(Expiring::new(MAX_CLIENTS))
    }

    /// The active client, if cached and fresh.
    pub fn get(&self, client_id: &str, now: i64) -> Option<Arc<Client>> {
        self.0.get(client_id, now)
    }

    /// Remembers an active client.
    pub fn remember(&self, client: Arc<Client>, now: i64) {
        self.0.insert(client.id.to_string(), client, now + TTL_SECONDS, now);
    }

    pub fn forget(&self, client_id: &str) {
        self.0.remove(client_id);
    }
}
