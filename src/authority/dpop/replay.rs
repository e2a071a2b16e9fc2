//! Proofs already used, remembered per instance for as long as they could be
//! accepted, so a proof works once. Memory is bounded: a proof is a 64-bit
//! keyed hash and an expiry, in sixteen shards; a shard that is full of live
//! proofs refuses new ones (the caller retries) rather than forget any, so a
//! flood can slow proofs down but never reopen a replay. Expired proofs are
//! dropped at every upkeep, so memory follows the live proofs, idle or not.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Mutex, PoisonError},
};

const SHARDS: usize = 16;

/// What happened to a proof offered for its first use.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstUse {
    Yes,
    /// Seen before within its window.
    Replayed,
    /// No room: too many live proofs on this instance.
    Full,
}

pub struct SeenProofs {
    shards: [Mutex<HashMap<u64, i64>>; SHARDS],
    per_shard: usize,
    /// Keys the hash per process, so nobody can aim collisions at it.
    hasher: RandomState,
}

impl SeenProofs {
    /// Room for `capacity` live proofs in all.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        }
    }

    /// Records the proof `jti` of the key `jkt`, good until `until`, unless it was seen.
    pub fn first_use(&self, jkt: &str, jti: &str, until: i64, now: i64) -> FirstUse {
        let key = self.hasher.hash_one((jkt, jti));
        let mut shard =
            self.shards[(key % SHARDS as u64) as usize].lock().unwrap_or_else(PoisonError::into_inner);
        if shard.get(&key).is_some_and(|seen_until| now < *seen_until) {
            return FirstUse::Replayed;
        }
        if shard.len() >= self.per_shard {
            shard.retain(|_, seen_until| now < *seen_until);
            if shard.len() >= self.per_shard {
                return FirstUse::Full;
            }
        }
        shard.insert(key, until);
        FirstUse::Yes
    }

    /// Drops the proofs that could no longer be accepted at `now`, and the
    /// memory they held.
    pub fn forget_expired(&self, now: i64) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.retain(|_, seen_until| now < *seen_until);
            if shard.capacity() > 2 * shard.len() {
                shard.shrink_to_fit();
            }
        }
    }

    /// How many proofs are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_used_once_within_its_window() {
        let seen = SeenProofs::new(64);
        assert_eq!(seen.first_use("key", "a", 100, 0), FirstUse::Yes);
        assert_eq!(seen.first_use("key", "a", 100, 50), FirstUse::Replayed);
        assert_eq!(seen.first_use("other-key", "a", 100, 50), FirstUse::Yes, "jti is per key");
        assert_eq!(seen.first_use("key", "a", 200, 100), FirstUse::Yes, "past its window it is forgotten");
    }

    #[test]
    fn expired_proofs_are_forgotten_at_upkeep_and_live_ones_kept() {
        let seen = SeenProofs::new(1000);
        for n in 0..100 {
            seen.first_use("k", &n.to_string(), if n < 60 { 10 } else { 100 }, 0);
        }
        seen.forget_expired(10);
        assert_eq!(seen.len(), 40);
        assert_eq!(seen.first_use("k", "70", 100, 11), FirstUse::Replayed, "a live proof is still known");
    }

    #[test]
    fn a_full_instance_refuses_rather_than_forgets() {
        let seen = SeenProofs::new(SHARDS);
        let mut full = 0;
        for n in 0..200 {
            if seen.first_use("key", &n.to_string(), 100, 0) == FirstUse::Full {
                full += 1;
            }
        }
        assert!(full > 0, "bounded");
        assert!(
            (0..200).all(|n| seen.first_use("key", &n.to_string(), 100, 1) != FirstUse::Yes),
            "nothing forgotten"
        );
        assert_eq!(seen.first_use("key", "late", 300, 100), FirstUse::Yes, "expired proofs make room");
    }
}
