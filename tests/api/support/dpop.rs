//! DPoP proofs (RFC 9449 §4.2) made in the test with real keys: a good one
//! for a request, or any header and claims a test wants to see refused.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm,
    jwk::{Jwk, ThumbprintHash},
};
use serde_json::{Value, json};

use super::signers::{SigningKey, now};

/// A key pair a client holds and proves possession of.
pub struct DpopKey(SigningKey);

impl DpopKey {
    pub fn generate(algorithm: Algorithm) -> Self {
        Self(SigningKey::generate(algorithm, "unused"))
    }

    /// The public key as a proof's header carries it: no kid, no use.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.0.public_jwk();
        let members = jwk.as_object_mut().unwrap();
        members.remove("kid");
        members.remove("use");
        jwk
    }

    /// The RFC 7638 thumbprint a token bound to this key carries as `cnf.jkt`.
    pub fn jkt(&self) -> String {
        serde_json::from_value::<Jwk>(self.public_jwk()).unwrap().thumbprint(ThumbprintHash::SHA256).unwrap()
    }

    /// The header of a good proof.
    pub fn header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": format!("{:?}", self.0.algorithm), "jwk": self.public_jwk() })
    }

    /// The claims of a good proof for `htm` at `htu`, made now.
    pub fn claims(htm: &str, htu: &str) -> Value {
        let mut jti = [0u8; 12];
        getrandom::fill(&mut jti).unwrap();
        json!({ "htm": htm, "htu": htu, "iat": now(), "jti": URL_SAFE_NO_PAD.encode(jti) })
    }

    /// A good proof for `POST` at `htu`.
    pub fn proof(&self, htu: &str) -> String {
        self.sign(&self.header(), &Self::claims("POST", htu))
    }

    /// `claims` under `header`, signed with this key whatever the header says.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let message = format!("{}.{}", encode(header), encode(claims));
        format!("{message}.{}", self.0.signature(message.as_bytes()))
    }
}
