//! Gathering what a gRPC caller presented to authenticate.

use std::sync::Arc;

use tonic::{Extensions, metadata::MetadataMap, transport::server::TcpConnectInfo};

use crate::{authority::Presented, domain::PeerCertificate};

/// Every `authorization` metadata entry, the body's client id and secret,
/// and the connection's client certificate and address.
pub fn presented<'a>(
    metadata: &'a MetadataMap,
    extensions: &Extensions,
    client_id: String,
    client_secret: String,
) -> Presented<'a> {
    let authorization =
        metadata.get_all("authorization").iter().map(|value| value.as_encoded_bytes()).collect();
    let certificate = extensions.get::<Arc<PeerCertificate>>().cloned();
    let address = extensions.get::<TcpConnectInfo>().and_then(|info| info.remote_addr).map(|addr| addr.ip());
    Presented { authorization, client_id, client_secret, certificate, address }
}
