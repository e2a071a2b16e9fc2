//! Tokens this verifier accepted before. A caller sends the same cached token
//! with every request, so from the second request on only its lifetime is
//! checked again, not its signature. An entry lasts no longer than fetched keys
//! do, so a retired key's tokens stop verifying as its key would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokend_common::expiring::Expiring;

use super::Claims;

/// How many tokens are remembered: a few MiB at most.
const CAPACITY: usize = 4096;

/// Accepted tokens and their claims, bounded in size.
pub(super) struct SeenTokens {
    entries: Expiring<String, Claims>,
    max_age: Duration,
}

impl SeenTokens {
    /// Entries are trusted for `max_age` after the signature check.
    pub fn new(max_age: Duration) -> Self {
        Self { entries: Expiring::new(CAPACITY), max_age }
    }

    /// The claims of `token` if it was accepted before and, with `leeway`, is still within its lifetime.
    pub fn get(&self, token: &str, leeway: Duration) -> Option<Claims> {
        let now = unix_now();
        let leeway = leeway.as_secs() as i64;
        let live = |claims: &Claims| now <= claims.exp + leeway && claims.nbf - leeway <= now;
        self.entries.get(token, now).filter(live)
    }

    /// Remembers an accepted token for `max_age`.
    pub fn insert(&self, token: &str, claims: &Claims) {
        let now = unix_now();
        self.entries.insert(token.to_owned(), claims.clone(), now + self.max_age.as_secs() as i64, now);
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(nbf: i64, exp: i64) -> Claims {
        Claims {
            iss: "i".into(),
            sub: "s".into(),
            client_id: "s".into(),
            aud: vec!["a".into()],
            scope: String::new(),
            exp,
            nbf,
            iat: nbf,
            jti: "j".into(),
            cnf: None,
            status: None,
            other: Default::default(),
        }
    }

    const LEEWAY: Duration = Duration::from_secs(10);

    #[test]
    fn an_accepted_token_is_remembered_within_its_lifetime_and_leeway() {
        let seen = SeenTokens::new(Duration::from_secs(300));
        let now = unix_now();
        seen.insert("live", &claims(now, now + 60));
        seen.insert("just-expired", &claims(now - 60, now - 5));
        seen.insert("long-expired", &claims(now - 60, now - 30));
        seen.insert("future", &claims(now + 300, now + 600));
        assert!(seen.get("live", LEEWAY).is_some());
        assert!(seen.get("just-expired", LEEWAY).is_some(), "5 s late is within the leeway");
        assert!(seen.get("long-expired", LEEWAY).is_none());
        assert!(seen.get("future", LEEWAY).is_none());
        assert!(seen.get("never-seen", LEEWAY).is_none());
    }

    #[test]
    fn entries_last_no_longer_than_fetched_keys() {
        let seen = SeenTokens::new(Duration::ZERO);
        let now = unix_now();
        seen.insert("live", &claims(now, now + 60));
        assert!(seen.get("live", LEEWAY).is_none());
    }

    #[test]
    fn the_memory_stays_bounded() {
        let seen = SeenTokens::new(Duration::from_secs(300));
        let now = unix_now();
        for i in 0..CAPACITY + 10 {
            seen.insert(&format!("token-{i}"), &claims(now, now + 60));
        }
        assert!(seen.entries.len() <= CAPACITY);
        assert!(seen.get(&format!("token-{}", CAPACITY + 9), LEEWAY).is_some(), "the newest stays");
    }
}
