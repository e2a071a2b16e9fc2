//! Reading a client assertion (RFC 7523 §3): its header and claims before
//! any key is chosen, and its signature against a JWK Set.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation};
use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use tokend_common::claim_names;

use crate::domain::{ASSERTION_ALGORITHMS, Jwks};

/// The largest assertion tokend reads; platform tokens are a few KiB.
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;

/// An assertion whose signature is not yet checked.
pub struct Unverified<'a> {
    pub token: &'a str,
    pub algorithm: Algorithm,
    pub kid: Option<String>,
    /// The header's `typ`, if it has one.
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
}

impl<'a> Unverified<'a> {
    /// Reads a compact JWS's header and payload; why not, for the log.
    pub fn read(token: &'a str) -> Result<Self, String> {
        if token.len() > MAX_ASSERTION_BYTES {
            return Err(format!("the assertion is over {} KiB", MAX_ASSERTION_BYTES / 1024));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|err| format!("not a signed JWT: {err}"))?;
        // RFC 7515 §4.1.11: tokend understands no extension, so none may be critical.
        if header.crit.is_some() {
            return Err(
                "its header marks extensions critical (crit), which tokend does not understand".into()
            );
        }
        if !ASSERTION_ALGORITHMS.contains(&header.alg) {
            return Err(format!("signed with {:?}, not an accepted asymmetric algorithm", header.alg));
        }
        let payload = token.split('.').nth(1).ok_or("not a signed JWT")?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| "the payload is not base64url")?;
        let claims = serde_json::from_slice(&payload).map_err(|_| "the payload is not a JSON object")?;
        // RFC 7519 §4: a second member of one name would be read last-wins.
        if !claim_names::are_unique(&payload) {
            return Err("its claims name one member twice".into());
        }
        Ok(Self { token, algorithm: header.alg, kid: header.kid, typ: header.typ, claims })
    }

    /// A string claim; `None` when absent or not a string.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim in whole seconds; `None` when absent or not a number.
    pub fn time(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(|value| value.as_i64().or_else(|| value.as_f64().map(|at| at as i64)))
    }

    /// Whether `aud` (a string or an array of strings) holds one of `accepted`.
    pub fn has_audience(&self, accepted: &[String]) -> bool {
        let accepts = |value: &Value| value.as_str().is_some_and(|aud| accepted.iter().any(|ok| ok == aud));
        match self.claims.get("aud") {
            Some(Value::Array(values)) => values.iter().any(accepts),
            Some(value) => accepts(value),
            None => false,
        }
    }

    /// Whether `aud` is `audience` alone: the string, or an array of just it.
    pub fn audience_is_only(&self, audience: &str) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(values)) => {
                matches!(values.as_slice(), [Value::String(aud)] if aud == audience)
            }
            _ => false,
        }
    }

    /// Whether the header's `typ` is `typ` (media types compare without regard to case).
    pub fn is_typed(&self, typ: &str) -> bool {
        self.typ.as_deref().is_some_and(|own| own.eq_ignore_ascii_case(typ))
    }

    /// Whether a key of `keys` verifies the signature, with the header's
    /// algorithm and a key that may use it (the one its `kid` names, if any).
    pub fn verifies_with(&self, keys: &Jwks) -> bool {
        let mut validation = Validation::new(self.algorithm);
        // The claims are checked by the caller, with reasons for the log.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        keys.candidates(self.kid.as_deref(), self.algorithm)
            .any(|key| jsonwebtoken::decode::<IgnoredAny>(self.token, key, &validation).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_assertion_text_is_read_or_refused_without_panicking(token in "[A-Za-z0-9_.=-]{0,300}") {
            let _ = Unverified::read(&token);
        }

        #[test]
        fn any_header_and_payload_are_read_or_refused_without_panicking(
            header in proptest::collection::vec(any::<u8>(), 0..80),
            payload in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let token = format!("{}.{}.c2ln", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
            if let Ok(assertion) = Unverified::read(&token) {
                let _ = (assertion.string("iss"), assertion.time("exp"), assertion.has_audience(&[]));
            }
        }
    }

    #[test]
    fn hmac_and_none_are_refused_before_any_key_is_looked_up() {
        let encode = |value: &str| URL_SAFE_NO_PAD.encode(value);
        for alg in ["none", "HS256", "HS512"] {
            let token = format!("{}.{}.c2ln", encode(&format!(r#"{{"alg":"{alg}"}}"#)), encode("{}"));
            assert!(Unverified::read(&token).is_err(), "{alg}");
        }
        let token =
            format!("{}.{}.c2ln", encode(r#"{"alg":"ES256"}"#), encode(r#"{"aud":["a","b"],"exp":1.5}"#));
        let assertion = Unverified::read(&token).unwrap();
        assert!(assertion.has_audience(&["b".into()]));
        assert!(!assertion.audience_is_only("b"), "one of two is not the issuer alone");
        assert_eq!(assertion.time("exp"), Some(1));
    }

    #[test]
    fn only_the_issuer_alone_is_an_own_assertions_audience() {
        let encode = |value: &str| URL_SAFE_NO_PAD.encode(value);
        let read = |payload: &str| {
            let token = format!(
                "{}.{}.c2ln",
                encode(r#"{"alg":"ES256","typ":"client-authentication+jwt"}"#),
                encode(payload)
            );
            Unverified::read(&token).unwrap().audience_is_only("https://tokend.example")
        };
        assert!(read(r#"{"aud":"https://tokend.example"}"#));
        assert!(read(r#"{"aud":["https://tokend.example"]}"#));
        for refused in [
            r#"{"aud":"https://tokend.example/oauth/v2/token"}"#,
            r#"{"aud":["https://tokend.example","https://other.example"]}"#,
            r#"{"aud":[]}"#,
            r#"{}"#,
        ] {
            assert!(!read(refused), "{refused}");
        }
    }

    #[test]
    fn an_assertion_naming_a_claim_twice_is_refused() {
        let encode = |value: &str| URL_SAFE_NO_PAD.encode(value);
        let token = format!("{}.{}.c2ln", encode(r#"{"alg":"ES256"}"#), encode(r#"{"sub":"a","sub":"b"}"#));
        assert!(Unverified::read(&token).err().unwrap().contains("twice"));
    }
}
