//! In-memory caches that keep argon2 and the store off the hot path: active
//! clients by id, and secrets already verified, remembered as keyed hashes.
//!
//! Both forget a client the moment this process changes it (update, rotation,
//! deletion) or the change feed says another did (see `changes.rs`), and
//! forget everything after [`TTL_SECONDS`], the backstop should the store
//! be unreadable when the feed is read.

use std::sync::Arc;

use aws_lc_rs::{hmac, rand::SystemRandom};
use subtle::ConstantTimeEq;
use tokend_common::expiring::Expiring;

use crate::domain::{Client, ClientSecret};

pub const TTL_SECONDS: i64 = 60;
/// Enough for every client of a large fleet; past it the cache starts over,
/// so nothing a caller sends can grow memory without bound.
const MAX_CLIENTS: usize = 100_000;
/// A client has one secret, two while a rotation's grace runs; more is churn.
const MAX_SECRETS_PER_CLIENT: usize = 4;

/// A keyed hash (HMAC-SHA256 under a key drawn at start and never stored) of
/// a secret that passed argon2: useless to anyone who reads this memory.
pub type SecretTag = [u8; 32];

pub struct RegistryCache {
    key: hmac::Key,
    clients: Expiring<String, Arc<Client>>,
    /// Per client, the tags of its verified secrets, each with its own expiry.
    verified: Expiring<String, Vec<(SecretTag, i64)>>,
}

impl RegistryCache {
    pub fn new() -> Self {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
            .expect("the operating system's random source failed");
        Self { key, clients: Expiring::new(MAX_CLIENTS), verified: Expiring::new(MAX_CLIENTS) }
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
    pub fn remember_verified(&self, client_id: &str, tag: SecretTag, until: i64, now: i64) {
        self.verified.update(client_id.to_owned(), until, now, |entries| {
            entries.retain(|(known, until)| now < *until && !bool::from(known.ct_eq(&tag)));
            if entries.len() < MAX_SECRETS_PER_CLIENT {
                entries.push((tag, until));
            }
        });
    }

    /// The active client, if cached and fresh.
    pub fn client(&self, client_id: &str, now: i64) -> Option<Arc<Client>> {
        self.clients.get(client_id, now)
    }

    /// Remembers an active client. Inactive or missing ones are not cached, so
    /// re-enabling a client anywhere takes effect at once.
    pub fn remember_client(&self, client: Arc<Client>, now: i64) {
        self.clients.insert(client.id.to_string(), client, now + TTL_SECONDS, now);
    }

    /// Drops everything known about a client, after this process changed it.
    pub fn forget(&self, client_id: &str) {
        self.clients.remove(client_id);
        self.verified.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_secret_is_known_until_it_expires() {
        let cache = RegistryCache::new();
        let (_, secret) = ClientSecret::generate();
        let tag = cache.tag(&secret);
        cache.remember_verified("svc", tag, 100, 0);
        assert!(cache.verified_until("svc", &tag, 99).is_some());
        assert!(cache.verified_until("svc", &tag, 100).is_none());
        assert!(cache.verified_until("other", &tag, 0).is_none());
    }

    #[test]
    fn another_secret_is_not_verified() {
        let cache = RegistryCache::new();
        let (_, good) = ClientSecret::generate();
        let (_, bad) = ClientSecret::generate();
        cache.remember_verified("svc", cache.tag(&good), 100, 0);
        assert!(cache.verified_until("svc", &cache.tag(&bad), 0).is_none());
    }

    #[test]
    fn forgetting_a_client_drops_its_secrets() {
        let cache = RegistryCache::new();
        let (_, secret) = ClientSecret::generate();
        let tag = cache.tag(&secret);
        cache.remember_verified("svc", tag, 100, 0);
        cache.forget("svc");
        assert!(cache.verified_until("svc", &tag, 0).is_none());
    }

    #[test]
    fn remembering_a_secret_again_extends_it_in_place() {
        let cache = RegistryCache::new();
        let tag = cache.tag(&ClientSecret::generate().1);
        cache.remember_verified("svc", tag, 100, 0);
        cache.remember_verified("svc", tag, 200, 50);
        assert_eq!(cache.verified_until("svc", &tag, 150), Some(200));
        let other = cache.tag(&ClientSecret::generate().1);
        for _ in 0..3 {
            cache.remember_verified("svc", tag, 200, 50);
        }
        cache.remember_verified("svc", other, 200, 50);
        assert!(
            cache.verified_until("svc", &other, 60).is_some(),
            "renewals take no room from other secrets"
        );
    }

    #[test]
    fn a_client_keeps_at_most_four_verified_secrets() {
        let cache = RegistryCache::new();
        let tags: Vec<_> = (0..6).map(|_| cache.tag(&ClientSecret::generate().1)).collect();
        for tag in &tags {
            cache.remember_verified("svc", *tag, 100, 0);
        }
        assert!(cache.verified_until("svc", &tags[3], 0).is_some());
        assert!(cache.verified_until("svc", &tags[4], 0).is_none());
    }

    #[test]
    fn tags_depend_on_the_process_key() {
        let (_, secret) = ClientSecret::generate();
        assert_ne!(RegistryCache::new().tag(&secret), RegistryCache::new().tag(&secret));
    }
}
