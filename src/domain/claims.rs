//! Claims an administrator fixes for a client (a tenant, an environment, a
//! role), added to every token the client gets. Checked and encoded once,
//! when the registration is read: minting splices the encoded members in,
//! so a client's claims cost a copy per token, not an encoding.

use std::{
    fmt,
    sync::{Arc, OnceLock},
};

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Value, value::RawValue};

use super::InvalidValue;

/// The encoded claims (the JSON object) may be at most this long.
pub const MAX_CLAIMS_BYTES: usize = 2048;
/// Names a client's claims may not use, compared without regard to case,
/// besides any starting with `tokend` (RFC 7519 §4: a token's claim names
/// are unique, so one of these beside tokend's own would shadow it).
pub const RESERVED_CLAIMS: [&str; 34] = [
    // Registered JWT claims (RFC 7519 §4.1).
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    // Access tokens (RFC 9068 §2.2) and their authentication context.
    "client_id",
    "scope",
    "auth_time",
    "acr",
    "amr",
    "azp",
    "sid",
    "nonce",
    // Proof of possession (RFC 7800) and delegation (RFC 8693 §4).
    "cnf",
    "act",
    "may_act",
    // Token Status Lists (draft-ietf-oauth-status-list §6.1).
    "status",
    // Transaction Tokens (draft-ietf-oauth-transaction-tokens-10 §6.2).
    "txn",
    "rctx",
    "tctx",
    "req_wl",
    "req_wl_chain",
    "purp",
    // Security Event Tokens (RFC 8417 §2.2) and subject identifiers (RFC 9493).
    "events",
    "toe",
    "sub_id",
    // tokend's own: the workload a federated client proved itself as, its namespace.
    "federated",
    "namespace",
    // An introspection answer's own members (RFC 7662 §2.2).
    "active",
    "token_type",
    "username",
    // The media type of a nested token, never a claim.
    "typ",
];

/// A client's fixed claims; empty for most clients. Clones share the encoding.
#[derive(Clone, Default)]
pub struct ClientClaims(Option<Arc<Encoded>>);

struct Encoded {
    /// The whole object, as stored and shown.
    text: String,
    /// The members as values, for answers that show them (introspection).
    values: Map<String, Value>,
    /// Each member's name and encoded value, in the object's order.
    members: Vec<(String, Box<RawValue>)>,
    /// The members in the encoding gRPC answers carry, made on first use.
    wire: OnceLock<Arc<[u8]>>,
}

impl ClientClaims {
    /// Claims from a JSON object's text; the empty string is none.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let members: Map<String, Value> = serde_json::from_str(text)
            .map_err(|err| InvalidValue(format!("claims must be a JSON object: {err}")))?;
        Self::from_members(members)
    }

    /// Claims from an object's members, checked: every name one a client
    /// may use (see [`claim_name_refusal`]), and at most [`MAX_CLAIMS_BYTES`]
    /// encoded.
    pub fn from_members(members: Map<String, Value>) -> Result<Self, InvalidValue> {
        if members.is_empty() {
            return Ok(Self::default());
        }
        if let Some(why) = members.keys().find_map(|name| claim_name_refusal(name)) {
            return Err(InvalidValue(why));
        }
        let text = Value::Object(members.clone()).to_string();
        if text.len() > MAX_CLAIMS_BYTES {
            return Err(InvalidValue(format!(
                "claims must encode to at most {MAX_CLAIMS_BYTES} bytes of JSON, not {}",
                text.len()
            )));
        }
        let encoded = members
            .iter()
            .map(|(name, value)| {
                let raw =
                    serde_json::value::to_raw_value(value).map_err(|err| InvalidValue(err.to_string()))?;
                Ok((name.clone(), raw))
            })
            .collect::<Result<_, InvalidValue>>()?;
        Ok(Self(Some(Arc::new(Encoded { text, values: members, members: encoded, wire: OnceLock::new() }))))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The object's JSON text; empty when there are no claims.
    pub fn as_json(&self) -> &str {
        self.0.as_ref().map_or("", |encoded| encoded.text.as_str())
    }

    /// The members as JSON values, for answers that show them.
    pub fn members(&self) -> Option<&Map<String, Value>> {
        self.0.as_ref().map(|encoded| &encoded.values)
    }

    /// The members encoded by `encode` the first time they are asked for,
    /// and the same bytes every time after: the gRPC answers' encoding.
    pub fn wire_encoded(&self, encode: impl FnOnce(&Map<String, Value>) -> Arc<[u8]>) -> Option<Arc<[u8]>> {
        self.0.as_ref().map(|encoded| encoded.wire.get_or_init(|| encode(&encoded.values)).clone())
    }

    /// Claims as the store holds them, less any member whose name a client
    /// may no longer use (a name reserved after it was registered), so that
    /// no token carries a name twice; what was left out, for the log.
    pub fn from_stored(text: &str) -> Result<(Self, Vec<String>), InvalidValue> {
        if text.trim().is_empty() {
            return Ok((Self::default(), Vec::new()));
        }
        let mut members: Map<String, Value> = serde_json::from_str(text)
            .map_err(|err| InvalidValue(format!("claims must be a JSON object: {err}")))?;
        let left_out = without_refused_names(&mut members);
        Ok((Self::from_members(members)?, left_out))
    }
}

/// Why a client's claims may not use `name`; `None` when they may.
pub fn claim_name_refusal(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a claim name may not be empty".into());
    }
    if name.chars().any(char::is_control) {
        return Some(format!("the claim name {name:?} holds a control character"));
    }
    let folded = name.to_ascii_lowercase();
    if RESERVED_CLAIMS.contains(&folded.as_str()) || folded.starts_with("tokend") {
        return Some(format!(
            "claims may not set {name:?}: tokend or a standard gives it meaning (reserved, in any case: {} and names starting with \"tokend\")",
            RESERVED_CLAIMS.join(" ")
        ));
    }
    None
}

/// Removes the members whose names a client may not use; their names.
fn without_refused_names(members: &mut Map<String, Value>) -> Vec<String> {
    let refused: Vec<String> =
        members.keys().filter(|name| claim_name_refusal(name).is_some()).cloned().collect();
    for name in &refused {
        members.remove(name);
    }
    refused
}

impl PartialEq for ClientClaims {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Eq for ClientClaims {}

impl fmt::Debug for ClientClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientClaims({})", self.as_json())
    }
}

/// Serialized as the members alone, to be flattened into a token's claims.
impl Serialize for ClientClaims {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let members = self.0.as_ref().map_or(&[][..], |encoded| encoded.members.as_slice());
        let mut map = serializer.serialize_map(Some(members.len()))?;
        for (name, value) in members {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Read back from a token's claims: whatever members tokend's own fields
/// did not take. A token tokend signed now holds no reserved name here.
impl<'de> Deserialize<'de> for ClientClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut members = Map::<String, Value>::deserialize(deserializer)?;
        // A token minted before a name was reserved may hold it; it reads as
        // the claims tokend would mint now.
        without_refused_names(&mut members);
        Self::from_members(members).map_err(|err| serde::de::Error::custom(err.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_and_oversized_sets_are_refused() {
        for name in [
            "iss",
            "act",
            "may_act",
            "federated",
            "tokend_role",
            "tokendx",
            "status",
            "txn",
            "rctx",
            "tctx",
            "req_wl",
            "namespace",
            "ISS",
            "Status",
            "TOKEND_x",
        ] {
            let err = ClientClaims::parse(&format!("{{\"{name}\": 1}}")).unwrap_err();
            assert!(err.0.contains(&format!("{name:?}")), "{err:?}");
        }
        for name in ["", "\\u0000", "a\\nb", "tab\\t"] {
            assert!(ClientClaims::parse(&format!("{{\"{name}\": 1}}")).is_err(), "{name:?}");
        }
        assert!(ClientClaims::parse("[1, 2]").is_err(), "not an object");
        let big = format!("{{\"blob\": \"{}\"}}", "x".repeat(MAX_CLAIMS_BYTES));
        assert!(ClientClaims::parse(&big).unwrap_err().0.contains("2048"));
        assert!(ClientClaims::parse("").unwrap().is_empty());
        assert!(ClientClaims::parse("{}").unwrap().is_empty());
    }

    #[test]
    fn stored_claims_lose_names_reserved_since_and_keep_the_rest() {
        let (claims, left_out) =
            ClientClaims::from_stored(r#"{"status": 1, "Txn": "x", "tenant": "acme"}"#).unwrap();
        assert_eq!(left_out, ["Txn", "status"]);
        assert_eq!(claims.as_json(), r#"{"tenant":"acme"}"#);
    }

    #[test]
    fn members_serialize_as_given_and_read_back() {
        let claims =
            ClientClaims::parse(r#"{"tenant": "acme", "tier": 3, "roles": ["a", "b"], "geo": {"eu": true}}"#)
                .unwrap();
        let encoded = serde_json::to_string(&claims).unwrap();
        assert_eq!(encoded, r#"{"geo":{"eu":true},"roles":["a","b"],"tenant":"acme","tier":3}"#);
        let back: ClientClaims = serde_json::from_str(&encoded).unwrap();
        assert_eq!(back, claims);
        assert_eq!(claims.members().unwrap()["tier"], 3);
    }
}
