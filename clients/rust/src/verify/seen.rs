//! Tokens this verifier accepted before. A caller sends the same cached token
//! with every request, so from the second request on only its lifetime is
//! checked again, not its signature. An entry lasts no longer than fetched keys
//! do, so a retired key's tokens stop verifying as its key would.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use super::Claims;

/// How many tokens are remembered: a few MiB at most.
const CAPACITY: usize = 4096;

/// Accepted tokens and their claims, bounded in size.
pub(super) struct SeenTokens {
    entries: Mutex<HashMap<String, (Claims, Instant)>>,
    max_age: Duration,
}

impl SeenTokens {
    /// Entries are trusted for `max_age` after the signature check.
    pub fn new(max_age: Duration) -> Self {
        Self { entries: Mutex::default(), max_age }
    }

    /// The claims of `token` if it was accepted before and, with `leeway`, is still within its lifetime.
    pub fn get(&self, token: &str, leeway: Duration) -> Option<Claims> {
        let now = unix_now();
        let leeway = leeway.as_secs() as i64;
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (claims, checked) = entries.get(token)?;
        let current =
            checked.elapsed() < self.max_age && now <= claims.exp + leeway && claims.nbf - leeway <= now;
        current.then(|| claims.clone())
    }

    /// Remembers an accepted token; when full, expired ones go first, and all if that is not enough.
    pub fn insert(&self, token: &str, claims: &Claims) {
        let now = unix_now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, (claims, checked)| now <= claims.exp && checked.elapsed() < self.max_age);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), (claims.clone(), Instant::now()));
    }
}

fn unix_now() -> i64 {
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
        assert!(seen.entries.lock().unwrap().len() <= CAPACITY);
        assert!(seen.get(&format!("token-{}", CAPACITY + 9), LEEWAY).is_some(), "the newest stays");
    }
}
