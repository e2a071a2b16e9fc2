//! Strict `application/x-www-form-urlencoded` parsing: invalid UTF-8 and
//! repeated parameters are refused rather than guessed at (RFC 6749 §3.2).

use std::borrow::Cow;

use axum::http::StatusCode;

use super::reply::Rejection;
use crate::domain::quoted;

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
                return Err(Rejection::invalid_request(
                    StatusCode::BAD_REQUEST,
                    format!("parameter {} is repeated", quoted(name)),
                ));
            }
        }
        Ok(())
    }

    /// The value of a parameter sent once; an empty value counts as absent
    /// (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone())
    }

    /// Every non-empty value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
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
        .map_err(|_| Rejection::invalid_request(StatusCode::BAD_REQUEST, "the form body is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_empty_value_counts_as_absent() {
        assert_eq!(Form::parse(b"scope=&grant_type=x").unwrap().get("scope"), None);
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(Form::parse(b"scope=%FF").is_err());
        assert!(Form::parse(b"scope=\xff").is_err());
    }
}
