//! Tokens whose signature was checked already. Callers reuse a token for its
//! whole life, so the same token is introspected (or presented as a bearer)
//! again and again; from the second time on, only its lifetime is checked.

use aws_lc_rs::digest::{SHA256, digest};
use tokend_common::expiring::Expiring;

use super::AccessClaims;

/// How many tokens are remembered: one live token for each of ten thousand
/// clients and more, at a few hundred bytes each.
const CAPACITY: usize = 16_384;

/// Verified tokens by the SHA-256 of their text, until they expire.
pub struct VerifiedTokens {
    entries: Expiring<[u8; 32], AccessClaims>,
}

impl VerifiedTokens {
    pub fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    fn with_capacity(capacity: usize) -> Self {
        Self { entries: Expiring::new(capacity) }
    }

    /// The claims of `token` if it was verified before and is within its lifetime at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<AccessClaims> {
        self.entries.get(&fingerprint(token), now).filter(|claims| claims.is_live_at(now))
    }

    /// Remembers a token whose signature and claims were just checked, until it expires.
    pub fn insert(&self, token: &str, claims: &AccessClaims, now: i64) {
        self.entries.insert(fingerprint(token), claims.clone(), claims.exp, now);
    }

    /// Forgets every token, for when the keys that verified them change.
    pub fn clear(&self) {
        self.entries.clear();
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
            cnf: None,
            federated: None,
            act: None,
            status: None,
            claims: Default::default(),
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
        assert!(verified.entries.len() <= 3);
    }
}
