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
/// Names tokend's own claims use, besides any starting with `tokend`, and
/// the members an introspection answer has of its own (RFC 7662 §2.2).
pub const RESERVED_CLAIMS: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "cnf",
    "act",
    "may_act",
    "federated",
    "active",
    "token_type",
    "username",
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

    /// Claims from an object's members, checked: no name tokend owns, and
    /// at most [`MAX_CLAIMS_BYTES`] encoded.
    pub fn from_members(members: Map<String, Value>) -> Result<Self, InvalidValue> {
        if members.is_empty() {
            return Ok(Self::default());
        }
        if let Some(name) = members.keys().find(|name| is_reserved(name)) {
            return Err(InvalidValue(format!(
                "claims may not set {name:?}: tokend sets it (reserved: {} and names starting with \"tokend\")",
                RESERVED_CLAIMS.join(" ")
            )));
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
}

/// Whether tokend owns a claim name.
fn is_reserved(name: &str) -> bool {
    RESERVED_CLAIMS.contains(&name) || name.starts_with("tokend")
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
/// did not take. A token tokend signed holds no reserved name here.
impl<'de> Deserialize<'de> for ClientClaims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let members = Map::<String, Value>::deserialize(deserializer)?;
        Self::from_members(members).map_err(|err| serde::de::Error::custom(err.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_and_oversized_sets_are_refused() {
        for name in ["iss", "act", "may_act", "federated", "tokend_role", "tokendx"] {
            let err = ClientClaims::parse(&format!("{{\"{name}\": 1}}")).unwrap_err();
            assert!(err.0.contains(&format!("{name:?}")), "{err:?}");
        }
        assert!(ClientClaims::parse("[1, 2]").is_err(), "not an object");
        let big = format!("{{\"blob\": \"{}\"}}", "x".repeat(MAX_CLAIMS_BYTES));
        assert!(ClientClaims::parse(&big).unwrap_err().0.contains("2048"));
        assert!(ClientClaims::parse("").unwrap().is_empty());
        assert!(ClientClaims::parse("{}").unwrap().is_empty());
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
