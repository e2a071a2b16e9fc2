//! RFC 7519 §4: the claim names of a JWT are unique. A parser that kept
//! the last of two same-named members (as serde_json, Python's json and
//! JavaScript's JSON.parse all do) would let a second `sub` or `status`
//! override the first; tokend and its verifiers refuse such a token instead.

use std::{collections::HashSet, fmt};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

/// Whether `json` is an object whose member names are all different.
/// Anything else (not JSON, not an object) is `false`.
pub fn are_unique(json: &[u8]) -> bool {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    (&mut deserializer).deserialize_map(UniqueNames).is_ok_and(|unique| unique) && deserializer.end().is_ok()
}

/// Whether the payload of the compact JWS `token` is an object whose member
/// names are all different; `false` for anything that is not a JWS payload.
pub fn payload_names_are_unique(token: &str) -> bool {
    token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .is_some_and(|json| are_unique(&json))
}

struct UniqueNames;

impl<'de> Visitor<'de> for UniqueNames {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = HashSet::new();
        let mut unique = true;
        // Names are compared decoded: "s\u0075b" is "sub".
        while let Some(name) = map.next_key::<String>()? {
            unique &= seen.insert(name);
            map.next_value::<IgnoredAny>()?;
        }
        Ok(unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_is_found_however_it_is_escaped() {
        assert!(are_unique(br#"{"sub":"a","aud":["x"],"nested":{"sub":1,"sub":2}}"#));
        assert!(!are_unique(br#"{"sub":"a","sub":"b"}"#));
        assert!(!are_unique(br#"{"sub":"a","s\u0075b":"b"}"#));
    }

    #[test]
    fn anything_but_one_object_is_not_unique() {
        for json in [&b"[1]"[..], b"\"x\"", b"{\"a\":1} {}", b"{", b""] {
            assert!(!are_unique(json), "{}", String::from_utf8_lossy(json));
        }
    }

    #[test]
    fn a_jws_payload_is_read_from_its_second_part() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"status":1,"status":2}"#);
        assert!(!payload_names_are_unique(&format!("e30.{payload}.sig")));
        let payload = URL_SAFE_NO_PAD.encode(br#"{"status":1}"#);
        assert!(payload_names_are_unique(&format!("e30.{payload}.sig")));
        assert!(!payload_names_are_unique("no-dots"));
    }
}
