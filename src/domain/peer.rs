//! The other end of a connection, as the listener saw it when it accepted it.

use std::{net::IpAddr, sync::Arc};

use super::PeerCertificate;

/// Where a connection came from and, over TLS, the client certificate it
/// presented. Made once per connection; every request on it carries it.
#[derive(Debug)]
pub struct Peer {
    pub address: IpAddr,
    pub certificate: Option<Arc<PeerCertificate>>,
}

/// The URL a request reached this listener at: `https` over TLS, `http`
/// otherwise, the authority the client named (HTTP/2 `:authority`, HTTP/1.1
/// `Host`) and the path. Worked out only for requests that carry a DPoP
/// proof, which must name it (RFC 9449 §4.3); others pay nothing for it.
#[derive(Debug, Clone)]
pub struct ReachedUrl(pub url::Url);

impl ReachedUrl {
    /// The URL of a request with `uri` and `host` (its `Host` header), on a
    /// listener that speaks TLS or not.
    pub fn of(uri: &http::Uri, host: Option<&str>, tls: bool) -> Option<Self> {
        let authority = uri.authority().map(|authority| authority.as_str()).or(host)?;
        let scheme = if tls { "https" } else { "http" };
        url::Url::parse(&format!("{scheme}://{authority}{}", uri.path())).ok().map(Self)
    }
}
