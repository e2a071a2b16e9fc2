//! Following the client change feed: what the CLI or another instance changed
//! about a client is dropped from this instance's caches as soon as PostgreSQL
//! announces it, and at the next upkeep in any case (the only way on SQLite),
//! not when the cache entries run out.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use super::Registry;
use crate::authority::{
    AuthError,
    feed::{CLOCK_SLACK_SECONDS, FeedCursor},
};
/// Changes older than this are purged: every instance has read them long since.
const KEEP_SECONDS: i64 = 3600;

/// Where this instance is in the feed.
pub struct FeedPosition {
    cursor: FeedCursor,
    /// change id → when this instance first saw it, so each change clears a
    /// client's entries once although several rounds read it.
    seen: Mutex<HashMap<String, i64>>,
}

impl FeedPosition {
    /// Starts at `now`: caches are empty, so earlier changes do not matter.
    pub fn new(now: i64) -> Self {
        Self { cursor: FeedCursor::new(now), seen: Mutex::default() }
    }
}

impl Registry {
    /// Forgets what is cached about every client changed since the last round.
    pub async fn follow_changes(&self, now: i64) -> Result<(), AuthError> {
        let since = self.feed.cursor.since();
        let changes = self.store.client_changes_since(since).await?;
        {
            let mut seen = self.feed.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.retain(|_, seen_at| *seen_at >= since - CLOCK_SLACK_SECONDS);
            for (change_id, client_id) in changes {
                if seen.insert(change_id, now).is_none() {
                    self.forget_cached(&client_id);
                }
            }
        }
        self.feed.cursor.read_at(now);
        self.store.purge_client_changes(now - KEEP_SECONDS).await?;
        Ok(())
    }
}
