//! Reading the caller's `authorization` metadata.

use tonic::metadata::MetadataMap;

use crate::authority::{AuthError, Authorization};

/// The parsed `authorization` entry, if the caller sent one.
pub fn authorization(metadata: &MetadataMap) -> Result<Option<Authorization>, AuthError> {
    Authorization::from_values(metadata.get_all("authorization").iter().map(|value| value.as_encoded_bytes()))
}

/// Treats an empty proto3 string as absent.
pub fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}
