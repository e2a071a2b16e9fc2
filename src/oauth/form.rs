//! Strict `application/x-www-form-urlencoded` parsing: invalid UTF-8 and
//! repeated parameters are refused rather than guessed at (RFC 6749 §3.2).

use std::borrow::Cow;

use crate::http::Rejection;
use crate::{
    authority::{AuthError, BodyCredentials},
    domain::quoted,
};

/// The decoded name–value pairs of a form body.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, Rejection> {
        let mut pairs = Vec::new();
        for part in body.split(|&b| b == b'&').filter(|part| !part.is_empty()) {
            let mut halves = part.splitn(2, |&b| b == b'=');
            let name = decode(halves.next().unwrap_or_default())?;
            let value = decode(halves.next().unwrap_or_default())?;
            pairs.push((name, value));
        }
        Ok(Self(pairs))
    }

    /// Refuses any parameter sent more than once, but for those in `repeatable`.
    pub fn reject_repeats(&self, repeatable: &[&str]) -> Result<(), Rejection> {
        for (i, (name, _)) in self.0.iter().enumerate() {
            let repeated = self.0[..i].iter().any(|(earlier, _)| earlier == name);
            if repeated && !repeatable.contains(&name.as_str()) {
                return Err(
                    AuthError::InvalidRequest(format!("parameter {} is repeated", quoted(name))).into()
                );
            }
        }
        Ok(())
    }

    /// The value of a parameter, as sent; the authority treats an empty
    /// value as absent (RFC 6749 §3.1), whatever the protocol.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    /// The client credentials the form carries, under their OAuth names.
    pub fn credentials(&self) -> BodyCredentials {
        let field = |name| self.get(name).unwrap_or_default();
        BodyCredentials {
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            client_assertion_type: field("client_assertion_type"),
            client_assertion: field("client_assertion"),
        }
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

fn decode(raw: &[u8]) -> Result<String, Rejection> {
    let plus_as_space: Cow<[u8]> = if raw.contains(&b'+') {
        Cow::Owned(raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect())
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes)
        .map_err(|_| AuthError::InvalidRequest("the form body is not valid UTF-8".into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_parses_or_is_refused_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Form::parse(&body);
        }

        #[test]
        fn encoded_pairs_decode_to_themselves(pairs in proptest::collection::vec((".{0,20}", ".{0,40}"), 0..8)) {
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            let form = Form::parse(body.as_bytes()).expect("an encoded form parses");
            prop_assert_eq!(form.0, pairs);
        }
    }

    #[test]
    fn plus_and_percent_escapes_decode() {
        let form = Form::parse(b"scope=read+write&client_id=orders%2Dworker").unwrap();
        assert_eq!(form.get("scope").as_deref(), Some("read write"));
        assert_eq!(form.get("client_id").as_deref(), Some("orders-worker"));
    }

    #[test]
    fn a_repeated_parameter_is_refused_unless_repeatable() {
        let form = Form::parse(b"scope=a&scope=b&resource=x&resource=y").unwrap();
        assert!(form.reject_repeats(&["scope", "resource"]).is_ok());
        assert!(form.reject_repeats(&["resource"]).is_err());
        assert_eq!(form.all("resource"), ["x", "y"]);
    }

    #[test]
    fn an_empty_value_is_kept_for_the_authority_to_judge() {
        let form = Form::parse(b"scope=&grant_type=x").unwrap();
        assert_eq!(form.get("scope").as_deref(), Some(""));
        assert_eq!(form.get("audience"), None);
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(Form::parse(b"scope=%FF").is_err());
        assert!(Form::parse(b"scope=\xff").is_err());
    }
}
