//! Operator actions on signing keys: rotate to a new key, list, retire an old one.

use super::{AuthError, KeyRing, SigningAlgorithm, clock, sealing::KeySealer};
use crate::{domain::TokenTtl, store::Store};

/// A stored key as an operator sees it.
#[derive(Debug)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub created_at: i64,
    /// The newest key of its algorithm: what servers of that algorithm sign with.
    pub signing: bool,
}

impl KeyRing {
    /// Stores a new key for `algorithm`, dated after every stored key so it is
    /// the newest even within the same second, and returns its kid. Servers
    /// pick it up at their next refresh and sign with it from then on.
    pub async fn rotate(
        store: &Store,
        algorithm: SigningAlgorithm,
        sealer: &KeySealer,
    ) -> Result<String, AuthError> {
        let rows = store.keys().await?;
        // A key sealed under another key-encryption key would strand the others.
        for row in &rows {
            sealer.open(&row.kid, &row.private_key)?;
        }
        let newest = rows.iter().map(|row| row.created_at).max();
        let now = newest.map_or(clock::now(), |newest| clock::now().max(newest + 1));
        let row = Self::create(algorithm, now, sealer)?;
        store.insert_key(&row).await?;
        Ok(row.kid)
    }

    /// Every stored key, newest first.
    pub async fn list(store: &Store) -> Result<Vec<KeyInfo>, AuthError> {
        let mut seen_algorithms: Vec<String> = Vec::new();
        Ok(store
            .keys()
            .await?
            .into_iter()
            .map(|row| {
                let signing = !seen_algorithms.contains(&row.algorithm);
                if signing {
                    seen_algorithms.push(row.algorithm.clone());
                }
                KeyInfo { kid: row.kid, algorithm: row.algorithm, created_at: row.created_at, signing }
            })
            .collect())
    }

    /// Deletes a key, so tokens it signed stop verifying on every server
    /// within seconds and it leaves the JWKS. The newest key of an algorithm
    /// signs and cannot be retired; one superseded less than a maximal token
    /// lifetime ago may have signed tokens still live, and needs `force`.
    pub async fn retire(store: &Store, kid: &str, force: bool) -> Result<(), AuthError> {
        let keys = store.keys().await?;
        let key = keys
            .iter()
            .find(|key| key.kid == kid)
            .ok_or_else(|| AuthError::NotFound(format!("no signing key {kid:?}")))?;
        let superseded_at = keys
            .iter()
            .filter(|other| other.algorithm == key.algorithm && other.created_at > key.created_at)
            .map(|other| other.created_at)
            .min()
            .ok_or_else(|| {
                AuthError::InvalidArgument(format!(
                    "{kid} is the newest {} key and signs; rotate first",
                    key.algorithm
                ))
            })?;
        let last_token_expiry = superseded_at + TokenTtl::MAX_SECONDS;
        if !force && clock::now() < last_token_expiry {
            return Err(AuthError::InvalidArgument(format!(
                "tokens signed by {kid} may be live until Unix time {last_token_expiry}; retire it then, or use --force"
            )));
        }
        store.delete_key(kid).await?;
        Ok(())
    }
}
