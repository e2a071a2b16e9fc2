//! Gathering what a gRPC caller presented to authenticate.

use std::sync::Arc;

use tonic::{Extensions, metadata::MetadataMap};

use crate::{
    authority::{BodyCredentials, Presented},
    domain::Peer,
};

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
