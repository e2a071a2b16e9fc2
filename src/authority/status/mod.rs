//! Token Status Lists (draft-ietf-oauth-status-list-20): every access token
//! points to a bit in a list tokend publishes as a signed, cacheable token,
//! so verifiers learn of revocations without asking about each token.
//!
//! - `blocks`: hands out indices from blocks each instance reserves per
//!   client, so no token costs a write and a client's tokens are found by
//!   its blocks.
//! - `publish`: builds, signs and caches each list from the store.

mod blocks;
mod publish;

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};
use tokend_common::status_list::LIST_CAPACITY;

use super::{AccessClaims, AuthError, Grant, KeyRing};
use crate::{
    domain::TokenTtl,
    store::{ListShape, Store},
};
use blocks::IndexBlocks;
pub use publish::PublishedList;
use publish::Publisher;

/// The path of the lists under the issuer; a list's URI adds `/<list id>`.
pub const STATUS_PATH: &str = "/oauth/v2/status";

/// How lists are cut: a list takes new blocks for an hour, so every token
/// in it has expired a day and an hour after it opened.
const SHAPE: ListShape = ListShape { capacity: LIST_CAPACITY as i64, open_seconds: 3600 };

/// Whether tokens carry a status, and how long verifiers may cache a list.
#[derive(Debug, Clone, Copy)]
pub struct StatusListSettings {
    pub enabled: bool,
    /// The `ttl` of each list and its `Cache-Control: max-age`.
    pub ttl_seconds: i64,
}

impl Default for StatusListSettings {
    fn default() -> Self {
        Self { enabled: true, ttl_seconds: 60 }
    }
}

/// A token's `status` claim: where its status sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatus {
    pub status_list: StatusListEntry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListEntry {
    pub idx: u64,
    pub uri: String,
}

/// The lists of this issuer: the indices new tokens take, and the lists as published.
pub struct StatusLists {
    settings: StatusListSettings,
    store: Store,
    /// `<issuer>/oauth/v2/status/`, which a list id completes.
    uri_prefix: String,
    blocks: IndexBlocks,
    publisher: Publisher,
    changes: StatusChanges,
}

/// Counts the status changes this instance knows of, so a list published
/// before one is built again. Cheap to clone.
#[derive(Clone, Default)]
pub struct StatusChanges(Arc<AtomicU64>);

impl StatusChanges {
    /// A status changed (a token was revoked, a client changed).
    pub fn mark(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl StatusLists {
    pub fn new(settings: StatusListSettings, store: Store, issuer: &str) -> Self {
        let uri_prefix = format!("{}{STATUS_PATH}/", issuer.trim_end_matches('/'));
        Self {
            settings,
            blocks: IndexBlocks::new(store.clone(), SHAPE),
            publisher: Publisher::new(settings.ttl_seconds, issuer),
            store,
            uri_prefix,
            changes: StatusChanges::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// The status a token minted at `now` for `grant` carries; `None` when
    /// tokens carry none. Costs a write to the store once per block of indices.
    pub async fn allocate(&self, grant: &Grant, now: i64) -> Result<Option<TokenStatus>, AuthError> {
        if !self.settings.enabled {
            return Ok(None);
        }
        let subject = grant.subject.as_ref();
        let owner = [
            grant.client_id.as_str(),
            &grant.registration,
            subject.map_or("", |subject| &subject.id),
            subject.and_then(|subject| subject.registration.as_deref()).unwrap_or_default(),
        ];
        let (list_id, index) = self.blocks.allocate(owner, now).await?;
        let uri = format!("{}{list_id}", self.uri_prefix);
        Ok(Some(TokenStatus { status_list: StatusListEntry { idx: index as u64, uri } }))
    }

    /// The list and index of a token's status, if it has one in a list of ours.
    pub fn locate(&self, claims: &AccessClaims) -> Option<(i64, i64)> {
        let entry = &claims.status.as_ref()?.status_list;
        Some((self.list_id(&entry.uri)?, i64::try_from(entry.idx).ok()?))
    }

    /// What marks the published lists out of date.
    pub fn changes(&self) -> &StatusChanges {
        &self.changes
    }

    /// A token at `index` of list `list_id` was revoked here: its bit is set
    /// in the list this instance publishes next, without a rebuild.
    pub fn revoked(&self, list_id: i64, index: i64) {
        if let Ok(index) = u64::try_from(index) {
            self.publisher.flip(list_id, index);
        }
        self.changes.mark();
    }

    /// The list with the id `list` (its URI's last segment), signed with
    /// `keys`' signing key at `now`; `NotFound` for anything that names no list.
    pub async fn published(&self, list: &str, keys: &KeyRing, now: i64) -> Result<PublishedList, AuthError> {
        let list_id = parse_list_id(list).filter(|_| self.settings.enabled).ok_or_else(no_such_list)?;
        let uri = format!("{}{list_id}", self.uri_prefix);
        let changes = self.changes.count();
        self.publisher.published(&self.store, list_id, &uri, changes, keys, now).await
    }

    /// The list a token's `status_list.uri` names; `NotFound` for any other URI.
    pub async fn published_at(
        &self,
        uri: &str,
        keys: &KeyRing,
        now: i64,
    ) -> Result<PublishedList, AuthError> {
        let list = uri.strip_prefix(&self.uri_prefix).ok_or_else(no_such_list)?;
        self.published(list, keys, now).await
    }

    /// The URIs of every list (the draft's Status List Aggregation).
    pub async fn uris(&self) -> Result<Vec<String>, AuthError> {
        if !self.settings.enabled {
            return Err(no_such_list());
        }
        let ids = self.store.status_list_ids().await?;
        Ok(ids.into_iter().map(|list_id| format!("{}{list_id}", self.uri_prefix)).collect())
    }

    /// How long verifiers may cache a list.
    pub fn ttl_seconds(&self) -> i64 {
        self.settings.ttl_seconds
    }

    /// Removes lists whose every token has expired by `now`, and forgets blocks
    /// that can take no more tokens.
    pub async fn maintain(&self, now: i64) -> Result<(), AuthError> {
        self.blocks.forget_closed(now);
        let removed = self.store.purge_status_lists(SHAPE.open_seconds, now - TokenTtl::MAX_SECONDS).await?;
        self.publisher.forget(&removed, now);
        Ok(())
    }

    fn list_id(&self, uri: &str) -> Option<i64> {
        parse_list_id(uri.strip_prefix(&self.uri_prefix)?)
    }
}

impl super::Authority {
    /// Status List `list` (the last segment of its URI), as verifiers fetch it.
    pub async fn status_list(&self, list: &str) -> Result<PublishedList, AuthError> {
        self.status_lists.published(list, &self.tokens.keys(), self.clock.now()).await
    }

    /// The Status List at `uri`, a token's `status.status_list.uri`.
    pub async fn status_list_at(&self, uri: &str) -> Result<PublishedList, AuthError> {
        if uri.is_empty() {
            return Err(AuthError::InvalidArgument(
                "uri is required: a token's status.status_list.uri".into(),
            ));
        }
        self.status_lists.published_at(uri, &self.tokens.keys(), self.clock.now()).await
    }

    /// The URIs of every Status List (the draft's Status List Aggregation).
    pub async fn status_list_uris(&self) -> Result<Vec<String>, AuthError> {
        self.status_lists.uris().await
    }

    /// Whether tokens point into Status Lists (`--status-list`).
    pub fn status_lists_enabled(&self) -> bool {
        self.status_lists.enabled()
    }

    /// How long verifiers may cache a Status List (`--status-list-ttl`).
    pub fn status_list_ttl(&self) -> i64 {
        self.status_lists.ttl_seconds()
    }
}

/// A list id as tokend writes them: a positive decimal number without
/// leading zeros or signs, small enough for the store.
fn parse_list_id(text: &str) -> Option<i64> {
    let canonical = !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| text.parse().ok()).flatten()
}

fn no_such_list() -> AuthError {
    AuthError::NotFound("no such status list".into())
}

#[cfg(test)]
mod tests {
    use super::parse_list_id;

    #[test]
    fn only_canonical_positive_numbers_name_lists() {
        assert_eq!(parse_list_id("1"), Some(1));
        assert_eq!(parse_list_id("9223372036854775807"), Some(i64::MAX));
        for text in
            ["", "0", "01", "+1", "-1", "1.0", " 1", "1a", "9223372036854775808", "99999999999999999999999"]
        {
            assert_eq!(parse_list_id(text), None, "{text:?}");
        }
    }
}
