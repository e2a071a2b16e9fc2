//! Certificate-bound tokens (RFC 8705 §3): a token with `cnf.x5t#S256` is
//! accepted only from a caller whose TLS client certificate has that
//! thumbprint.

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http::Extensions;
use serde::Deserialize;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::{Claims, VerifyError};

/// What a bound token is bound to (RFC 7800 `cnf`): a client certificate or a DPoP key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Confirmation {
    /// The base64url SHA-256 of the DER certificate the token must come with.
    #[serde(rename = "x5t#S256", default)]
    pub x5t_s256: Option<String>,
    /// The RFC 7638 thumbprint of the DPoP key whose proofs must come with it (RFC 9449).
    #[serde(default)]
    pub jkt: Option<String>,
}

/// The DER client certificate of the connection a request came on. tonic
/// servers with TLS provide it themselves; a server with its own TLS stack
/// puts this in each request's extensions for [`VerifyLayer`](super::VerifyLayer).
#[derive(Clone, Debug)]
pub struct PeerCertificate(pub Arc<[u8]>);

impl PeerCertificate {
    /// The client certificate in `extensions`: this type, or the first peer
    /// certificate of a tonic TLS connection.
    pub fn from_extensions(extensions: &Extensions) -> Option<PeerCertificate> {
        if let Some(certificate) = extensions.get::<PeerCertificate>() {
            return Some(certificate.clone());
        }
        let tls = extensions.get::<TlsConnectInfo<TcpConnectInfo>>()?;
        let chain = tls.peer_certs()?;
        chain.first().map(|leaf| PeerCertificate(Arc::from(leaf.as_ref())))
    }

    fn thumbprint(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest(&SHA256, &self.0))
    }
}

impl Claims {
    /// Whether the token may be used by a caller that presented `certificate`:
    /// an unbound token by anyone, a bound one only with the certificate it
    /// is bound to.
    pub fn confirm(&self, certificate: Option<&PeerCertificate>) -> Result<(), VerifyError> {
        let Some(x5t_s256) = self.cnf.as_ref().and_then(|cnf| cnf.x5t_s256.as_deref()) else {
            return Ok(());
        };
        match certificate {
            None => {
                Err(VerifyError::invalid("token is bound to a client certificate and none was presented"))
            }
            Some(certificate) if certificate.thumbprint() == x5t_s256 => Ok(()),
            Some(_) => Err(VerifyError::invalid("token is bound to another client certificate")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(cnf: Option<&[u8]>) -> Claims {
        let mut claims: Claims = serde_json::from_str(r#"{"iss":"i","sub":"s","aud":"a","exp":1}"#).unwrap();
        claims.cnf = cnf.map(|der| Confirmation {
            x5t_s256: Some(URL_SAFE_NO_PAD.encode(digest(&SHA256, der))),
            jkt: None,
        });
        claims
    }

    #[test]
    fn a_bound_token_needs_its_own_certificate() {
        let mine = PeerCertificate(Arc::from(&b"my certificate"[..]));
        let other = PeerCertificate(Arc::from(&b"another certificate"[..]));
        let bound = claims(Some(b"my certificate"));
        assert!(bound.confirm(Some(&mine)).is_ok());
        assert!(bound.confirm(Some(&other)).is_err());
        assert!(bound.confirm(None).is_err());
        let unbound = claims(None);
        assert!(unbound.confirm(None).is_ok() && unbound.confirm(Some(&other)).is_ok());
    }

    #[test]
    fn the_confirmation_is_read_from_the_token() {
        let json = r#"{"iss":"i","sub":"s","aud":"a","exp":1,"cnf":{"x5t#S256":"abc"}}"#;
        let claims: Claims = serde_json::from_str(json).unwrap();
        assert_eq!(claims.cnf, Some(Confirmation { x5t_s256: Some("abc".into()), jkt: None }));
    }
}
