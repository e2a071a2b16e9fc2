//! Revoked token ids held in memory, so checking a token never waits on the
//! store; kept in step with the store, where revocations are durable.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use crate::authority::{AuthError, feed::FeedCursor};
use crate::store::{EventRow, Store};

pub struct Revocations {
    store: Store,
    /// jti → when the token expires (after which it needs no remembering).
    revoked: RwLock<HashMap<String, i64>>,
    cursor: FeedCursor,
}

impl Revocations {
    /// Loads every revocation whose token has not yet expired.
    pub async fn load(store: Store, now: i64) -> Result<Self, AuthError> {
        let revoked = store.revocations_since(i64::MIN, now).await?.into_iter().collect();
        Ok(Self { store, revoked: RwLock::new(revoked), cursor: FeedCursor::new(now) })
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.read().unwrap_or_else(PoisonError::into_inner).contains_key(jti)
    }

    /// Records a revocation (and the token's status list and index, if it
    /// has them) durably, then in memory: once this returns, the
    /// token is inactive here and after any restart.
    pub async fn revoke(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: i64,
        status: Option<(i64, i64)>,
        now: i64,
        events: &[EventRow],
    ) -> Result<(), AuthError> {
        self.store.revoke(jti, client_id, expires_at, status, now, events).await?;
        self.revoked.write().unwrap_or_else(PoisonError::into_inner).insert(jti.to_owned(), expires_at);
        Ok(())
    }

    /// Holds a revocation another instance announced, unless its token has
    /// expired by `now`.
    pub fn remember(&self, jti: String, expires_at: i64, now: i64) {
        if expires_at > now {
            self.revoked.write().unwrap_or_else(PoisonError::into_inner).insert(jti, expires_at);
        }
    }

    /// Picks up revocations other instances recorded, and forgets (here and in
    /// the store) those whose tokens have expired.
    pub async fn sync(&self, now: i64) -> Result<(), AuthError> {
        let fresh = self.store.revocations_since(self.cursor.since(), now).await?;
        {
            let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
            revoked.retain(|_, expires_at| *expires_at > now);
            revoked.extend(fresh);
        }
        self.cursor.read_at(now);
        self.store.purge_revocations(now).await?;
        Ok(())
    }
}
