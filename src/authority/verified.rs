//! Tokens whose signature was checked already. Callers reuse a token for its
//! whole life, so the same token is introspected (or presented as a bearer)
//! again and again; from the second time on, only its lifetime is checked.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use aws_lc_rs::digest::{SHA256, digest};

use super::AccessClaims;

/// How many tokens are remembered: one live token for each of ten thousand
/// clients and more, at a few hundred bytes each.
const CAPACITY: usize = 16_384;

/// Verified tokens by the SHA-256 of their text, bounded in size.
pub struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], AccessClaims>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    fn with_capacity(capacity: usize) -> Self {
        Self { entries: Mutex::default(), capacity }
    }

    /// The claims of `token` if it was verified before and is within its lifetime at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&fingerprint(token)).filter(|claims| claims.is_live_at(now)).cloned()
    }

    /// Remembers a token whose signature and claims were just checked. When
    /// full, expired tokens are dropped first, and everything if that is not enough.
    pub fn insert(&self, token: &str, claims: &AccessClaims, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, claims| now < claims.exp);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(fingerprint(token), claims.clone());
    }

    /// Forgets every token, for when the keys that verified them change.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

fn fingerprint(token: &str) -> [u8; 32] {
    let mut fingerprint = [0u8; 32];
    fingerprint.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    fingerprint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(nbf: i64, exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "i".into(),
            sub: "s".into(),
            client_id: "s".into(),
            aud: vec!["a".into()],
            scope: String::new(),
            iat: nbf,
            nbf,
            exp,
            jti: "j".into(),
        }
    }

    #[test]
    fn a_verified_token_is_remembered_only_within_its_lifetime() {
        let verified = VerifiedTokens::new();
        verified.insert("token", &claims(100, 200), 100);
        assert_eq!(verified.get("token", 150).map(|c| c.exp), Some(200));
        assert!(verified.get("token", 199).is_some());
        assert!(verified.get("token", 200).is_none(), "exp is the first second it must not be accepted");
        assert!(verified.get("token", 99).is_none());
        assert!(verified.get("other", 150).is_none());
    }

    #[test]
    fn a_full_cache_drops_expired_tokens_first_and_stays_bounded() {
        let verified = VerifiedTokens::with_capacity(3);
        verified.insert("old", &claims(0, 10), 0);
        verified.insert("a", &claims(0, 100), 0);
        verified.insert("b", &claims(0, 100), 0);
        verified.insert("c", &claims(0, 100), 50);
        assert!(verified.get("a", 50).is_some() && verified.get("c", 50).is_some());
        verified.insert("d", &claims(0, 100), 50);
        assert!(verified.get("d", 50).is_some());
        assert!(verified.entries.lock().unwrap().len() <= 3);
    }
}
