//! One small cache for every use: a bounded map whose entries last until a
//! time the caller names, in whole Unix seconds on the caller's own clock (so
//! tests move that clock rather than sleep). When full, expired entries go
//! first, and everything if that is not enough: nothing a caller sends can
//! grow it without bound, and a cache that fills with live entries starts over
//! rather than refusing every newcomer.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{PoisonError, RwLock},
};

/// A value and the first second it is no longer good.
struct Entry<V> {
    value: V,
    until: i64,
}

/// A bounded map of expiring entries, safe to share between threads.
pub struct Expiring<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> Expiring<K, V> {
    /// A cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self { entries: RwLock::default(), capacity }
    }

    /// `read` applied to the value under `key`, if it is still good at `now`
    /// (`now < until`); nothing is copied out.
    pub fn read<Q, R>(&self, key: &Q, now: i64, read: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|entry| now < entry.until).map(|entry| read(&entry.value))
    }

    /// The value under `key`, if it is still good at `now`.
    pub fn get<Q>(&self, key: &Q, now: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.read(key, now, V::clone)
    }

    /// Keeps `value` under `key` until `until`.
    pub fn insert(&self, key: K, value: V, until: i64, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.make_room(&mut entries, now);
        entries.insert(key, Entry { value, until });
    }

    /// Changes the value under `key` in place, starting from the default when
    /// it is missing or expired, and keeps it at least until `until`.
    pub fn update(&self, key: K, until: i64, now: i64, change: impl FnOnce(&mut V))
    where
        V: Default,
    {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if !entries.contains_key(&key) {
            self.make_room(&mut entries, now);
        }
        let entry = entries.entry(key).or_insert_with(|| Entry { value: V::default(), until });
        if entry.until <= now {
            *entry = Entry { value: V::default(), until };
        }
        entry.until = entry.until.max(until);
        change(&mut entry.value);
    }

    /// Forgets the entry under `key`.
    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// How many entries are held, expired or not.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, entries: &mut HashMap<K, Entry<V>>, now: i64) {
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| now < entry.until);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_good_until_its_time_and_not_at_it() {
        let cache = Expiring::new(4);
        cache.insert("a", 1, 100, 0);
        assert_eq!(cache.get("a", 99), Some(1));
        assert_eq!(cache.get("a", 100), None);
        assert_eq!(cache.get("b", 0), None);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let cache = Expiring::new(2);
        cache.insert("old", 1, 10, 0);
        cache.insert("live", 2, 100, 0);
        cache.insert("new", 3, 100, 50);
        assert_eq!(cache.get("live", 50), Some(2));
        assert_eq!(cache.get("new", 50), Some(3));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_cache_full_of_live_entries_starts_over() {
        let cache = Expiring::new(2);
        cache.insert("a", 1, 100, 0);
        cache.insert("b", 2, 100, 0);
        cache.insert("c", 3, 100, 0);
        assert_eq!(cache.get("c", 0), Some(3));
        assert!(cache.len() <= 2);
    }

    #[test]
    fn update_starts_from_the_default_once_an_entry_expired() {
        let cache: Expiring<&str, Vec<u8>> = Expiring::new(4);
        cache.update("a", 10, 0, |values| values.push(1));
        cache.update("a", 20, 5, |values| values.push(2));
        assert_eq!(cache.get("a", 15), Some(vec![1, 2]), "kept until the later time");
        cache.update("a", 40, 30, |values| values.push(3));
        assert_eq!(cache.get("a", 30), Some(vec![3]));
    }

    #[test]
    fn removed_and_cleared_entries_are_gone() {
        let cache = Expiring::new(4);
        cache.insert("a", 1, 100, 0);
        cache.insert("b", 2, 100, 0);
        cache.remove("a");
        assert_eq!(cache.get("a", 0), None);
        cache.clear();
        assert!(cache.is_empty());
    }
}
