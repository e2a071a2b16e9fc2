//! Proofs already used, remembered per instance for as long as they could be
//! accepted, so a proof works once. Memory is bounded: a proof is a 64-bit
//! keyed hash and an expiry, in sixteen shards; a shard that is full of live
//! proofs refuses new ones (the caller retries) rather than forget any, so a
//! flood can slow proofs down but never reopen a replay.

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
