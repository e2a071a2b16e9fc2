//! Client certificates a TLS-terminating proxy forwards (RFC 9440, RFC 9700
//! §4.13): from the peer addresses the operator trusts (`--trusted-proxies`)
//! the `Client-Cert` and `Client-Cert-Chain` header fields stand for the
//! certificate the client presented to the proxy, examined exactly as one
//! presented on tokend's own listener. From any other address they are
//! ignored (and counted); with a certificate on tokend's own mTLS as well
//! the request is ambiguous, which the authority refuses.

use std::{
    net::IpAddr,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use base64::{Engine, engine::general_purpose::STANDARD};
use http::HeaderMap;
use rustls::{pki_types::CertificateDer, server::danger::ClientCertVerifier};

use super::tls::{self, TlsError};
use crate::domain::{Network, PeerCertificate};

/// The header field of the client's certificate (RFC 9440 §2.2).
pub const CLIENT_CERT: &str = "client-cert";
/// The header field of the rest of its chain (RFC 9440 §2.3).
pub const CLIENT_CERT_CHAIN: &str = "client-cert-chain";
/// Certificates read from `Client-Cert-Chain` at most.
const MAX_CHAIN: usize = 8;

/// What a request's forwarded certificate is.
#[derive(Debug)]
pub enum Forwarded {
    /// The request carries none (or carries one from an untrusted peer, ignored).
    None,
    /// A trusted proxy forwarded this certificate.
    Certificate(Arc<PeerCertificate>),
    /// A trusted proxy forwarded something that is no certificate.
    Unusable,
}

/// The proxies whose forwarded certificates are believed.
pub struct TrustedProxies {
    networks: Vec<Network>,
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
    /// Requests from untrusted peers that carried the header fields.
    ignored: AtomicU64,
}

impl std::fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedProxies").field("networks", &self.networks).finish_non_exhaustive()
    }
}

impl TrustedProxies {
    /// Trusts `networks`; forwarded certificates are checked against the
    /// CA bundle at `client_ca` (the listener's `--tls-client-ca`) when given.
    pub fn new(networks: Vec<Network>, client_ca: Option<&Path>) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client_ca = client_ca.map(|path| tls::client_ca(path, provider)).transpose()?;
        Ok(Self { networks, client_ca, ignored: AtomicU64::new(0) })
    }

    /// The certificate the request's header fields forward, if `peer` is a
    /// trusted proxy; `None` when there is none to believe.
    pub fn read(&self, peer: IpAddr, headers: &HeaderMap) -> Forwarded {
        let Some(leaf) = headers.get(CLIENT_CERT) else {
            return Forwarded::None;
        };
        if !self.networks.iter().any(|network| network.contains(peer)) {
            self.ignored.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "Client-Cert from a peer that is not a trusted proxy: ignored");
            return Forwarded::None;
        }
        let chain = headers.get(CLIENT_CERT_CHAIN).map_or(Some(Vec::new()), |value| {
            byte_sequences(value.to_str().ok()?).filter(|chain| chain.len() <= MAX_CHAIN)
        });
        let leaf = leaf.to_str().ok().and_then(byte_sequence);
        let (Some(leaf), Some(chain)) = (leaf, chain) else {
            return Forwarded::Unusable;
        };
        let chain: Vec<CertificateDer<'_>> =
            std::iter::once(leaf).chain(chain).map(CertificateDer::from).collect();
        match tls::examine(self.client_ca.as_deref(), &chain) {
            Some(certificate) => Forwarded::Certificate(certificate),
            None => Forwarded::Unusable,
        }
    }

    /// How many requests from untrusted peers carried a forwarded certificate.
    pub fn ignored(&self) -> u64 {
        self.ignored.load(Ordering::Relaxed)
    }
}

/// An RFC 8941 byte sequence: base64 between colons.
fn byte_sequence(item: &str) -> Option<Vec<u8>> {
    let inner = item.trim().strip_prefix(':')?.strip_suffix(':')?;
    STANDARD.decode(inner).ok().filter(|der| !der.is_empty())
}

/// An RFC 8941 list of byte sequences, comma-separated.
fn byte_sequences(list: &str) -> Option<Vec<Vec<u8>>> {
    list.split(',').filter(|item| !item.trim().is_empty()).map(byte_sequence).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        let networks = networks.iter().map(|text| Network::parse(text).unwrap()).collect();
        TrustedProxies::new(networks, None).unwrap()
    }

    fn headers(leaf: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CLIENT_CERT, leaf.parse().unwrap());
        headers
    }

    fn certificate() -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["orders.example".to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn a_trusted_proxys_certificate_is_read_and_anyone_elses_ignored() {
        let der = certificate();
        let forwarded = headers(&format!(":{}:", STANDARD.encode(&der)));
        let trusted = proxies(&["10.0.0.0/8"]);
        match trusted.read("10.1.2.3".parse().unwrap(), &forwarded) {
            Forwarded::Certificate(certificate) => {
                assert_eq!(certificate.thumbprint(), crate::domain::thumbprint(&der))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(trusted.read("192.0.2.1".parse().unwrap(), &forwarded), Forwarded::None));
        assert_eq!(trusted.ignored(), 1);
        assert!(matches!(trusted.read("10.1.2.3".parse().unwrap(), &HeaderMap::new()), Forwarded::None));
    }

    #[test]
    fn what_is_no_byte_sequence_of_a_certificate_is_unusable() {
        let trusted = proxies(&["127.0.0.1"]);
        let local = "127.0.0.1".parse().unwrap();
        for value in [&*STANDARD.encode(certificate()), ":not base64:", "::", ":aGVsbG8=:"] {
            assert!(matches!(trusted.read(local, &headers(value)), Forwarded::Unusable), "{value}");
        }
    }
}
