//! The client certificate a TLS connection presented, examined once when the
//! connection opens: its thumbprint (RFC 8705 `x5t#S256`), its subject and
//! SANs, and whether (and until when) it chains to the client CA.

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use x509_parser::{certificate::X509Certificate, extensions::GeneralName, prelude::FromDer, x509::X509Name};

use super::DistinguishedName;

/// The SHA-256 of a certificate's DER, in base64url: RFC 8705's `x5t#S256`.
pub fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, der))
}

/// What tokend knows of a connection's client certificate. Only a
/// certificate whose key the peer proved it holds (the TLS handshake did)
/// becomes one.
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    thumbprint: String,
    /// The end of the validity of the chain to the client CA (the earliest
    /// `notAfter` in it); `None` when it does not chain to that CA.
    trusted_until: Option<i64>,
    subject: DistinguishedName,
    san_dns: Vec<String>,
    san_uris: Vec<String>,
}

impl PeerCertificate {
    /// Examines a certificate chain in DER, leaf first; `chains_to_ca` is what
    /// the chain check found. `None` if the leaf does not parse as X.509.
    pub fn examine(chain: &[&[u8]], chains_to_ca: bool) -> Option<Self> {
        let (der, _) = chain.split_first()?;
        let (_, certificate) = X509Certificate::from_der(der).ok()?;
        // The chain holds until the first of its certificates expires.
        let trusted_until = chains_to_ca.then(|| {
            chain
                .iter()
                .filter_map(|der| X509Certificate::from_der(der).ok())
                .map(|(_, certificate)| certificate.validity().not_after.timestamp())
                .min()
                .unwrap_or(i64::MIN)
        });
        let (mut san_dns, mut san_uris) = (Vec::new(), Vec::new());
        if let Ok(Some(san)) = certificate.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => san_dns.push(dns.to_ascii_lowercase()),
                    GeneralName::URI(uri) => san_uris.push((*uri).to_owned()),
                    _ => {}
                }
            }
        }
        Some(Self {
            thumbprint: thumbprint(der),
            trusted_until,
            subject: subject(certificate.subject()),
            san_dns,
            san_uris,
        })
    }

    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Whether the certificate chains to the client CA and the chain is valid at `now`.
    pub fn is_trusted_at(&self, now: i64) -> bool {
        self.trusted_until.is_some_and(|until| now < until)
    }

    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    /// Whether a DNS SAN is `name` (compared without regard to ASCII case).
    pub fn has_san_dns(&self, name: &str) -> bool {
        self.san_dns.iter().any(|dns| dns.eq_ignore_ascii_case(name))
    }

    /// Whether a URI SAN is exactly `uri` (a SPIFFE ID, for example).
    pub fn has_san_uri(&self, uri: &str) -> bool {
        self.san_uris.iter().any(|candidate| candidate == uri)
    }
}

/// The subject, attribute by attribute; a value that is not a string is
/// kept as `#` and its hex, as RFC 4514 writes such values.
fn subject(name: &X509Name<'_>) -> DistinguishedName {
    let rdns = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let value = attribute.as_str().map(str::to_owned).unwrap_or_else(|_| {
                        let raw = attribute.attr_value().data;
                        format!("#{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>())
                    });
                    (attribute.attr_type().to_id_string(), value)
                })
                .collect()
        })
        .collect();
    DistinguishedName::from_certificate(rdns)
}
