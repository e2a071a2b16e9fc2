//! The `keys` commands: rotate, list and retire signing keys.

use serde_json::json;

use crate::{
    authority::{AuthError, KeyRing, KeySealer, SigningAlgorithm},
    store::Store,
};

/// Adds a signing key and says which.
pub async fn rotate(
    store: &Store,
    algorithm: SigningAlgorithm,
    sealer: &KeySealer,
) -> Result<String, AuthError> {
    let kid = KeyRing::rotate(store, algorithm, sealer).await?;
    Ok(format!("new {algorithm} signing key {kid}"))
}

/// The stored keys, newest first; the newest of each algorithm is the one
/// servers of that algorithm sign with.
pub async fn list(store: &Store, as_json: bool) -> Result<String, AuthError> {
    let keys = KeyRing::list(store).await?;
    if as_json {
        let rows: Vec<_> = keys
            .iter()
            .map(|key| {
                json!({"kid": key.kid, "algorithm": key.algorithm, "created_at": key.created_at, "signing": key.signing})
            })
            .collect();
        return Ok(serde_json::Value::from(rows).to_string());
    }
    let mut out = format!("{:<44} {:<6} {:<11} {}", "KID", "ALG", "CREATED_AT", "SIGNS");
    for key in &keys {
        out.push_str(&format!(
            "\n{:<44} {:<6} {:<11} {}",
            key.kid, key.algorithm, key.created_at, key.signing
        ));
    }
    Ok(out)
}

/// Removes a key that no longer signs.
pub async fn retire(store: &Store, kid: &str, force: bool) -> Result<String, AuthError> {
    KeyRing::retire(store, kid, force).await?;
    Ok(format!("signing key {kid} retired; servers stop accepting its tokens within seconds"))
}
