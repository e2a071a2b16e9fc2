//! Keys that look after themselves: with a rotation period, the upkeep makes
//! a new key when the newest is older than the period (one instance of a
//! fleet, however many find it due), publishes it at once and lets it sign
//! after the activation delay, and retires superseded keys once every token
//! they signed has expired.

use serde_json::json;
use tokend_common::wire::{JWKS_MAX_AGE_SECONDS, KEY_ACTIVATION_DELAY_SECONDS};

use super::{KeyRing, SigningAlgorithm, custody::KeyCustody, ring::signer_at};
use crate::{
    authority::{Actor, AuthError, Clock, EventType},
    domain::TokenTtl,
    store::{KeyRow, KeyScheduleRow, Store},
};

/// Added to the longest token lifetime before a superseded key may go: the
/// leeway verifiers allow for clocks that disagree, with room to spare.
const RETIREMENT_LEEWAY_SECONDS: i64 = 300;

/// How signing keys rotate and retire, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// How old the newest key may grow before a new one is made; `None`:
    /// keys rotate only by hand (`tokend keys rotate`) and are never retired
    /// without an operator.
    pub rotation_period: Option<i64>,
    /// How long a new key is published before it signs.
    pub activation_delay: i64,
    /// How long after it was superseded a key is retired.
    pub retire_after: i64,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            rotation_period: None,
            activation_delay: KEY_ACTIVATION_DELAY_SECONDS as i64,
            retire_after: Self::MIN_RETIRE_AFTER,
        }
    }
}

impl KeyPolicy {
    /// The soonest a superseded key may be retired: no token it signed is
    /// live by then, whatever lifetime its client had.
    pub const MIN_RETIRE_AFTER: i64 = TokenTtl::MAX_SECONDS + RETIREMENT_LEEWAY_SECONDS;

    /// A policy from what the operator set, each unset part at its default;
    /// refused, saying why, when keys would sign before verifiers could have
    /// them or be retired while their tokens live.
    pub fn new(
        rotation_period: Option<i64>,
        activation_delay: Option<i64>,
        retire_after: Option<i64>,
    ) -> Result<Self, String> {
        let default = Self::default();
        let activation_delay = activation_delay.unwrap_or(default.activation_delay);
        let retire_after = retire_after.unwrap_or(default.retire_after);
        if activation_delay < 0 {
            return Err("--key-activation-delay cannot be negative".into());
        }
        if let Some(period) = rotation_period
            && period <= activation_delay
        {
            return Err(format!(
                "--key-rotation-period ({period} s) must be longer than --key-activation-delay \
                 ({activation_delay} s): each key must sign for a while before the next is made"
            ));
        }
        if retire_after < Self::MIN_RETIRE_AFTER {
            return Err(format!(
                "--key-retire-after ({retire_after} s) cannot be shorter than the longest token \
                 lifetime plus leeway ({} s): tokens a retired key signed would stop verifying",
                Self::MIN_RETIRE_AFTER
            ));
        }
        Ok(Self { rotation_period, activation_delay, retire_after })
    }

    /// How long verifiers may cache the JWKS: never longer than a new key
    /// waits before signing, so a cached key set always holds the signer.
    pub fn jwks_max_age(&self) -> u64 {
        JWKS_MAX_AGE_SECONDS.min(self.activation_delay.unsigned_abs())
    }

    /// The schedule as the store records it for `tokend keys list`.
    pub fn to_row(self, algorithm: SigningAlgorithm, now: i64) -> KeyScheduleRow {
        KeyScheduleRow {
            algorithm: algorithm.as_str().to_owned(),
            rotation_period: self.rotation_period,
            activation_delay: self.activation_delay,
            retire_after: self.retire_after,
            recorded_at: now,
        }
    }

    /// When the next scheduled rotation is due, given the keys (newest first).
    pub fn next_rotation(&self, rows: &[KeyRow]) -> Option<i64> {
        let newest = rows.iter().map(|row| row.created_at).max()?;
        self.rotation_period.map(|period| newest + period)
    }

    /// When `key` will be retired on schedule, if it is superseded and keys
    /// retire on their own.
    pub fn retirement(&self, rows: &[KeyRow], key: &KeyRow, algorithm: &str) -> Option<i64> {
        self.rotation_period?;
        superseded_at(rows, key, Some(algorithm)).map(|at| at + self.retire_after)
    }
}

impl From<&KeyScheduleRow> for KeyPolicy {
    fn from(row: &KeyScheduleRow) -> Self {
        Self {
            rotation_period: row.rotation_period,
            activation_delay: row.activation_delay,
            retire_after: row.retire_after,
        }
    }
}

/// When a newer key took over from `key`: the first activation of a key
/// created after it, of its own algorithm or of `also_by` (the algorithm
/// servers sign with now, when a fleet moves from one to another).
pub(super) fn superseded_at(rows: &[KeyRow], key: &KeyRow, also_by: Option<&str>) -> Option<i64> {
    rows.iter()
        .filter(|row| row.created_at > key.created_at)
        .filter(|row| row.algorithm == key.algorithm || Some(row.algorithm.as_str()) == also_by)
        .map(|row| row.active_from)
        .min()
}

impl KeyRing {
    /// One round of the schedule, at upkeep: makes the next key if the
    /// newest is older than the period (exactly one instance does, however
    /// many find it due) and retires keys whose time has come. Whether the
    /// keys changed. Both are audited with the actor `tokend`.
    pub async fn follow_schedule(
        store: &Store,
        clock: &Clock,
        algorithm: SigningAlgorithm,
        policy: &KeyPolicy,
        custody: &KeyCustody,
    ) -> Result<bool, AuthError> {
        let Some(period) = policy.rotation_period else {
            return Ok(false);
        };
        let now = clock.now();
        let rows = store.keys().await?;
        let mut changed = false;
        if policy.next_rotation(&rows).is_some_and(|due| due <= now) {
            // A key sealed under another key-encryption key (a rekey this
            // server has not been restarted for) would strand the new one.
            custody.check(&rows)?;
            let newest = rows.iter().map(|row| row.created_at).max().unwrap_or(now);
            let row = custody.create(algorithm, now.max(newest + 1), now + policy.activation_delay)?;
            let details =
                json!({ "algorithm": row.algorithm, "active_from": row.active_from, "scheduled": true });
            let event = Actor::server().event(clock.now_millis(), EventType::KeyRotated, &row.kid, details);
            if store.insert_key_if_none_since(&row, now - period, &[event]).await? {
                tracing::info!(kid = %row.kid, active_from = row.active_from, "rotated the signing key on schedule");
                changed = true;
            }
        }
        for key in &rows {
            let due = policy.retirement(&rows, key, algorithm.as_str()).is_some_and(|at| at <= now);
            let signs = signer_at(&rows, algorithm.as_str(), now).is_some_and(|signer| signer.kid == key.kid);
            if !due || signs {
                continue;
            }
            let details = json!({ "algorithm": key.algorithm, "forced": false, "scheduled": true });
            let event = Actor::server().event(clock.now_millis(), EventType::KeyRetired, &key.kid, details);
            if store.delete_key(&key.kid, &[event]).await? {
                tracing::info!(kid = %key.kid, "retired a superseded signing key on schedule");
                changed = true;
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::keys::ring::tests::row;

    #[test]
    fn a_period_must_outlast_the_activation_delay() {
        let refused = KeyPolicy::new(Some(10), Some(10), None).unwrap_err();
        assert!(refused.contains("longer than --key-activation-delay"), "{refused}");
        assert!(KeyPolicy::new(Some(11), Some(10), None).is_ok());
        assert!(KeyPolicy::new(None, Some(-1), None).is_err());
    }

    #[test]
    fn keys_are_never_retired_before_their_tokens_expire() {
        let refused = KeyPolicy::new(Some(60), Some(10), Some(3600)).unwrap_err();
        assert!(refused.contains("longest token lifetime"), "{refused}");
        let longer = KeyPolicy::new(Some(60), Some(10), Some(2 * 86_400)).unwrap();
        assert_eq!(longer.retire_after, 2 * 86_400);
    }

    #[test]
    fn the_jwks_is_cached_no_longer_than_a_new_key_waits() {
        assert_eq!(KeyPolicy::default().jwks_max_age(), JWKS_MAX_AGE_SECONDS);
        assert_eq!(KeyPolicy::new(Some(60), Some(10), None).unwrap().jwks_max_age(), 10);
    }

    #[test]
    fn a_key_is_superseded_by_the_next_of_its_algorithm_or_of_the_fleets() {
        let rows = [
            row("es-new", "ES256", 300, 310),
            row("rs", "RS256", 200, 200),
            row("es-old", "ES256", 100, 100),
        ];
        assert_eq!(superseded_at(&rows, &rows[2], None), Some(310), "not by a key of another algorithm");
        assert_eq!(superseded_at(&rows, &rows[1], None), None);
        assert_eq!(superseded_at(&rows, &rows[1], Some("ES256")), Some(310), "the fleet moved to ES256");
        assert_eq!(superseded_at(&rows, &rows[0], Some("ES256")), None, "the newest is nobody's predecessor");
        let policy = KeyPolicy::new(Some(1000), Some(10), None).unwrap();
        assert_eq!(policy.retirement(&rows, &rows[2], "ES256"), Some(310 + KeyPolicy::MIN_RETIRE_AFTER));
        assert_eq!(policy.next_rotation(&rows), Some(1300));
        assert_eq!(
            KeyPolicy::default().retirement(&rows, &rows[2], "ES256"),
            None,
            "no schedule, no retirement"
        );
    }
}
