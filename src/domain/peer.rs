//! The other end of a connection, as the listener saw it when it accepted it.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use super::{InvalidValue, PeerCertificate};

/// Where a connection came from and, over TLS, the client certificate it
/// presented. Made once per connection; every request on it carries it,
/// but for a request whose certificate a trusted proxy forwards (RFC 9440),
/// which carries its own.
#[derive(Debug)]
pub struct Peer {
    pub address: IpAddr,
    pub certificate: Option<Arc<PeerCertificate>>,
    /// A certificate came both on the connection and from a proxy: which
    /// one proves the client is not for tokend to guess.
    pub ambiguous: bool,
}

impl Peer {
    /// The client certificate the request came with; refused when two did.
    pub fn client_certificate(&self) -> Result<Option<Arc<PeerCertificate>>, InvalidValue> {
        match self.ambiguous {
            true => Err(InvalidValue(
                "a client certificate came both over TLS and in Client-Cert: send one or the other".into(),
            )),
            false => Ok(self.certificate.clone()),
        }
    }
}

/// The URL a request reached this listener at: `https` over TLS, `http`
/// otherwise, the listener's own address and the path. Never the authority
/// the caller named (`Host`, `:authority`): a proof made for another
/// server's endpoint must not pass because the caller says it is that
/// server. Worked out only for requests that carry a DPoP proof, which must
/// name it (RFC 9449 §4.3); others pay nothing for it.
#[derive(Debug, Clone)]
pub struct ReachedUrl(pub url::Url);

impl ReachedUrl {
    /// The URL of `path` on a listener at `local` that speaks TLS or not.
    pub fn at(local: SocketAddr, path: &str, tls: bool) -> Option<Self> {
        let scheme = if tls { "https" } else { "http" };
        url::Url::parse(&format!("{scheme}://{local}{path}")).ok().map(Self)
    }
}
