//! Fair shares of the argon2 queue: at most a few checks for one client id,
//! and a few more from one source address, are waiting or running at once.
//! A flood of guesses against one client, or from one machine, is refused
//! with `temporarily_unavailable` beyond that share, so it cannot take the
//! queue that other clients' cold checks need. Only cold checks come here;
//! a client whose secret is in the verified cache never does.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use crate::authority::AuthError;

/// Argon2 checks for one client id that may be waiting or running at once.
pub const PER_CLIENT: usize = 2;
/// Argon2 checks from one source address, over all client ids: a quarter of
/// the queue, as a host that runs many services (or a NAT or load balancer
/// in front of them) restarts them together.
pub const PER_ADDRESS: usize = 16;

/// How many checks each client id and each address has in the queue now.
#[derive(Default)]
pub struct Admissions {
    clients: Counts<String>,
    addresses: Counts<IpAddr>,
}

impl Admissions {
    /// A place in the argon2 queue for a check of `client_id` from `address`,
    /// held until the returned guard goes; `Busy` when either share is taken.
    pub fn admit(self: &Arc<Self>, client_id: &str, address: Option<IpAddr>) -> Result<Admitted, AuthError> {
        let busy = || {
            AuthError::Busy("too many credential checks for this client are running; retry shortly".into())
        };
        if !self.clients.take(client_id, PER_CLIENT) {
            return Err(busy());
        }
        if let Some(address) = address
            && !self.addresses.take(&address, PER_ADDRESS)
        {
            self.clients.give_back(client_id);
            return Err(busy());
        }
        Ok(Admitted { admissions: self.clone(), client_id: client_id.to_owned(), address })
    }
}

/// A check's place in the queue, given back when it is dropped.
pub struct Admitted {
    admissions: Arc<Admissions>,
    client_id: String,
    address: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.admissions.clients.give_back(&self.client_id);
        if let Some(address) = &self.address {
            self.admissions.addresses.give_back(address);
        }
    }
}

/// Counts per key; a key at zero is removed, so the map holds only what is in the queue.
struct Counts<K>(Mutex<HashMap<K, usize>>);

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash + Clone> Counts<K> {
    /// Counts one more for `key` unless it has `limit` already.
    fn take<Q>(&self, key: &Q, limit: usize) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match counts.get_mut(key) {
            Some(count) if *count >= limit => false,
            Some(count) => {
                *count += 1;
                true
            }
            None => {
                counts.insert(key.to_owned(), 1);
                true
            }
        }
    }

    fn give_back<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_gets_at_most_its_share_and_gets_it_back() {
        let admissions = Arc::new(Admissions::default());
        let first = admissions.admit("victim", None).unwrap();
        let _second = admissions.admit("victim", None).unwrap();
        assert!(matches!(admissions.admit("victim", None), Err(AuthError::Busy(_))));
        assert!(admissions.admit("bystander", None).is_ok(), "other clients are not held up");
        drop(first);
        assert!(admissions.admit("victim", None).is_ok());
    }

    #[test]
    fn one_address_gets_at_most_its_share_over_all_clients() {
        let admissions = Arc::new(Admissions::default());
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let held: Vec<_> =
            (0..PER_ADDRESS).map(|i| admissions.admit(&format!("c{i}"), Some(address)).unwrap()).collect();
        assert!(admissions.admit("another", Some(address)).is_err());
        assert!(admissions.admit("another", Some("192.0.2.8".parse().unwrap())).is_ok());
        drop(held);
        assert!(admissions.admit("another", Some(address)).is_ok());
        assert!(admissions.clients.0.lock().unwrap().len() <= 1, "released keys are forgotten");
    }
}
