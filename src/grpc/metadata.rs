//! Reading the caller's `authorization` metadata.

use tonic::metadata::MetadataMap;

use crate::authority::{AuthError, Authorization};

/// The parsed `authorization` entry, if the caller sent one.
pub fn authorization(metadata: &MetadataMap) -> Result<Option<Authorization>, AuthError> {
    let Some(value) = metadata.get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidRequest("the authorization metadata is not visible ASCII".into()))?;
    Authorization::parse(value).map(Some)
}

/// Treats an empty proto3 string as absent.
pub fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}
