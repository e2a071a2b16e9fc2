//! Failed authentications, tallied per client id and minute in memory and
//! written as one `client_authentication_failed` event per client per minute,
//! so a flood of wrong credentials costs no write per attempt.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::IpAddr,
    sync::{Mutex, PoisonError},
};

use serde_json::json;

use super::{Actor, EventType};
use crate::store::EventRow;

/// Client ids tallied per minute at most; failures for further ids in that
/// minute are counted under [`OTHERS`] (an attacker spraying made-up ids
/// cannot make a row per id).
const MAX_CLIENTS_PER_MINUTE: usize = 1_000;
/// The target of failures tallied under no client id of their own: the ids
/// past the limit, and refusals that named no client.
pub const OTHERS: &str = "*";
/// Addresses named in one event at most.
const MAX_ADDRESSES: usize = 10;

/// The failures of one client id in one minute.
#[derive(Debug, Default)]
pub struct Tally {
    client_id: String,
    minute: i64,
    count: u64,
    /// Failures by the method that failed.
    methods: BTreeMap<&'static str, u64>,
    addresses: BTreeSet<IpAddr>,
}

impl Tally {
    /// The event that records this tally, written at `now` (Unix milliseconds).
    pub fn event(self, now: i64) -> EventRow {
        let origin = self.addresses.iter().next().map(ToString::to_string).unwrap_or_default();
        let details = json!({
            "count": self.count,
            "methods": self.methods,
            "minute_start": self.minute,
            "addresses": self.addresses,
        });
        Actor::anonymous(origin).event(now, EventType::ClientAuthenticationFailed, &self.client_id, details)
    }
}

/// This instance's tallies of minutes not yet written.
#[derive(Debug, Default)]
pub struct FailureTallies {
    tallies: Mutex<HashMap<(i64, String), Tally>>,
}

impl FailureTallies {
    /// Counts one failure at `now` (Unix seconds).
    pub fn record(&self, client_id: &str, method: &'static str, address: Option<IpAddr>, now: i64) {
        let minute = now - now.rem_euclid(60);
        let mut tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (minute, client_id.to_owned());
        let key = match tallies.contains_key(&key)
            || tallies.keys().filter(|(m, _)| *m == minute).count() < MAX_CLIENTS_PER_MINUTE
        {
            true => key,
            false => (minute, OTHERS.to_owned()),
        };
        let tally = tallies.entry(key).or_insert_with_key(|(minute, id)| Tally {
            client_id: id.clone(),
            minute: *minute,
            ..Tally::default()
        });
        tally.count += 1;
        *tally.methods.entry(method).or_default() += 1;
        if let Some(address) = address
            && tally.addresses.len() < MAX_ADDRESSES
        {
            tally.addresses.insert(address);
        }
    }

    /// The tallies of minutes that ended before `now`, taken out to be written.
    pub fn take_ended(&self, now: i64) -> Vec<Tally> {
        let current = now - now.rem_euclid(60);
        let mut tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let ended: Vec<(i64, String)> =
            tallies.keys().filter(|(minute, _)| *minute < current).cloned().collect();
        ended.into_iter().filter_map(|key| tallies.remove(&key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_client_per_minute_with_counts_by_method() {
        let tallies = FailureTallies::default();
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            tallies.record("svc", "client_secret", Some(address), 120);
        }
        tallies.record("svc", "private_key_jwt", None, 150);
        tallies.record("svc", "client_secret", None, 185);
        assert!(tallies.take_ended(179).is_empty(), "the minute has not ended");
        let ended = tallies.take_ended(181);
        assert_eq!(ended.len(), 1);
        let event = ended.into_iter().next().unwrap().event(181_000);
        assert_eq!(
            (event.event_type.as_str(), event.target.as_str()),
            ("client_authentication_failed", "svc")
        );
        let details: serde_json::Value = serde_json::from_str(&event.details).unwrap();
        assert_eq!(details["count"], 4);
        assert_eq!(details["methods"]["client_secret"], 3);
        assert_eq!(details["addresses"], json!(["192.0.2.7"]));
        assert_eq!(tallies.take_ended(241).len(), 1, "the next minute's failure");
    }

    #[test]
    fn made_up_ids_past_the_limit_share_one_tally() {
        let tallies = FailureTallies::default();
        for i in 0..MAX_CLIENTS_PER_MINUTE + 50 {
            tallies.record(&format!("guess-{i}"), "client_secret", None, 60);
        }
        let ended = tallies.take_ended(120);
        assert_eq!(ended.len(), MAX_CLIENTS_PER_MINUTE + 1);
        let others = ended.iter().find(|tally| tally.client_id == OTHERS).unwrap();
        assert_eq!(others.count, 50);
    }
}
