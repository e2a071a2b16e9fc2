//! Gathering what a gRPC caller presented to authenticate.

use std::sync::Arc;

use tokend_common::wire::DPOP_HEADER;
use tonic::{Extensions, metadata::MetadataMap};

use crate::{
    authority::{BodyCredentials, DpopPresented, Presented},
    domain::Peer,
};

/// The call's `dpop` metadata entries and the URL it reached.
pub fn dpop(metadata: &MetadataMap, extensions: &Extensions) -> DpopPresented {
    let proofs = metadata.get_all(DPOP_HEADER).iter().map(|value| value.as_encoded_bytes());
    DpopPresented::gather(proofs, extensions.get())
}

/// Every `authorization` metadata entry, the credentials the body carried,
/// and the connection's client certificate and address.
pub fn presented<'a>(
    metadata: &'a MetadataMap,
    extensions: &Extensions,
    body: BodyCredentials,
) -> Presented<'a> {
    let authorization =
        metadata.get_all("authorization").iter().map(|value| value.as_encoded_bytes()).collect();
    let peer = extensions.get::<Arc<Peer>>().cloned();
    Presented { authorization, body, peer }
}
