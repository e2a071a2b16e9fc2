//! Secrets already verified, remembered as keyed hashes so that a client in
//! steady use never waits on argon2 or the store.
//!
//! A client's entries go the moment this process changes the client (update,
//! rotation, deletion) or the change feed says another did, and after
//! [`TTL_SECONDS`] in any case, the backstop should the store be unreadable
//! when the feed is read.

use aws_lc_rs::{hmac, rand::SystemRandom};
use subtle::ConstantTimeEq;
use tokend_common::expiring::Expiring;

use crate::domain::ClientSecret;

pub const TTL_SECONDS: i64 = 60;
/// Enough for every client of a large fleet; past it the cache starts over,
/// so nothing a caller sends can grow memory without bound.
const MAX_CLIENTS: usize = 100_000;
/// A client has one secret, two while a rotation's grace runs; more is churn.
const MAX_SECRETS_PER_CLIENT: usize = 4;

/// A keyed hash (HMAC-SHA256 under a key drawn at start and never stored) of
/// a secret that passed argon2: useless to anyone who reads this memory.
pub type SecretTag = [u8; 32];

pub struct VerifiedSecrets {
    key: hmac::Key,
    /// Per client, the tags of its verified secrets, each with its own expiry.
    verified: Expiring<String, Vec<(SecretTag, i64)>>,
}

impl VerifiedSecrets {
    pub fn new() -> Self {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .expect("the operating system's random source failed");
        Self { key, verified: Expiring::new(MAX_CLIENTS) }
    }

    pub fn tag(&self, secret: &ClientSecret) -> SecretTag {
        let tag = hmac::sign(&self.key, secret.expose().as_bytes());
        tag.as_ref().try_into().expect("HMAC-SHA256 tags are 32 bytes")
    }

    /// Until when this secret is known to be this client's, if it is now.
    /// Tags are compared in constant time.
    pub fn verified_until(&self, client_id: &str, tag: &SecretTag, now: i64) -> Option<i64> {
        self.verified
            .read(client_id, now, |entries| {
                entries
                    .iter()
                    .find(|(known, until)| now < *until && bool::from(known.ct_eq(tag)))
                    .map(|(_, until)| *until)
            })
            .flatten()
    }

    /// Remembers a secret that passed argon2 (or was found still live), until
    /// `until` (never past the secret's own expiry), in place of what was
    /// known of it before.
    pub fn remember(&self, client_id: &str, tag: SecretTag, until: i64, now: i64) {
        self.verified.update(client_id.to_owned(), until, now, |entries| {
            entries.retain(|(known, until)| now < *until && !bool::from(known.ct_eq(&tag)));
            if entries.len() < MAX_SECRETS_PER_CLIENT {
                entries.push((tag, until));
            }
        });
    }

    /// Drops every verified secret of a client, after it changed.
    pub fn forget(&self, client_id: &str) {
        self.verified.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_secret_is_known_until_it_expires() {
        let cache = VerifiedSecrets::new();
        let (_, secret) = ClientSecret::generate();
        let tag = cache.tag(&secret);
        cache.remember("svc", tag, 100, 0);
        assert!(cache.verified_until("svc", &tag, 99).is_some());
        assert!(cache.verified_until("svc", &tag, 100).is_none());
        assert!(cache.verified_until("other", &tag, 0).is_none());
    }

    #[test]
    fn another_secret_is_not_verified() {
        let cache = VerifiedSecrets::new();
        let (_, good) = ClientSecret::generate();
        let (_, bad) = ClientSecret::generate();
        cache.remember("svc", cache.tag(&good), 100, 0);
        assert!(cache.verified_until("svc", &cache.tag(&bad), 0).is_none());
    }

    #[test]
    fn forgetting_a_client_drops_its_secrets() {
        let cache = VerifiedSecrets::new();
        let (_, secret) = ClientSecret::generate();
        let tag = cache.tag(&secret);
        cache.remember("svc", tag, 100, 0);
        cache.forget("svc");
        assert!(cache.verified_until("svc", &tag, 0).is_none());
    }

    #[test]
    fn remembering_a_secret_again_extends_it_in_place() {
        let cache = VerifiedSecrets::new();
        let tag = cache.tag(&ClientSecret::generate().1);
        cache.remember("svc", tag, 100, 0);
        cache.remember("svc", tag, 200, 50);
        assert_eq!(cache.verified_until("svc", &tag, 150), Some(200));
        let other = cache.tag(&ClientSecret::generate().1);
        for _ in 0..3 {
            cache.remember("svc", tag, 200, 50);
        }
        cache.remember("svc", other, 200, 50);
        assert!(
            cache.verified_until("svc", &other, 60).is_some(),
            "renewals take no room from other secrets"
        );
    }

    #[test]
    fn a_client_keeps_at_most_four_verified_secrets() {
        let cache = VerifiedSecrets::new();
        let tags: Vec<_> = (0..6).map(|_| cache.tag(&ClientSecret::generate().1)).collect();
        for tag in &tags {
            cache.remember("svc", *tag, 100, 0);
        }
        assert!(cache.verified_until("svc", &tags[3], 0).is_some());
        assert!(cache.verified_until("svc", &tags[4], 0).is_none());
    }

    #[test]
    fn tags_depend_on_the_process_key() {
        let (_, secret) = ClientSecret::generate();
        assert_ne!(VerifiedSecrets::new().tag(&secret), VerifiedSecrets::new().tag(&secret));
    }
}
