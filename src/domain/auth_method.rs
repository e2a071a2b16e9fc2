//! How a client may authenticate at the token endpoint (RFC 7591
//! `token_endpoint_auth_methods`, RFC 8705 §2, RFC 7523 §2.2): the methods,
//! and the set a client is registered with.

use std::fmt;

use super::{InvalidValue, quoted};

/// One client authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The secret in an `Authorization: Basic` header.
    ClientSecretBasic,
    /// The secret in the request body.
    ClientSecretPost,
    /// A certificate that chains to the configured client CA and names the client.
    TlsClientAuth,
    /// A self-signed certificate listed in the client's registered JWK Set.
    SelfSignedTlsClientAuth,
    /// A JWT the client signed with a key of its registered JWK Set (RFC 7523 §2.2).
    PrivateKeyJwt,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 5] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::TlsClientAuth,
        AuthMethod::SelfSignedTlsClientAuth,
        AuthMethod::PrivateKeyJwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL.into_iter().find(|method| method.as_str() == raw).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|method| method.as_str()).collect();
            InvalidValue(format!(
                "token endpoint auth method {} is not one of {}",
                quoted(raw),
                known.join(", ")
            ))
        })
    }

    /// Whether the method proves the client with a TLS client certificate.
    pub fn uses_certificate(self) -> bool {
        matches!(self, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The methods a client may use. Empty (`none`, in RFC 7591's words) for a
/// client that has no credentials of its own and authenticates only through
/// its federated identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMethods(u8);

/// How `none` is written.
const NONE_NAME: &str = "none";

impl AuthMethods {
    /// What clients get when they name no method, and what clients
    /// registered before methods existed have: the two secret methods.
    pub const SECRET: AuthMethods =
        AuthMethods((1 << AuthMethod::ClientSecretBasic as u8) | (1 << AuthMethod::ClientSecretPost as u8));

    /// No method: only federated identities authenticate the client.
    pub const NONE: AuthMethods = AuthMethods(0);

    /// Parses a list of method names; an empty list selects [`Self::SECRET`],
    /// `none` alone selects [`Self::NONE`].
    pub fn parse_each<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidValue> {
        let names: Vec<&str> = names.into_iter().collect();
        if names.contains(&NONE_NAME) {
            return match names.iter().all(|name| *name == NONE_NAME) {
                true => Ok(Self::NONE),
                false => {
                    Err(InvalidValue("token endpoint auth method none cannot be combined with others".into()))
                }
            };
        }
        let mut bits = 0;
        for name in names {
            bits |= AuthMethod::parse(name)?.bit();
        }
        Ok(if bits == 0 { Self::SECRET } else { Self(bits) })
    }

    pub fn contains(self, method: AuthMethod) -> bool {
        self.0 & method.bit() != 0
    }

    /// Whether the client authenticates with a secret at all, and so has one.
    pub fn use_secret(self) -> bool {
        self.0 & Self::SECRET.0 != 0
    }

    pub fn iter(self) -> impl Iterator<Item = AuthMethod> {
        AuthMethod::ALL.into_iter().filter(move |method| self.contains(*method))
    }

    pub fn to_strings(self) -> Vec<String> {
        if self == Self::NONE {
            return vec![NONE_NAME.to_owned()];
        }
        self.iter().map(|method| method.as_str().to_owned()).collect()
    }
}

/// Space-separated, as stored.
impl fmt::Display for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_method_named_means_the_secret_methods() {
        let methods = AuthMethods::parse_each([]).unwrap();
        assert_eq!(methods, AuthMethods::SECRET);
        assert_eq!(methods.to_string(), "client_secret_basic client_secret_post");
    }

    #[test]
    fn a_certificate_only_client_uses_no_secret() {
        let methods = AuthMethods::parse_each(["tls_client_auth"]).unwrap();
        assert!(!methods.use_secret());
        assert!(methods.contains(AuthMethod::TlsClientAuth));
        assert!(!methods.contains(AuthMethod::SelfSignedTlsClientAuth));
        let round_trip = AuthMethods::parse_each(methods.to_string().split(' ')).unwrap();
        assert_eq!(round_trip, methods);
    }

    #[test]
    fn none_stands_alone_and_round_trips() {
        let none = AuthMethods::parse_each(["none"]).unwrap();
        assert_eq!(none, AuthMethods::NONE);
        assert!(!none.use_secret());
        assert_eq!(AuthMethods::parse_each(none.to_string().split(' ')).unwrap(), none);
        assert!(AuthMethods::parse_each(["none", "client_secret_basic"]).is_err());
    }

    #[test]
    fn an_unknown_method_is_named_in_the_error() {
        let err = AuthMethods::parse_each(["client_secret_basic", "client_secret_jwt"]).unwrap_err();
        assert!(err.0.contains("\"client_secret_jwt\""), "{err}");
    }
}
