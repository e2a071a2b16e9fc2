//! Gathering what a gRPC caller presented to authenticate.

use tonic::metadata::MetadataMap;

use crate::authority::Presented;

/// Every `authorization` metadata entry, and the body's client id and secret.
pub fn presented(metadata: &MetadataMap, client_id: String, client_secret: String) -> Presented<'_> {
    let authorization =
        metadata.get_all("authorization").iter().map(|value| value.as_encoded_bytes()).collect();
    Presented { authorization, client_id, client_secret }
}
