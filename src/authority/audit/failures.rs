//! Failed authentications, tallied per client id and minute in memory and
//! written as one `client_authentication_failed` event per client per minute,
//! so a flood of wrong credentials costs no write per attempt; the failures
//! of ids no client has fold into one event per minute, so a flood of
//! made-up ids costs one row.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    net::IpAddr,
    sync::{Mutex, PoisonError},
};

use serde_json::json;

use super::{Actor, EventType};
use crate::store::EventRow;

/// Client ids tallied apart at most, over the minutes not yet written (the
/// upkeep writes each soon after it ends); failures for further ids are
/// counted under [`OTHERS`], so memory stays bounded.
const MAX_CLIENTS_PER_MINUTE: usize = 10_000;
/// The target of failures tallied under no client of their own: ids no
/// client has, ids past the limit, and refusals that named no client.
pub const OTHERS: &str = "*";
/// Addresses counted apart per tally at most.
const MAX_TRACKED_ADDRESSES: usize = 64;
/// Addresses (the most frequent first) and client ids named in one event at most.
const MAX_NAMED: usize = 10;

/// The failures of one client id in one minute.
#[derive(Debug, Default)]
pub struct Tally {
    client_id: String,
    minute: i64,
    count: u64,
    /// Failures by the method that failed.
    methods: BTreeMap<&'static str, u64>,
    /// Failures by source address, for the first addresses seen.
    addresses: HashMap<IpAddr, u64>,
    /// For [`OTHERS`]: the ids folded in, the first few by name.
    folded: Option<Folded>,
}

/// The ids no client has whose failures one tally holds.
#[derive(Debug, Default)]
struct Folded {
    distinct: u64,
    named: BTreeSet<String>,
}

impl Tally {
    fn new(client_id: &str, minute: i64) -> Self {
        Self { client_id: client_id.to_owned(), minute, ..Self::default() }
    }

    /// The client id this tally counts failures of.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The event that records this tally, written at `now` (Unix milliseconds).
    pub fn event(self, now: i64) -> EventRow {
        let addresses = self.top_addresses();
        let origin = addresses.first().map(ToString::to_string).unwrap_or_default();
        let mut details = json!({
            "count": self.count,
            "methods": self.methods,
            "minute_start": self.minute,
            "addresses": addresses,
        });
        if let Some(folded) = self.folded {
            details["distinct_client_ids"] = json!(folded.distinct);
            details["client_ids"] = json!(folded.named);
        }
        Actor::anonymous(origin).event(now, EventType::ClientAuthenticationFailed, &self.client_id, details)
    }

    /// The addresses that failed most, most first.
    fn top_addresses(&self) -> Vec<IpAddr> {
        let mut ranked: Vec<(&IpAddr, &u64)> = self.addresses.iter().collect();
        ranked.sort_by(|(a, a_count), (b, b_count)| b_count.cmp(a_count).then(a.cmp(b)));
        ranked.into_iter().take(MAX_NAMED).map(|(address, _)| *address).collect()
    }

    /// Adds `other`'s failures to this tally's.
    fn absorb(&mut self, other: Tally) {
        self.count += other.count;
        for (method, count) in other.methods {
            *self.methods.entry(method).or_default() += count;
        }
        for (address, count) in other.addresses {
            self.count_address(address, count);
        }
        let folded = self.folded.get_or_insert_with(Folded::default);
        match (other.folded, other.client_id == OTHERS) {
            (Some(theirs), _) => {
                folded.distinct += theirs.distinct;
                folded.named.extend(theirs.named);
            }
            // Past the limit or unnamed: counted, with no id to tell apart.
            (None, true) => {}
            (None, false) => {
                folded.distinct += 1;
                folded.named.insert(other.client_id);
            }
        }
        while folded.named.len() > MAX_NAMED {
            folded.named.pop_last();
        }
    }

    fn count_address(&mut self, address: IpAddr, count: u64) {
        let tracked = self.addresses.len() < MAX_TRACKED_ADDRESSES;
        match self.addresses.get_mut(&address) {
            Some(seen) => *seen += count,
            None if tracked => {
                self.addresses.insert(address, count);
            }
            None => {}
        }
    }
}

/// `tallies`, with those of ids not among `registered` (and of [`OTHERS`])
/// folded into one per minute under [`OTHERS`].
pub fn fold_unregistered(tallies: Vec<Tally>, registered: &HashSet<String>) -> Vec<Tally> {
    let mut kept = Vec::new();
    let mut folded: BTreeMap<i64, Tally> = BTreeMap::new();
    for tally in tallies {
        if tally.client_id != OTHERS && registered.contains(&tally.client_id) {
            kept.push(tally);
            continue;
        }
        let minute = tally.minute;
        folded.entry(minute).or_insert_with(|| Tally::new(OTHERS, minute)).absorb(tally);
    }
    kept.extend(folded.into_values());
    kept
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
        let key = match tallies.contains_key(&key) || tallies.len() < MAX_CLIENTS_PER_MINUTE {
            true => key,
            false => (minute, OTHERS.to_owned()),
        };
        let tally = tallies.entry(key).or_insert_with_key(|(minute, id)| Tally::new(id, *minute));
        tally.count += 1;
        *tally.methods.entry(method).or_default() += 1;
        if let Some(address) = address {
            tally.count_address(address, 1);
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

    #[test]
    fn failures_of_ids_no_client_has_fold_into_one_event_a_minute() {
        let tallies = FailureTallies::default();
        let (busy, quiet): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for i in 0..30 {
            tallies.record(&format!("ghost-{i}"), "client_secret", Some(busy), 60);
        }
        tallies.record("ghost-0", "client_assertion", Some(quiet), 61);
        tallies.record(OTHERS, "client_assertion", Some(quiet), 62);
        tallies.record("svc", "client_secret", Some(quiet), 63);
        let registered = HashSet::from(["svc".to_owned()]);

        let folded = fold_unregistered(tallies.take_ended(120), &registered);
        let mut events: Vec<EventRow> = folded.into_iter().map(|tally| tally.event(120_000)).collect();
        events.sort_by(|a, b| a.target.cmp(&b.target));
        let targets: Vec<&str> = events.iter().map(|event| event.target.as_str()).collect();
        assert_eq!(targets, [OTHERS, "svc"]);
        let details: serde_json::Value = serde_json::from_str(&events[0].details).unwrap();
        assert_eq!(details["count"], 32);
        assert_eq!(details["distinct_client_ids"], 30);
        assert_eq!(details["client_ids"].as_array().unwrap().len(), MAX_NAMED);
        assert_eq!(details["client_ids"][0], "ghost-0");
        assert_eq!(details["methods"]["client_assertion"], 2);
        assert_eq!(details["addresses"], json!(["192.0.2.1", "192.0.2.2"]), "the busiest address first");
        assert_eq!(events[0].origin, "192.0.2.1");
    }
}
