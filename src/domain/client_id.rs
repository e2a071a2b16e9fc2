//! The client identifier: what a service presents as its OAuth `client_id`.

use std::fmt;

use super::InvalidValue;

const MAX_LEN: usize = 128;

/// A client id of 1 to 128 URL-safe characters (`A-Z a-z 0-9 . _ ~ -`),
/// starting with a letter or digit, so it needs no escaping in URLs, logs or JWTs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let first_ok = raw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-'));
        if raw.is_empty() || raw.len() > MAX_LEN || !first_ok || !rest_ok {
            return Err(InvalidValue(format!(
                "client_id must be 1 to {MAX_LEN} characters of A-Z a-z 0-9 . _ ~ -, starting with a letter or digit"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_service_name_is_accepted() {
        assert_eq!(ClientId::parse("orders-worker").unwrap().as_str(), "orders-worker");
    }

    #[test]
    fn an_empty_id_is_rejected() {
        assert!(ClientId::parse("").is_err());
    }

    #[test]
    fn an_id_with_a_space_or_colon_is_rejected() {
        assert!(ClientId::parse("orders worker").is_err());
        assert!(ClientId::parse("orders:worker").is_err());
    }

    #[test]
    fn an_id_starting_with_punctuation_is_rejected() {
        assert!(ClientId::parse("-orders").is_err());
    }

    #[test]
    fn an_id_longer_than_128_characters_is_rejected() {
        assert!(ClientId::parse(&"a".repeat(129)).is_err());
        assert!(ClientId::parse(&"a".repeat(128)).is_ok());
    }
}
