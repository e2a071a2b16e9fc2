//! How a client is registered to authenticate (RFC 7591, RFC 8705 §2, RFC
//! 7523 §2.2): its methods, the certificate that names it for
//! `tls_client_auth`, its keys (a JWK Set, inline or at a URL) for
//! `self_signed_tls_client_auth` and `private_key_jwt`, the external
//! workloads that act as it (federated identities), and whether its tokens
//! are bound to its certificate.

use super::{
    AuthMethod, AuthMethods, DistinguishedName, FederatedIdentity, InvalidValue, Jwks, JwksUri,
    MAX_IDENTITIES, PeerCertificate,
};
/// The longest DNS or URI SAN a registration may name.
const MAX_SAN_LEN: usize = 1024;

/// The one certificate field that names a `tls_client_auth` client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateSubject {
    /// `tls_client_auth_subject_dn`, compared as RFC 4514 says.
    Dn(DistinguishedName),
    /// `tls_client_auth_san_dns`, compared without regard to ASCII case.
    SanDns(String),
    /// `tls_client_auth_san_uri` (a `spiffe://` ID, for example), compared exactly.
    SanUri(String),
}

impl CertificateSubject {
    /// The one of the three registration fields that is set, parsed; `None`
    /// when none is. More than one is an error: RFC 8705 §2.1.2 allows one.
    pub fn parse(subject_dn: &str, san_dns: &str, san_uri: &str) -> Result<Option<Self>, InvalidValue> {
        match (subject_dn, san_dns, san_uri) {
            ("", "", "") => Ok(None),
            (dn, "", "") => DistinguishedName::parse(dn).map(|dn| Some(Self::Dn(dn))),
            ("", dns, "") => Ok(Some(Self::SanDns(san("tls_client_auth_san_dns", dns)?.to_ascii_lowercase()))),
            ("", "", uri) => Ok(Some(Self::SanUri(san("tls_client_auth_san_uri", uri)?.to_owned()))),
            _ => Err(InvalidValue(
                "set only one of tls_client_auth_subject_dn, tls_client_auth_san_dns and tls_client_auth_san_uri"
                    .into(),
            )),
        }
    }

    /// The three registration fields `subject` fills: subject DN, DNS SAN, URI SAN.
    pub fn fields(subject: Option<&Self>) -> [String; 3] {
        match subject {
            None => Default::default(),
            Some(Self::Dn(dn)) => [dn.to_string(), String::new(), String::new()],
            Some(Self::SanDns(dns)) => [String::new(), dns.clone(), String::new()],
            Some(Self::SanUri(uri)) => [String::new(), String::new(), uri.clone()],
        }
    }

    pub fn matches(&self, certificate: &PeerCertificate) -> bool {
        match self {
            Self::Dn(dn) => certificate.subject() == dn,
            Self::SanDns(name) => certificate.has_san_dns(name),
            Self::SanUri(uri) => certificate.has_san_uri(uri),
        }
    }
}

fn san<'a>(field: &str, value: &'a str) -> Result<&'a str, InvalidValue> {
    if value.len() > MAX_SAN_LEN || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidValue(format!(
            "{field} must be at most {MAX_SAN_LEN} characters without spaces or control characters"
        )));
    }
    Ok(value)
}

/// How a client authenticates, and whether its tokens are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    pub methods: AuthMethods,
    /// What a `tls_client_auth` certificate must name; set exactly when that method is.
    pub tls_subject: Option<CertificateSubject>,
    /// Its JWK Set: the certificates `self_signed_tls_client_auth` accepts
    /// (in `x5c`), the keys that verify its `private_key_jwt` assertions.
    pub jwks: Option<Jwks>,
    /// Where its `private_key_jwt` keys are published, instead of `jwks`.
    pub jwks_uri: Option<JwksUri>,
    /// Every token is bound to the certificate of the connection that asked for it.
    pub bound_tokens: bool,
    /// Every token request carries a DPoP proof, and the token is bound to
    /// its key (RFC 9449 §5.2 `dpop_bound_access_tokens`).
    pub dpop_bound: bool,
    /// External workloads whose platform tokens authenticate the client,
    /// whatever its methods.
    pub federated: Vec<FederatedIdentity>,
}

impl Default for ClientAuth {
    /// What clients registered before these settings have: secrets, unbound tokens.
    fn default() -> Self {
        Self {
            methods: AuthMethods::SECRET,
            tls_subject: None,
            jwks: None,
            jwks_uri: None,
            bound_tokens: false,
            dpop_bound: false,
            federated: Vec::new(),
        }
    }
}

impl ClientAuth {
    /// Checks that the settings fit together: each method has what it
    /// needs, and nothing is set for a method the client lacks. A refusal
    /// names the registration field it is about (its name in the contract).
    /// `key_grant`: the client may use the JWT bearer grant, whose assertions
    /// its keys verify too.
    pub fn check(&self, key_grant: bool) -> Result<(), (&'static str, InvalidValue)> {
        const METHODS: &str = "token_endpoint_auth_methods";
        let uses = |method| self.methods.contains(method);
        let refuse = |field, why: String| Err((field, InvalidValue(why)));
        let lacks = |what: &str, methods: &str| {
            refuse(METHODS, format!("{what} is set but token_endpoint_auth_methods lacks {methods}"))
        };
        match (uses(AuthMethod::TlsClientAuth), self.tls_subject.is_some()) {
            (true, false) => {
                return refuse(
                    "tls_client_auth_subject_dn",
                    "tls_client_auth needs one of tls_client_auth_subject_dn, tls_client_auth_san_dns or tls_client_auth_san_uri"
                        .into(),
                );
            }
            (false, true) => return lacks("a tls_client_auth subject", "tls_client_auth"),
            _ => {}
        }
        if self.bound_tokens && self.dpop_bound {
            return refuse(
                "dpop_bound_access_tokens",
                "a client's tokens are bound to its certificate or to a DPoP key, not both".into(),
            );
        }
        let self_signed = uses(AuthMethod::SelfSignedTlsClientAuth);
        let key_jwt = uses(AuthMethod::PrivateKeyJwt);
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            // RFC 7591 §2: the two must not both be present.
            return refuse("jwks_uri", "set jwks or jwks_uri, not both".into());
        }
        if self_signed && !self.jwks.as_ref().is_some_and(Jwks::has_certificates) {
            return refuse(
                "jwks",
                "self_signed_tls_client_auth needs jwks whose keys carry certificates in x5c".into(),
            );
        }
        if key_jwt && self.jwks.is_none() && self.jwks_uri.is_none() {
            return refuse("jwks_uri", "private_key_jwt needs jwks or jwks_uri".into());
        }
        if self.jwks.is_some() && !self_signed && !key_jwt && !key_grant {
            return refuse(
                "jwks",
                "jwks is set but neither token_endpoint_auth_methods (self_signed_tls_client_auth, \
                 private_key_jwt) nor grant_types (the JWT bearer grant) use it"
                    .into(),
            );
        }
        if self.jwks_uri.is_some() && !key_jwt && !key_grant {
            return refuse(
                "jwks_uri",
                "jwks_uri is set but neither token_endpoint_auth_methods (private_key_jwt) nor \
                 grant_types (the JWT bearer grant) use it"
                    .into(),
            );
        }
        if self.federated.len() > MAX_IDENTITIES {
            return refuse(
                "federated_identities",
                format!("a client may have at most {MAX_IDENTITIES} federated identities"),
            );
        }
        Ok(())
    }

    /// Whether a secret may authenticate this client, sent the way it was.
    pub fn accepts_secret(&self, by_header: bool) -> bool {
        let method = if by_header { AuthMethod::ClientSecretBasic } else { AuthMethod::ClientSecretPost };
        self.methods.contains(method)
    }

    /// Whether `certificate` authenticates this client at `now`, by
    /// `tls_client_auth` or `self_signed_tls_client_auth`.
    pub fn accepts_certificate(&self, certificate: &PeerCertificate, now: i64) -> bool {
        let by_ca = self.methods.contains(AuthMethod::TlsClientAuth)
            && certificate.is_trusted_at(now)
            && self.tls_subject.as_ref().is_some_and(|subject| subject.matches(certificate));
        let self_signed = self.methods.contains(AuthMethod::SelfSignedTlsClientAuth)
            && self.jwks.as_ref().is_some_and(|keys| keys.contains(certificate));
        by_ca || self_signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_certificate_field_may_name_the_client() {
        assert_eq!(CertificateSubject::parse("", "", "").unwrap(), None);
        let uri = CertificateSubject::parse("", "", "spiffe://example.org/orders").unwrap();
        assert_eq!(uri, Some(CertificateSubject::SanUri("spiffe://example.org/orders".into())));
        assert!(CertificateSubject::parse("CN=a", "a.example", "").is_err());
        assert!(CertificateSubject::parse("", "a b", "").is_err());
    }

    #[test]
    fn each_certificate_method_needs_its_settings_and_only_then() {
        let tls = AuthMethods::parse_each(["tls_client_auth"]).unwrap();
        let mut auth = ClientAuth { methods: tls, ..ClientAuth::default() };
        assert!(auth.check(false).is_err(), "tls_client_auth without a subject");
        auth.tls_subject = Some(CertificateSubject::SanDns("a.example".into()));
        auth.check(false).unwrap();
        auth.methods = AuthMethods::SECRET;
        assert!(auth.check(false).is_err(), "a subject without tls_client_auth");
    }

    #[test]
    fn private_key_jwt_needs_keys_inline_or_at_a_url_but_not_both() {
        let methods = AuthMethods::parse_each(["private_key_jwt"]).unwrap();
        let mut auth = ClientAuth { methods, ..ClientAuth::default() };
        assert!(auth.check(false).is_err(), "no keys");
        auth.jwks_uri = Some(JwksUri::parse("jwks_uri", "https://keys.example/jwks").unwrap());
        auth.check(false).unwrap();
        let jwks =
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        auth.jwks = Some(Jwks::parse(jwks).unwrap());
        assert!(auth.check(false).is_err(), "both");
        auth.jwks_uri = None;
        auth.check(false).unwrap();
        auth.methods = AuthMethods::parse_each(["self_signed_tls_client_auth"]).unwrap();
        assert!(auth.check(false).is_err(), "self-signed TLS needs certificates in x5c");
        auth.methods = AuthMethods::SECRET;
        assert!(auth.check(false).is_err(), "keys without a method that uses them");
        auth.check(true).unwrap();
    }

    #[test]
    fn secrets_are_accepted_only_the_ways_the_client_may_send_them() {
        let basic_only = ClientAuth {
            methods: AuthMethods::parse_each(["client_secret_basic"]).unwrap(),
            ..ClientAuth::default()
        };
        assert!(basic_only.accepts_secret(true));
        assert!(!basic_only.accepts_secret(false));
    }
}
