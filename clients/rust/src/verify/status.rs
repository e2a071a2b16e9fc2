//! Token Status Lists for the local verifier (draft-ietf-oauth-status-list-20):
//! each list a token points to is fetched (at its URI over HTTP, or through
//! `GetStatusList` over a channel), its signature checked with the issuer's
//! keys, kept for its `ttl`, and the token's bit read. One fetch per list per
//! `ttl` whatever the request rate; while one caller fetches, the others use
//! the copy in hand. A list that cannot be fetched is used until its `exp`;
//! then its tokens are refused (fail closed) unless the builder chose otherwise.

use std::{
    collections::HashMap,
    sync::{
        Arc, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::Validation;
use serde::Deserialize;
use tokend_common::status_list::{STATUS_LIST_MEDIA_TYPE, STATUS_LIST_TYP, StatusBits};
use tonic::transport::Channel;

use super::{
    VerifyError,
    keys::{self, KeyCache},
};
use crate::pb::{GetStatusListRequest, token_service_client::TokenServiceClient};

/// The bounds put on a list's `ttl`, so a list cannot make this verifier
/// fetch it in a loop, nor keep it for ever.
const MIN_TTL: Duration = Duration::from_secs(1);
const MAX_TTL: Duration = Duration::from_secs(3600);

/// A token's `status` claim.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TokenStatus {
    pub status_list: StatusListEntry,
}

/// Where a token's status sits: index `idx` of the list at `uri`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct StatusListEntry {
    pub idx: u64,
    pub uri: String,
}

/// How this verifier has fared with status lists, for a service's own metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusListCounts {
    /// Lists fetched and accepted.
    pub fetched: u64,
    /// Fetches that failed, or brought a list that did not check out.
    pub failed: u64,
    /// Tokens refused because their list could not be had (fail closed).
    pub refused_unknown: u64,
    /// Tokens accepted although their list could not be had (fail open).
    pub accepted_unknown: u64,
}

/// Where lists come from.
pub(super) enum ListSource {
    Http(reqwest::Client),
    Grpc(TokenServiceClient<Channel>),
}

pub(super) struct StatusLists {
    source: ListSource,
    lists: RwLock<HashMap<String, Arc<ListSlot>>>,
    /// Accept tokens whose list cannot be had (and has expired here).
    fail_open: bool,
    /// The least time between two attempts after a failed fetch.
    retry_interval: Duration,
    leeway: Duration,
    counts: Counts,
}

#[derive(Default)]
struct Counts {
    fetched: AtomicU64,
    failed: AtomicU64,
    refused_unknown: AtomicU64,
    accepted_unknown: AtomicU64,
}

#[derive(Default)]
struct ListSlot {
    held: RwLock<Option<Arc<HeldList>>>,
    /// Held while fetching; holds when the last attempt failed.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

struct HeldList {
    bits: StatusBits,
    /// When to fetch it again.
    refresh_at: Instant,
    /// The list's `exp`, in seconds since the epoch: when it must not be used any more.
    exp: u64,
}

/// The claims of a Status List Token this verifier reads.
#[derive(Deserialize)]
struct ListClaims {
    sub: String,
    exp: u64,
    ttl: Option<u64>,
    status_list: ListBits,
}

#[derive(Deserialize)]
struct ListBits {
    bits: u8,
    lst: String,
}

impl StatusLists {
    pub fn new(source: ListSource, fail_open: bool, retry_interval: Duration, leeway: Duration) -> Self {
        Self {
            source,
            lists: RwLock::default(),
            fail_open,
            retry_interval,
            leeway,
            counts: Counts::default(),
        }
    }

    /// Refuses a token whose status is not VALID, or (failing closed) cannot be known.
    pub async fn check(&self, keys: &KeyCache, status: &TokenStatus) -> Result<(), VerifyError> {
        let entry = &status.status_list;
        let slot = self.slot(&entry.uri);
        let held = slot.held();
        if let Some(list) = held.as_ref().filter(|list| Instant::now() < list.refresh_at) {
            return list.status(entry.idx);
        }
        let usable = held.filter(|list| list.is_valid(self.leeway));
        let mut last_failure = match (&usable, slot.fetching.try_lock()) {
            (_, Ok(guard)) => guard,
            // Someone is fetching it; the copy in hand serves meanwhile.
            (Some(list), Err(_)) => return list.status(entry.idx),
            (None, Err(_)) => slot.fetching.lock().await,
        };
        let fetched_meanwhile = slot.held().filter(|list| Instant::now() < list.refresh_at);
        if fetched_meanwhile.is_none() && last_failure.is_none_or(|at| at.elapsed() >= self.retry_interval) {
            match self.fetch(keys, &entry.uri).await {
                Ok(list) => {
                    *slot.held.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(list));
                    *last_failure = None;
                    self.counts.fetched.fetch_add(1, Ordering::Relaxed);
                }
                Err(_) => {
                    *last_failure = Some(Instant::now());
                    self.counts.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        drop(last_failure);
        match slot.held().filter(|list| list.is_valid(self.leeway)) {
            Some(list) => list.status(entry.idx),
            None if self.fail_open => {
                self.counts.accepted_unknown.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            None => {
                self.counts.refused_unknown.fetch_add(1, Ordering::Relaxed);
                Err(VerifyError::Unavailable(format!("the status list {} cannot be had", entry.uri)))
            }
        }
    }

    pub fn counts(&self) -> StatusListCounts {
        let read = |count: &AtomicU64| count.load(Ordering::Relaxed);
        StatusListCounts {
            fetched: read(&self.counts.fetched),
            failed: read(&self.counts.failed),
            refused_unknown: read(&self.counts.refused_unknown),
            accepted_unknown: read(&self.counts.accepted_unknown),
        }
    }

    fn slot(&self, uri: &str) -> Arc<ListSlot> {
        if let Some(slot) = self.lists.read().unwrap_or_else(PoisonError::into_inner).get(uri) {
            return slot.clone();
        }
        let mut lists = self.lists.write().unwrap_or_else(PoisonError::into_inner);
        lists.entry(uri.to_owned()).or_default().clone()
    }

    /// The list at `uri`, checked: `typ`, a signature by one of the issuer's
    /// keys with the algorithm it was published for, `sub` = `uri`, `exp`, one bit a token.
    async fn fetch(&self, keys: &KeyCache, uri: &str) -> Result<HeldList, VerifyError> {
        let token = match &self.source {
            ListSource::Http(http) => http_list(http, uri).await?,
            ListSource::Grpc(client) => {
                let request = GetStatusListRequest { uri: uri.to_owned() };
                let answer = client.clone().get_status_list(request).await.map_err(|status| {
                    VerifyError::Unavailable(format!("GetStatusList {uri}: {}", status.message()))
                })?;
                answer.into_inner().status_list_token
            }
        };
        let refused = |why: &str| VerifyError::Unavailable(format!("the status list {uri} {why}"));
        let header = jsonwebtoken::decode_header(&token).map_err(|_| refused("is malformed"))?;
        if header.typ.as_deref() != Some(STATUS_LIST_TYP) {
            return Err(refused("is not a status list token (typ)"));
        }
        let key =
            keys.key(header.kid.as_deref().unwrap_or_default()).await.ok_or(refused("has an unknown key"))?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway.as_secs();
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        let claims = jsonwebtoken::decode::<ListClaims>(&token, &key.decoding, &validation)
            .map_err(|_| refused("does not verify"))?
            .claims;
        if claims.sub != uri {
            return Err(refused("names another list (sub)"));
        }
        if claims.status_list.bits != 1 {
            return Err(refused("has more than one bit a token"));
        }
        let bits = StatusBits::decode(&claims.status_list.lst).map_err(|bad| refused(bad.0))?;
        let ttl = claims.ttl.map_or(MAX_TTL, Duration::from_secs).clamp(MIN_TTL, MAX_TTL);
        let until_exp = Duration::from_secs(claims.exp.saturating_sub(unix_now()));
        Ok(HeldList { bits, refresh_at: Instant::now() + ttl.min(until_exp), exp: claims.exp })
    }
}

impl ListSlot {
    fn held(&self) -> Option<Arc<HeldList>> {
        self.held.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl HeldList {
    /// Whether it may still be relied on: before its `exp` (with leeway).
    fn is_valid(&self, leeway: Duration) -> bool {
        unix_now() < self.exp + leeway.as_secs()
    }

    fn status(&self, index: u64) -> Result<(), VerifyError> {
        match self.bits.is_set(index) {
            Some(false) => Ok(()),
            Some(true) => Err(VerifyError::invalid("token revoked")),
            None => Err(VerifyError::invalid("token status index is beyond its list")),
        }
    }
}

async fn http_list(http: &reqwest::Client, uri: &str) -> Result<String, VerifyError> {
    keys::get(http, uri, STATUS_LIST_MEDIA_TYPE)
        .await?
        .text()
        .await
        .map_err(|err| keys::unavailable(uri, err))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}
