//! Failure throttling: failed client authentications are counted per client
//! id and per source address over a sliding five-minute window, across the
//! instances on one database (each adds its counts at upkeep, not a write per
//! attempt). Past a limit, cold checks for that client id or from that
//! address are refused without running argon2 until the window has passed.
//! A client whose secret is in the verified cache never gets here; and since
//! the client-id limit exists to bound argon2 work, not to deny the client, a
//! throttled client id still gets a trickle of cold checks (addresses that
//! succeeded for it lately first), so someone who knows a client's id cannot
//! cut it off, and their guesses cost at most that trickle. A secret that
//! proved itself for the client within the hour (known by its keyed tag,
//! which no guesser can make without the secret) skips the trickle: a cold
//! check with the right secret is never queued behind an attacker's.

use std::{
    collections::{HashMap, HashSet},
    net::IpAddr,
    sync::{
        Mutex, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use serde_json::json;
use subtle::ConstantTimeEq;

use super::verified::SecretTag;
use crate::{
    authority::{Actor, AuthError, EventType},
    store::{EventRow, FailureCount, Store},
};

/// How far back failures count.
pub const WINDOW_SECONDS: i64 = 300;
/// Subjects counted between two upkeeps at most; past it new ones are not
/// counted until the next flush (an attacker with endless addresses cannot
/// grow this without bound).
const MAX_PENDING: usize = 10_000;

/// While a client id is throttled, one cold check for it runs at most this
/// often from an address it succeeded from lately...
const TRICKLE_KNOWN_SECONDS: i64 = 1;
/// ...and this often from any other address.
const TRICKLE_ANY_SECONDS: i64 = 5;
/// How long an address that a client succeeded from counts as its own.
const KNOWN_FOR_SECONDS: i64 = 3600;
/// Addresses remembered per client; the oldest is forgotten first.
const KNOWN_PER_CLIENT: usize = 4;

/// Failures in the window past which cold checks are refused; 0 turns a
/// limit off (behind a proxy that hides callers' addresses, every caller
/// shares the proxy's, and an address limit would throttle them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimits {
    pub per_client: i64,
    pub per_address: i64,
}

impl Default for FailureLimits {
    fn default() -> Self {
        Self { per_client: 50, per_address: 200 }
    }
}

/// Whose failures are counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Client(String),
    Address(IpAddr),
}

impl Subject {
    fn kind(&self) -> &'static str {
        match self {
            Subject::Client(_) => "client",
            Subject::Address(_) => "address",
        }
    }

    /// Its place in per-kind counters: client 0, address 1.
    fn index(&self) -> usize {
        match self {
            Subject::Client(_) => 0,
            Subject::Address(_) => 1,
        }
    }

    fn text(&self) -> String {
        match self {
            Subject::Client(id) => id.clone(),
            Subject::Address(address) => address.to_string(),
        }
    }

    fn read(count: &FailureCount) -> Option<Self> {
        match count.subject_kind.as_str() {
            "client" => Some(Subject::Client(count.subject.clone())),
            "address" => count.subject.parse().ok().map(Subject::Address),
            _ => None,
        }
    }
}

/// This instance's view of recent failures.
pub struct Throttle {
    limits: FailureLimits,
    /// Names this instance's rows, so instances add to their own counts.
    instance: String,
    /// Failures counted here since the last upkeep, by subject, then minute.
    pending: Mutex<HashMap<Subject, HashMap<i64, i64>>>,
    /// Every instance's failures in the window, as read at the last upkeep,
    /// for the subjects near a limit.
    totals: RwLock<HashMap<Subject, i64>>,
    changes: ThrottleChanges,
    /// Per client id: where it succeeded lately, and when a throttled cold check may next run.
    trickles: Mutex<HashMap<String, Trickle>>,
}

/// A client's way through its own throttling.
#[derive(Debug, Default)]
struct Trickle {
    /// Addresses it succeeded from, with when.
    known: Vec<(IpAddr, i64)>,
    /// Tags of the secrets it succeeded with, with when.
    proven: Vec<(SecretTag, i64)>,
    /// When the next cold check from a known address may run, and from any.
    next_known: i64,
    next_any: i64,
}

impl Trickle {
    fn knows(&self, address: Option<IpAddr>, now: i64) -> bool {
        address.is_some_and(|address| {
            self.known.iter().any(|(known, at)| *known == address && now - at < KNOWN_FOR_SECONDS)
        })
    }

    /// Whether `tag` is a secret's the client proved itself with lately
    /// (compared in constant time).
    fn proved(&self, tag: &SecretTag, now: i64) -> bool {
        self.proven.iter().any(|(known, at)| now - at < KNOWN_FOR_SECONDS && bool::from(known.ct_eq(tag)))
    }

    /// Takes the slot of `address` if it is free at `now`.
    fn take(&mut self, address: Option<IpAddr>, now: i64) -> bool {
        let (next, every) = match self.knows(address, now) {
            true => (&mut self.next_known, TRICKLE_KNOWN_SECONDS),
            false => (&mut self.next_any, TRICKLE_ANY_SECONDS),
        };
        let free = now >= *next;
        if free {
            *next = now + every;
        }
        free
    }
}

/// Puts `item` last in `recent` with `now`, dropping its older entry and,
/// past [`KNOWN_PER_CLIENT`], the oldest.
fn remember<T: PartialEq>(recent: &mut Vec<(T, i64)>, item: T, now: i64) {
    recent.retain(|(known, _)| *known != item);
    if recent.len() == KNOWN_PER_CLIENT {
        recent.remove(0);
    }
    recent.push((item, now));
}

/// How often throttling started and ended here, per kind (client, address).
#[derive(Debug, Default)]
struct ThrottleChanges {
    started: [AtomicU64; 2],
    ended: [AtomicU64; 2],
}

/// Throttling counts of one kind of subject, for metrics.
#[derive(Debug, Clone, Default)]
pub struct ThrottleCounts {
    pub kind: &'static str,
    pub started: u64,
    pub ended: u64,
    /// Subjects throttled now.
    pub current: u64,
}

impl Throttle {
    pub fn new(limits: FailureLimits, instance: String) -> Self {
        Self {
            limits,
            instance,
            pending: Mutex::default(),
            totals: RwLock::default(),
            changes: ThrottleChanges::default(),
            trickles: Mutex::default(),
        }
    }

    /// The id that names this instance's rows.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// How often throttling started and ended, and how many subjects it holds now, per kind.
    pub fn counts(&self) -> Vec<ThrottleCounts> {
        let throttled = self.throttled(&self.totals.read().unwrap_or_else(PoisonError::into_inner));
        ["client", "address"]
            .into_iter()
            .enumerate()
            .map(|(index, kind)| ThrottleCounts {
                kind,
                started: self.changes.started[index].load(Ordering::Relaxed),
                ended: self.changes.ended[index].load(Ordering::Relaxed),
                current: throttled.iter().filter(|subject| subject.index() == index).count() as u64,
            })
            .collect()
    }

    /// Counts one failed check of `client_id` from `address` at `now`.
    pub fn record_failure(&self, client_id: &str, address: Option<IpAddr>, now: i64) {
        let minute = now - now.rem_euclid(60);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let subjects =
            std::iter::once(Subject::Client(client_id.to_owned())).chain(address.map(Subject::Address));
        for subject in subjects {
            if pending.len() < MAX_PENDING || pending.contains_key(&subject) {
                *pending.entry(subject).or_default().entry(minute).or_default() += 1;
            }
        }
    }

    /// Whether a cold check of `client_id` from `address` with the secret
    /// tagged `tag` may run at `now`: never from an address over its limit;
    /// for a client id over its limit, with a secret it proved itself with
    /// lately, or else only in the client's trickle.
    pub fn admits(&self, client_id: &str, address: Option<IpAddr>, tag: &SecretTag, now: i64) -> bool {
        let over = |subject: &Subject, limit: i64| limit > 0 && self.failures(subject) >= limit;
        if address.is_some_and(|address| over(&Subject::Address(address), self.limits.per_address)) {
            return false;
        }
        if !over(&Subject::Client(client_id.to_owned()), self.limits.per_client) {
            return true;
        }
        let mut trickles = self.trickles.lock().unwrap_or_else(PoisonError::into_inner);
        if trickles.len() >= MAX_PENDING && !trickles.contains_key(client_id) {
            trickles.retain(|_, trickle| trickle.known.iter().any(|(_, at)| now - at < KNOWN_FOR_SECONDS));
        }
        let trickle = trickles.entry(client_id.to_owned()).or_default();
        trickle.proved(tag, now) || trickle.take(address, now)
    }

    /// Remembers that `client_id` proved itself from `address` with the
    /// secret tagged `tag` at `now`.
    pub fn record_success(&self, client_id: &str, address: Option<IpAddr>, tag: SecretTag, now: i64) {
        let mut trickles = self.trickles.lock().unwrap_or_else(PoisonError::into_inner);
        if trickles.len() >= MAX_PENDING && !trickles.contains_key(client_id) {
            return;
        }
        let trickle = trickles.entry(client_id.to_owned()).or_default();
        remember(&mut trickle.proven, tag, now);
        if let Some(address) = address {
            remember(&mut trickle.known, address, now);
        }
    }

    fn failures(&self, subject: &Subject) -> i64 {
        let synced =
            self.totals.read().unwrap_or_else(PoisonError::into_inner).get(subject).copied().unwrap_or(0);
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let unsynced: i64 = pending.get(subject).map_or(0, |minutes| minutes.values().sum());
        synced + unsynced
    }

    /// Adds this instance's counts to the store, reads every instance's
    /// totals for the window, and logs where throttling starts or ends,
    /// returning the audit events that say so. Counts that could not be
    /// written are kept for the next round.
    pub async fn sync(&self, store: &Store, now: i64) -> Result<Vec<EventRow>, AuthError> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        let counts: Vec<FailureCount> = pending
            .iter()
            .flat_map(|(subject, minutes)| {
                minutes.iter().map(|(minute, failures)| FailureCount {
                    subject_kind: subject.kind().into(),
                    subject: subject.text(),
                    minute: *minute,
                    failures: *failures,
                })
            })
            .collect();
        if let Err(err) = store.add_failures(&self.instance, &counts).await {
            let mut kept = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for (subject, minutes) in pending {
                let kept_minutes = kept.entry(subject).or_default();
                for (minute, failures) in minutes {
                    *kept_minutes.entry(minute).or_default() += failures;
                }
            }
            return Err(err.into());
        }
        // The current minute and the ones before it, back to the window's length.
        let since = now - now.rem_euclid(60) - (WINDOW_SECONDS - 60);
        let limits = [self.limits.per_client, self.limits.per_address];
        let least = limits.into_iter().filter(|limit| *limit > 0).min().unwrap_or(i64::MAX);
        let totals: HashMap<Subject, i64> = store
            .failures_since(since, least)
            .await?
            .iter()
            .filter_map(|count| Subject::read(count).map(|subject| (subject, count.failures)))
            .collect();
        let before = self.throttled(&self.totals.read().unwrap_or_else(PoisonError::into_inner));
        let after = self.throttled(&totals);
        let mut events = Vec::new();
        let event = |kind, subject: &Subject| {
            let details =
                json!({ "kind": subject.kind(), "failures": totals.get(subject), "instance": self.instance });
            Actor::server().event(now * 1000, kind, &subject.text(), details)
        };
        for subject in after.difference(&before) {
            tracing::warn!(subject = %subject.text(), kind = subject.kind(), "too many failed authentications: cold checks refused for the next minutes");
            self.changes.started[subject.index()].fetch_add(1, Ordering::Relaxed);
            events.push(event(EventType::ThrottlingStarted, subject));
        }
        for subject in before.difference(&after) {
            tracing::info!(subject = %subject.text(), kind = subject.kind(), "failed authentications back under the limit: throttling lifted");
            self.changes.ended[subject.index()].fetch_add(1, Ordering::Relaxed);
            events.push(event(EventType::ThrottlingEnded, subject));
        }
        *self.totals.write().unwrap_or_else(PoisonError::into_inner) = totals;
        store.purge_failures(since).await?;
        Ok(events)
    }

    fn throttled(&self, totals: &HashMap<Subject, i64>) -> HashSet<Subject> {
        totals
            .iter()
            .filter(|(subject, failures)| {
                let limit = match subject {
                    Subject::Client(_) => self.limits.per_client,
                    Subject::Address(_) => self.limits.per_address,
                };
                limit > 0 && **failures >= limit
            })
            .map(|(subject, _)| subject.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag of a guess: no secret's.
    const GUESS: SecretTag = [0; 32];

    #[test]
    fn failures_past_the_limit_throttle_the_client_and_the_address_separately() {
        let throttle = Throttle::new(FailureLimits { per_client: 3, per_address: 5 }, "i".into());
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(throttle.admits("victim", None, &GUESS, 1000));
            throttle.record_failure("victim", Some(address), 1000);
        }
        assert!(throttle.admits("victim", None, &GUESS, 1000), "the trickle's first check");
        assert!(!throttle.admits("victim", None, &GUESS, 1000));
        assert!(throttle.admits("bystander", None, &GUESS, 1000));
        assert!(throttle.admits("bystander", Some(address), &GUESS, 1000), "3 of the address's 5");
        throttle.record_failure("other", Some(address), 1000);
        throttle.record_failure("other", Some(address), 1000);
        assert!(!throttle.admits("bystander", Some(address), &GUESS, 1000), "5 from the address");
        let off = Throttle::new(FailureLimits { per_client: 3, per_address: 0 }, "i".into());
        for i in 0..10 {
            off.record_failure(&format!("c{i}"), Some(address), 1000);
        }
        assert!(off.admits("bystander", Some(address), &GUESS, 1000), "an address limit of 0 is off");
    }

    #[test]
    fn a_throttled_client_still_gets_a_trickle_and_its_own_addresses_go_first() {
        let throttle = Throttle::new(FailureLimits { per_client: 1, per_address: 0 }, "i".into());
        let (home, attacker): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "198.51.100.7".parse().unwrap());
        throttle.record_success("victim", Some(home), [7; 32], 900);
        throttle.record_failure("victim", Some(attacker), 1000);
        let admitted = |from: IpAddr, seconds: std::ops::Range<i64>| {
            seconds.filter(|now| throttle.admits("victim", Some(from), &GUESS, *now)).count()
        };
        assert_eq!(admitted(attacker, 1000..1060), 12, "one in every 5 s from anywhere");
        assert_eq!(admitted(home, 1000..1060), 60, "one a second from where it succeeded lately");
        assert_eq!(admitted(home, 900 + KNOWN_FOR_SECONDS..960 + KNOWN_FOR_SECONDS), 12, "until that is old");
    }

    #[test]
    fn a_secret_that_proved_itself_lately_skips_the_trickle_from_any_address() {
        let throttle = Throttle::new(FailureLimits { per_client: 1, per_address: 0 }, "i".into());
        let (home, elsewhere): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "203.0.113.9".parse().unwrap());
        let right: SecretTag = [7; 32];
        throttle.record_success("victim", Some(home), right, 900);
        throttle.record_failure("victim", Some(elsewhere), 1000);
        assert!(throttle.admits("victim", Some(elsewhere), &GUESS, 1000), "the trickle's slot");
        assert!(!throttle.admits("victim", Some(elsewhere), &GUESS, 1000), "taken by the guesser");
        for _ in 0..5 {
            assert!(throttle.admits("victim", Some(elsewhere), &right, 1000), "the right secret, at once");
        }
        let later = 900 + KNOWN_FOR_SECONDS;
        throttle.record_failure("victim", Some(elsewhere), later);
        assert!(throttle.admits("victim", Some(elsewhere), &GUESS, later), "the trickle's slot, an hour on");
        assert!(
            !throttle.admits("victim", Some(elsewhere), &right, later),
            "no longer ahead of it after an hour"
        );
    }
}
