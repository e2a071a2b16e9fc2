//! The grants a client may use at the token endpoint (RFC 7591
//! `grant_types`): the client-credentials grant (RFC 6749 §4.4) and the JWT
//! bearer grant (RFC 7523 §2.1). Token exchange (RFC 8693) may be named too;
//! who may exchange what is `token_exchange_audiences`' to say, so naming it
//! changes nothing.

use std::fmt;

use super::{InvalidValue, quoted};

/// One grant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    ClientCredentials,
    JwtBearer,
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 3] =
        [GrantType::ClientCredentials, GrantType::JwtBearer, GrantType::TokenExchange];

    pub const fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == raw).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|grant| grant.as_str()).collect();
            InvalidValue(format!("grant type {} is not one of {}", quoted(raw), known.join(", ")))
        })
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The grants a client is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantTypes(u8);

impl GrantTypes {
    /// What clients get when they name none, and what clients registered before grant types have.
    pub const DEFAULT: GrantTypes = GrantTypes(1 << GrantType::ClientCredentials as u8);

    /// Parses a list of grant type names; an empty list selects [`Self::DEFAULT`].
    pub fn parse_each<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidValue> {
        let mut bits = 0;
        for name in names {
            bits |= GrantType::parse(name)?.bit();
        }
        Ok(if bits == 0 { Self::DEFAULT } else { Self(bits) })
    }

    /// These grants and `grant` too.
    pub fn with(self, grant: GrantType) -> Self {
        Self(self.0 | grant.bit())
    }

    pub fn contains(self, grant: GrantType) -> bool {
        self.0 & grant.bit() != 0
    }

    pub fn to_strings(self) -> Vec<String> {
        GrantType::ALL
            .into_iter()
            .filter(|grant| self.contains(*grant))
            .map(|grant| grant.as_str().to_owned())
            .collect()
    }
}

/// Space-separated, as stored.
impl fmt::Display for GrantTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_named_is_client_credentials_and_a_set_round_trips() {
        assert_eq!(GrantTypes::parse_each([]).unwrap(), GrantTypes::DEFAULT);
        assert_eq!(GrantTypes::DEFAULT.to_string(), "client_credentials");
        let both =
            GrantTypes::parse_each(["urn:ietf:params:oauth:grant-type:jwt-bearer", "client_credentials"])
                .unwrap();
        assert!(both.contains(GrantType::JwtBearer) && both.contains(GrantType::ClientCredentials));
        assert_eq!(GrantTypes::parse_each(both.to_string().split(' ')).unwrap(), both);
        assert_eq!(GrantTypes::DEFAULT.with(GrantType::JwtBearer), both);
    }

    #[test]
    fn an_unknown_grant_is_named_in_the_error() {
        let err = GrantTypes::parse_each(["client_credentials", "password"]).unwrap_err();
        assert!(err.0.contains("\"password\""), "{err}");
    }
}
