//! How a client is registered to authenticate (RFC 7591, RFC 8705 §2): its
//! methods, the certificate that names it for `tls_client_auth`, the
//! certificates of its JWK Set for `self_signed_tls_client_auth`, and whether
//! its tokens are bound to its certificate.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;

use super::{AuthMethod, AuthMethods, DistinguishedName, InvalidValue, PeerCertificate, peer_certificate};

/// The largest JWK Set a registration may hold.
const MAX_JWKS_BYTES: usize = 64 * 1024;
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

/// A client's registered JWK Set (RFC 7517) and the thumbprints of the
/// certificates its keys carry in `x5c`, which `self_signed_tls_client_auth`
/// accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateKeys {
    text: String,
    thumbprints: Vec<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    x5c: Vec<String>,
}

impl CertificateKeys {
    /// Parses a JWK Set; each key's certificate is the first of its `x5c`
    /// (RFC 7517 §4.7), and at least one key must have one.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let invalid = |why: String| InvalidValue(format!("jwks is not a usable JWK Set: {why}"));
        if text.len() > MAX_JWKS_BYTES {
            return Err(invalid(format!("it is over {} KiB", MAX_JWKS_BYTES / 1024)));
        }
        let set: JwkSet = serde_json::from_str(text).map_err(|err| invalid(err.to_string()))?;
        let mut thumbprints = Vec::new();
        for key in &set.keys {
            if let Some(first) = key.x5c.first() {
                let der = STANDARD.decode(first).map_err(|_| invalid("an x5c entry is not base64".into()))?;
                thumbprints.push(peer_certificate::thumbprint(&der));
            }
        }
        if thumbprints.is_empty() {
            return Err(invalid("no key carries a certificate in x5c".into()));
        }
        Ok(Self { text: text.to_owned(), thumbprints })
    }

    /// The JWK Set as registered.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn contains(&self, certificate: &PeerCertificate) -> bool {
        self.thumbprints.iter().any(|thumbprint| thumbprint == certificate.thumbprint())
    }
}

/// How a client authenticates, and whether its tokens are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    pub methods: AuthMethods,
    /// What a `tls_client_auth` certificate must name; set exactly when that method is.
    pub tls_subject: Option<CertificateSubject>,
    /// The certificates `self_signed_tls_client_auth` accepts; set exactly when that method is.
    pub jwks: Option<CertificateKeys>,
    /// Every token is bound to the certificate of the connection that asked for it.
    pub bound_tokens: bool,
}

impl Default for ClientAuth {
    /// What clients registered before these settings have: secrets, unbound tokens.
    fn default() -> Self {
        Self { methods: AuthMethods::SECRET, tls_subject: None, jwks: None, bound_tokens: false }
    }
}

impl ClientAuth {
    /// Checks that the settings fit together: each certificate method has
    /// what it needs, and nothing is set for a method the client lacks.
    pub fn check(&self) -> Result<(), InvalidValue> {
        let pairs = [
            (
                AuthMethod::TlsClientAuth,
                self.tls_subject.is_some(),
                "one of tls_client_auth_subject_dn, tls_client_auth_san_dns or tls_client_auth_san_uri",
            ),
            (AuthMethod::SelfSignedTlsClientAuth, self.jwks.is_some(), "jwks"),
        ];
        for (method, present, what) in pairs {
            match (self.methods.contains(method), present) {
                (true, false) => {
                    return Err(InvalidValue(format!("{} needs {what}", method.as_str())));
                }
                (false, true) => {
                    return Err(InvalidValue(format!(
                        "{what} is set but token_endpoint_auth_methods lacks {}",
                        method.as_str()
                    )));
                }
                _ => {}
            }
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
    fn a_jwk_set_needs_a_certificate() {
        assert!(CertificateKeys::parse(r#"{"keys":[{"kty":"EC"}]}"#).is_err());
        assert!(CertificateKeys::parse("not json").is_err());
        let keys = CertificateKeys::parse(r#"{"keys":[{"kty":"EC","x5c":["AAEC"]}]}"#).unwrap();
        assert_eq!(keys.thumbprints, [peer_certificate::thumbprint(&[0, 1, 2])]);
    }

    #[test]
    fn each_certificate_method_needs_its_settings_and_only_then() {
        let tls = AuthMethods::parse_each(["tls_client_auth"]).unwrap();
        let mut auth = ClientAuth { methods: tls, ..ClientAuth::default() };
        assert!(auth.check().is_err(), "tls_client_auth without a subject");
        auth.tls_subject = Some(CertificateSubject::SanDns("a.example".into()));
        auth.check().unwrap();
        auth.methods = AuthMethods::SECRET;
        assert!(auth.check().is_err(), "a subject without tls_client_auth");
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
