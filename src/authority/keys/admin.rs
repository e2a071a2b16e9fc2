//! Operator actions on signing keys: rotate to a new key, list, retire an old one.

use serde_json::json;

use super::{
    KeyPolicy, KeyRing, SigningAlgorithm,
    custody::{KeyCustody, in_hsm},
    ring::signer_at,
    schedule::superseded_at,
    sealing::KeySealer,
};
use crate::authority::{Actor, AuthError, Clock, EventType};
use crate::{domain::TokenTtl, store::Store};

/// A stored key as an operator sees it.
#[derive(Debug)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub created_at: i64,
    /// When it starts (or started) signing.
    pub active_from: i64,
    /// Whether servers of its algorithm sign with it now.
    pub signing: bool,
    /// Whether it is yet to start signing.
    pub pending: bool,
    /// When the schedule retires it, if it is superseded and keys rotate on a schedule.
    pub retire_at: Option<i64>,
    /// Whether its private half is in an HSM rather than sealed in the database.
    pub in_hsm: bool,
}

impl KeyInfo {
    /// `pending` (published, not signing yet), `signing`, or `verifying`
    /// (superseded, still checking the tokens it signed).
    pub fn state(&self) -> &'static str {
        match (self.pending, self.signing) {
            (true, _) => "pending",
            (false, true) => "signing",
            (false, false) => "verifying",
        }
    }
}

/// The stored keys and what the servers' recorded schedule says of them.
#[derive(Debug)]
pub struct KeyListing {
    /// Newest first.
    pub keys: Vec<KeyInfo>,
    /// When the next scheduled rotation is due; `None` without a schedule.
    pub next_rotation: Option<i64>,
}

impl KeyRing {
    /// Stores a new key for `algorithm`, dated after every stored key so it is
    /// the newest even within the same second, and returns its kid. It is in
    /// the JWKS at once and signs from `activate_after` seconds on, so
    /// verifiers that cache the key set have it before its first token;
    /// servers switch at their first refresh after that. `actor` is audited.
    pub async fn rotate(
        store: &Store,
        clock: &Clock,
        algorithm: SigningAlgorithm,
        activate_after: i64,
        custody: &KeyCustody,
        actor: &Actor,
    ) -> Result<String, AuthError> {
        let now = clock.now();
        if activate_after < 0 {
            return Err(AuthError::InvalidArgument("a key cannot start signing in the past".into()));
        }
        let rows = store.keys().await?;
        // A key sealed under another key-encryption key would strand the others.
        custody.check(&rows)?;
        let newest = rows.iter().map(|row| row.created_at).max();
        let created_at = newest.map_or(now, |newest| now.max(newest + 1));
        let row = custody.create(algorithm, created_at, now + activate_after)?;
        let details = json!({ "algorithm": row.algorithm, "active_from": row.active_from });
        let event = actor.event(clock.now_millis(), EventType::KeyRotated, &row.kid, details);
        store.insert_key(&row, &[event]).await?;
        Ok(row.kid)
    }

    /// Seals every stored key anew under `new` (they must all open with
    /// `current`), in one transaction: servers keep running and read the keys
    /// with the new key-encryption key once restarted with its file. Nothing
    /// changes when a key does not open with `current`. How many keys were
    /// sealed anew. `actor` is audited.
    pub async fn rekey(
        store: &Store,
        clock: &Clock,
        current: &KeySealer,
        new: &KeySealer,
        actor: &Actor,
    ) -> Result<usize, AuthError> {
        let rows = store.keys().await?;
        let mut resealed = Vec::with_capacity(rows.len());
        for row in &rows {
            // A key in an HSM has nothing sealed; it stays as it is.
            let material = match in_hsm(row) {
                true => row.private_key.clone(),
                false => new.seal(&row.kid, &current.open(&row.kid, &row.private_key)?.pem)?,
            };
            resealed.push((row.kid.clone(), material));
        }
        let details = json!({ "keys": rows.len(), "previous": current.fingerprint() });
        let event = actor.event(clock.now_millis(), EventType::KeysResealed, new.fingerprint(), details);
        if !store.reseal_keys(&resealed, &[event]).await? {
            return Err(AuthError::FailedPrecondition(
                "a signing key was added or retired while re-sealing; nothing changed, run it again".into(),
            ));
        }
        Ok(rows.len())
    }

    /// Every stored key, newest first, with when the schedule the servers
    /// recorded at start rotates and retires them.
    pub async fn list(store: &Store, now: i64) -> Result<KeyListing, AuthError> {
        let rows = store.keys().await?;
        let schedule = store.key_schedule().await?;
        let policy = schedule.as_ref().map(KeyPolicy::from).unwrap_or_default();
        let algorithm = schedule.map(|schedule| schedule.algorithm);
        let keys = rows
            .iter()
            .map(|row| KeyInfo {
                kid: row.kid.clone(),
                algorithm: row.algorithm.clone(),
                created_at: row.created_at,
                active_from: row.active_from,
                signing: signer_at(&rows, &row.algorithm, now).is_some_and(|signer| signer.kid == row.kid),
                pending: row.active_from > now,
                retire_at: algorithm.as_deref().and_then(|alg| policy.retirement(&rows, row, alg)),
                in_hsm: in_hsm(row),
            })
            .collect();
        Ok(KeyListing { keys, next_rotation: policy.next_rotation(&rows) })
    }

    /// Deletes a key, so tokens it signed stop verifying on every server
    /// within seconds and it leaves the JWKS. The key that signs now cannot be
    /// retired; a pending one can (that cancels a rotation); one superseded
    /// less than a maximal token lifetime ago may have signed tokens still
    /// live, and needs `force`. `actor` is audited.
    pub async fn retire(
        store: &Store,
        clock: &Clock,
        kid: &str,
        force: bool,
        actor: &Actor,
    ) -> Result<(), AuthError> {
        let now = clock.now();
        let rows = store.keys().await?;
        let key = rows
            .iter()
            .find(|row| row.kid == kid)
            .ok_or_else(|| AuthError::NotFound(format!("no signing key {kid:?}")))?;
        if signer_at(&rows, &key.algorithm, now).is_some_and(|signer| signer.kid == kid) {
            return Err(AuthError::InvalidArgument(format!(
                "{kid} is the {} key that signs now; rotate first",
                key.algorithm
            )));
        }
        let last_token_expiry = superseded_at(&rows, key, None).map(|at| at + TokenTtl::MAX_SECONDS);
        let pending = key.active_from > now;
        if !force && !pending && last_token_expiry.is_some_and(|expiry| now < expiry) {
            return Err(AuthError::InvalidArgument(format!(
                "tokens signed by {kid} may be live until Unix time {}; retire it then, or use --force",
                last_token_expiry.unwrap_or_default()
            )));
        }
        let details = json!({ "algorithm": key.algorithm, "forced": force });
        store
            .delete_key(kid, &[actor.event(clock.now_millis(), EventType::KeyRetired, kid, details)])
            .await?;
        Ok(())
    }
}
