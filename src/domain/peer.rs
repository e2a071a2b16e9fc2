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
