//! The `keys` commands: rotate, list and retire signing keys.

use std::path::Path;

use serde_json::json;

use super::rfc3339;
use crate::{
    authority::{Actor, AuthError, Clock, KeyCustody, KeyListing, KeyRing, KeySealer, SigningAlgorithm},
    cli::config::KeysCommand,
    store::Store,
};

/// Runs one keys command and returns what to print. Only rotation and
/// re-sealing need the key-encryption key (and rotation the HSM, when one is
/// configured), so `custody` is called for them alone.
pub async fn run(
    store: &Store,
    command: KeysCommand,
    custody: impl FnOnce() -> Result<KeyCustody, AuthError>,
) -> Result<String, AuthError> {
    match command {
        KeysCommand::Rotate { algorithm, activate_after, json } => {
            rotate(store, algorithm, activate_after, &custody()?, json).await
        }
        KeysCommand::Rekey { new_key_encryption_key_file } => {
            rekey(store, &custody()?.sealer, &new_key_encryption_key_file).await
        }
        KeysCommand::List { json } => list(store, json).await,
        KeysCommand::Retire { kid, force } => retire(store, &kid, force).await,
    }
}

/// Adds a signing key and says which, and from when it signs.
async fn rotate(
    store: &Store,
    algorithm: SigningAlgorithm,
    activate_after: i64,
    custody: &KeyCustody,
    as_json: bool,
) -> Result<String, AuthError> {
    let kid =
        KeyRing::rotate(store, &Clock::system(), algorithm, activate_after, custody, &Actor::cli()).await?;
    if as_json {
        let said = json!({ "kid": kid, "algorithm": algorithm.as_str(), "activate_after": activate_after });
        return Ok(said.to_string());
    }
    Ok(format!("new {algorithm} signing key {kid}, published now, signing in {activate_after} s"))
}

/// Seals every key anew under the key in `new_file` and says what to do next.
async fn rekey(store: &Store, current: &KeySealer, new_file: &Path) -> Result<String, AuthError> {
    let made_here = !new_file.exists();
    let new = KeySealer::load_or_create(new_file)?;
    let count = match KeyRing::rekey(store, &Clock::system(), current, &new, &Actor::cli()).await {
        Ok(count) => count,
        Err(refused) => {
            // A refused rekey leaves nothing behind: no key file seals anything.
            if made_here {
                let _ = std::fs::remove_file(new_file);
            }
            return Err(refused);
        }
    };
    Ok(format!(
        "{count} signing keys sealed anew under the key-encryption key {}, no longer under {}; \
         restart every server with --key-encryption-key-file {}, then remove the old file",
        new.describe(),
        current.describe(),
        new_file.display()
    ))
}

/// The stored keys, newest first, and which of them sign now.
async fn list(store: &Store, as_json: bool) -> Result<String, AuthError> {
    let KeyListing { keys, next_rotation } = KeyRing::list(store, Clock::system().now()).await?;
    if as_json {
        let rows: Vec<_> = keys
            .iter()
            .map(|key| {
                json!({
                    "kid": key.kid,
                    "algorithm": key.algorithm,
                    "state": key.state(),
                    "created_at": key.created_at,
                    "active_from": key.active_from,
                    "signing": key.signing,
                    "retire_time": key.retire_at.map(rfc3339),
                    "held_in": if key.in_hsm { "hsm" } else { "database" },
                })
            })
            .collect();
        let listing = json!({ "keys": rows, "next_rotation_time": next_rotation.map(rfc3339) });
        return Ok(listing.to_string());
    }
    let mut out = format!(
        "{:<44} {:<6} {:<9} {:<20} {:<20} {}",
        "KID", "ALG", "STATE", "CREATED", "ACTIVE_FROM", "RETIRES"
    );
    for key in &keys {
        let retires = key.retire_at.map_or_else(|| "-".to_owned(), rfc3339);
        out.push_str(&format!(
            "\n{:<44} {:<6} {:<9} {:<20} {:<20} {retires}",
            key.kid,
            key.algorithm,
            key.state(),
            rfc3339(key.created_at),
            rfc3339(key.active_from)
        ));
    }
    if let Some(at) = next_rotation {
        out.push_str(&format!("\nnext rotation: {}", rfc3339(at)));
    }
    Ok(out)
}

/// Removes a key that does not sign now.
async fn retire(store: &Store, kid: &str, force: bool) -> Result<String, AuthError> {
    KeyRing::retire(store, &Clock::system(), kid, force, &Actor::cli()).await?;
    Ok(format!("signing key {kid} retired; servers stop accepting its tokens within seconds"))
}
