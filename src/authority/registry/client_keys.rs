//! Key pairs tokend makes for a client, and takes away again: the public
//! half joins the client's `jwks` and the client may use the JWT bearer
//! grant; the private half is its owner's alone.

use serde_json::{Value, json};

use super::{ClientChanges, Registry, key_pair::ClientKeyPair};
use crate::{
    authority::{Actor, AuthError, EventType},
    domain::{Client, ClientDetails, GrantType, quoted},
};

impl Registry {
    /// Registers `pair`'s public key in the client's `jwks` and allows it the
    /// JWT bearer grant, on `actor`'s behalf. A client that publishes its
    /// keys at a `jwks_uri` is refused: its keys are its own to publish.
    pub async fn add_client_key(
        &self,
        client_id: &str,
        pair: &ClientKeyPair,
        actor: &Actor,
    ) -> Result<ClientDetails, AuthError> {
        let client = self.existing(client_id).await?;
        if client.auth.jwks_uri.is_some() {
            return Err(AuthError::FailedPrecondition(format!(
                "client {} publishes its keys at its jwks_uri: add the key there",
                quoted(client_id)
            )));
        }
        let mut keys = registered_keys(&client)?;
        keys.push(pair.public_jwk());
        let changes = ClientChanges {
            jwks: Some(json!({ "keys": keys }).to_string()),
            grant_types: Some(client.grant_types.with(GrantType::JwtBearer).to_strings()),
            ..ClientChanges::default()
        };
        let details = json!({ "kid": pair.kid(), "algorithm": pair.algorithm().as_str() });
        self.change(client_id, changes, actor, Some((EventType::ClientKeyAdded, details)), None).await
    }

    /// Takes the key `kid` out of the client's `jwks`, on `actor`'s behalf:
    /// assertions signed with it are refused from then on.
    pub async fn remove_client_key(
        &self,
        client_id: &str,
        kid: &str,
        actor: &Actor,
    ) -> Result<ClientDetails, AuthError> {
        let client = self.existing(client_id).await?;
        let mut keys = registered_keys(&client)?;
        let before = keys.len();
        keys.retain(|key| key["kid"].as_str() != Some(kid));
        if keys.len() == before {
            return Err(AuthError::NotFound(format!(
                "client {} has no key {} in its jwks",
                quoted(client_id),
                quoted(kid)
            )));
        }
        let jwks = match keys.is_empty() {
            true => String::new(),
            false => json!({ "keys": keys }).to_string(),
        };
        let changes = ClientChanges { jwks: Some(jwks), ..ClientChanges::default() };
        let details = json!({ "kid": kid });
        self.change(client_id, changes, actor, Some((EventType::ClientKeyRemoved, details)), None).await
    }
}

/// The keys of the client's registered `jwks`, as JSON objects.
fn registered_keys(client: &Client) -> Result<Vec<Value>, AuthError> {
    let Some(jwks) = &client.auth.jwks else {
        return Ok(Vec::new());
    };
    let mut set: Value = serde_json::from_str(jwks.as_str()).map_err(AuthError::internal)?;
    match set.get_mut("keys").map(Value::take) {
        Some(Value::Array(keys)) => Ok(keys),
        _ => Err(AuthError::internal("a registered jwks has no keys")),
    }
}
