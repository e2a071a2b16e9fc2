//! Each list as published: built from the store (revoked tokens' indices,
//! and whole blocks of clients no longer registered as they were), signed
//! as a Status List Token, and kept a few seconds so a crowd of verifiers
//! costs one build. An unchanged list keeps its token (and ETag) for a
//! while, but never past a change of signing key. A list is built from the
//! store at most once a second whatever callers do (revoking a token and
//! fetching the list is open to any client), one build at a time, and while
//! one is under way the last signed copy is served. A revocation made here
//! sets its bit in that copy at once (encoded and signed again, no store
//! read), so a verifier sees it without waiting for the next build.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use tokend_common::status_list::{LIST_CAPACITY, StatusBits};

use super::{STATUS_PATH, no_such_list};
use crate::{
    authority::{AuthError, KeyRing},
    store::Store,
};

/// Most seconds a list built here is served before it is built again from the store.
const REBUILD_AFTER_SECONDS: i64 = 5;
/// Fewest seconds between two builds of one list, however often its statuses change.
const MIN_REBUILD_SECONDS: i64 = 1;
/// Revocations made here waiting to be set in a list, at most.
const MAX_FLIPS: usize = 4096;
/// A list token's `exp` is this many `ttl`s after its `iat`: how long a
/// verifier that cannot reach tokend may rely on its last copy.
const VALIDITY_TTLS: i64 = 10;
/// An unchanged list keeps its token for this many `ttl`s, so a verifier
/// always gets one with at least half its validity left.
const REUSE_TTLS: i64 = 5;

/// A Status List Token as served: the token, its ETag, and how long it may be cached.
#[derive(Debug, Clone)]
pub struct PublishedList {
    pub token: Arc<str>,
    pub etag: Arc<str>,
    pub max_age: i64,
}

struct Built {
    list: PublishedList,
    /// The bits, for a revocation to be set in without a rebuild.
    bits: StatusBits,
    lst: String,
    iat: i64,
    built_at: i64,
    /// The count of status changes here when it was built.
    changes: u64,
    /// The key that signed `list`.
    kid: String,
}

pub(super) struct Publisher {
    ttl: i64,
    issuer: String,
    built: Mutex<HashMap<i64, Arc<Built>>>,
    /// Indices revoked here since each list was last published here.
    flips: Mutex<HashMap<i64, Vec<u64>>>,
    /// Held while building, so one build serves everyone waiting.
    building: tokio::sync::Mutex<()>,
}

impl Publisher {
    pub fn new(ttl: i64, issuer: &str) -> Self {
        Self {
            ttl,
            issuer: issuer.to_owned(),
            built: Mutex::default(),
            flips: Mutex::default(),
            building: tokio::sync::Mutex::new(()),
        }
    }

    /// List `list_id` (at `uri`) as of `now`, built again when the copy here
    /// is older than a few seconds (or than `ttl`) or a status changed here since.
    pub async fn published(
        &self,
        store: &Store,
        list_id: i64,
        uri: &str,
        changes: u64,
        keys: &KeyRing,
        now: i64,
    ) -> Result<PublishedList, AuthError> {
        let kid = keys.signing.kid.as_str();
        if !self.has_flips(list_id)
            && let Some(built) = self.fresh(list_id, changes, kid, now)
        {
            return Ok(built.list.clone());
        }
        let _one = match self.building.try_lock() {
            Ok(one) => one,
            // Another call is building: the last copy signed by this key will do meanwhile.
            Err(_) => match self.signed_by(list_id, kid) {
                Some(built) => return Ok(built.list.clone()),
                None => self.building.lock().await,
            },
        };
        let flips = self.take_flips(list_id);
        let previous = self.signed_by(list_id, kid);
        if let Some(previous) = &previous {
            if !flips.is_empty() && now < previous.built_at + REBUILD_AFTER_SECONDS.min(self.ttl) {
                return self.patched(list_id, previous, &flips, uri, keys, now).await;
            }
            if flips.is_empty() && self.fresh(list_id, changes, kid, now).is_some() {
                return Ok(previous.list.clone());
            }
        }
        if !store.status_list_exists(list_id).await? {
            self.built().remove(&list_id);
            return Err(no_such_list());
        }
        let runs = store.invalid_statuses(list_id).await?;
        // Compressing a list with many scattered revocations takes milliseconds:
        // off the threads that serve requests.
        let encode = move || {
            let mut bits = StatusBits::new(LIST_CAPACITY);
            for (first, count) in runs {
                if let (Ok(first), Ok(count)) = (u64::try_from(first), u64::try_from(count)) {
                    bits.set_range(first, count);
                }
            }
            let lst = bits.encode();
            (bits, lst)
        };
        let (bits, lst) = tokio::task::spawn_blocking(encode).await.map_err(AuthError::internal)?;
        let reused =
            previous.filter(|previous| previous.lst == lst && now < previous.iat + REUSE_TTLS * self.ttl);
        let built = match reused {
            Some(previous) => Built {
                list: previous.list.clone(),
                bits,
                lst,
                iat: previous.iat,
                built_at: now,
                changes,
                kid: kid.to_owned(),
            },
            None => {
                let list = self.sign(uri, &lst, keys, now)?;
                Built { list, bits, lst, iat: now, built_at: now, changes, kid: kid.to_owned() }
            }
        };
        let list = built.list.clone();
        self.built().insert(list_id, Arc::new(built));
        Ok(list)
    }

    /// `previous` with the bits at `flips` set, encoded and signed anew at
    /// `now`; it keeps its build time, so the next build comes as it would have.
    async fn patched(
        &self,
        list_id: i64,
        previous: &Built,
        flips: &[u64],
        uri: &str,
        keys: &KeyRing,
        now: i64,
    ) -> Result<PublishedList, AuthError> {
        let mut bits = previous.bits.clone();
        for index in flips {
            bits.set(*index);
        }
        let (bits, lst) = tokio::task::spawn_blocking(move || {
            let lst = bits.encode();
            (bits, lst)
        })
        .await
        .map_err(AuthError::internal)?;
        let list = self.sign(uri, &lst, keys, now)?;
        let built = Built {
            list: list.clone(),
            bits,
            lst,
            iat: now,
            built_at: previous.built_at,
            changes: previous.changes,
            kid: previous.kid.clone(),
        };
        self.built().insert(list_id, Arc::new(built));
        Ok(list)
    }

    /// The Status List Token of `lst` for the list at `uri`, signed at `now`.
    fn sign(&self, uri: &str, lst: &str, keys: &KeyRing, now: i64) -> Result<PublishedList, AuthError> {
        let token = keys.signing.sign_status_list(&json!({
            "iss": self.issuer,
            "sub": uri,
            "iat": now,
            "exp": now + VALIDITY_TTLS * self.ttl,
            "ttl": self.ttl,
            "status_list": {
                "bits": 1,
                "lst": lst,
                "aggregation_uri": format!("{}{STATUS_PATH}", self.issuer.trim_end_matches('/')),
            },
        }))?;
        let etag =
            format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest(&SHA256, token.as_bytes()).as_ref()[..12]));
        Ok(PublishedList { token: token.into(), etag: etag.into(), max_age: self.ttl })
    }

    /// Notes that the token at `index` of list `list_id` was revoked here.
    /// Past [`MAX_FLIPS`] waiting, the list's are dropped: the next build
    /// from the store has them all.
    pub fn flip(&self, list_id: i64, index: u64) {
        let mut flips = self.flips.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting = flips.entry(list_id).or_default();
        match waiting.len() < MAX_FLIPS && index < LIST_CAPACITY {
            true => waiting.push(index),
            false => {
                flips.remove(&list_id);
            }
        }
    }

    fn has_flips(&self, list_id: i64) -> bool {
        self.flips.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&list_id)
    }

    fn take_flips(&self, list_id: i64) -> Vec<u64> {
        self.flips.lock().unwrap_or_else(PoisonError::into_inner).remove(&list_id).unwrap_or_default()
    }

    /// Forgets the lists `removed`, and those not built for longer than their tokens are valid.
    pub fn forget(&self, removed: &[i64], now: i64) {
        self.built().retain(|list_id, built| {
            !removed.contains(list_id) && now < built.built_at + VALIDITY_TTLS * self.ttl
        });
    }

    /// The copy here, if it may still be served at `now`: signed by the
    /// current key, and either built since the last status change and within
    /// a few seconds (or `ttl`), or built this very second.
    fn fresh(&self, list_id: i64, changes: u64, kid: &str, now: i64) -> Option<Arc<Built>> {
        let refresh = REBUILD_AFTER_SECONDS.min(self.ttl);
        self.signed_by(list_id, kid).filter(|built| {
            let unchanged = built.changes == changes && now < built.built_at + refresh;
            unchanged || now < built.built_at + MIN_REBUILD_SECONDS
        })
    }

    /// The copy here, if the key `kid` signed it.
    fn signed_by(&self, list_id: i64, kid: &str) -> Option<Arc<Built>> {
        self.built().get(&list_id).filter(|built| built.kid == kid).cloned()
    }

    fn built(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Built>>> {
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
