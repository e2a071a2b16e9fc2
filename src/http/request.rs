//! Reading a request safely: the body within a size and time bound, its media
//! type, and what the caller presented to authenticate.

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    http::{Extensions, HeaderMap, header},
};

use super::reply::Rejection;
use crate::{
    authority::{AuthError, BodyCredentials, Presented},
    domain::Peer,
    failure::{Failure, Refusal},
    limits::{BODY_TIMEOUT, MAX_BODY_BYTES},
};

/// The body of an OAuth endpoint, within [`MAX_BODY_BYTES`].
pub async fn body(body: Body) -> Result<Bytes, Rejection> {
    read_body(body, MAX_BODY_BYTES).await.map_err(Rejection::from)
}

/// The body, refused (413 over HTTP) past `limit` bytes and (408) past [`BODY_TIMEOUT`].
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Failure> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(Refusal::TooSlow("the request body did not arrive in time".into()).into()),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                Refusal::TooLarge(format!("the request body exceeds {} KiB", limit / 1024)).into()
            } else {
                AuthError::InvalidRequest("the request body could not be read".into()).into()
            })
        }
    }
}

/// The media types the endpoints read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Form,
    Json,
}

/// The request's media type if it is one of `accepted`; 415 otherwise.
pub fn media_type(headers: &HeaderMap, accepted: &[MediaType]) -> Result<MediaType, Rejection> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let found = match essence.as_str() {
        "application/x-www-form-urlencoded" => Some(MediaType::Form),
        "application/json" => Some(MediaType::Json),
        _ => None,
    };
    found.filter(|m| accepted.contains(m)).ok_or_else(|| {
        let names: Vec<_> = accepted
            .iter()
            .map(|m| match m {
                MediaType::Form => "application/x-www-form-urlencoded",
                MediaType::Json => "application/json",
            })
            .collect();
        Refusal::UnsupportedMediaType(format!("Content-Type must be {}", names.join(" or "))).into()
    })
}

/// What the caller presented to authenticate: every `Authorization` header,
/// the credentials the body carried, and the connection's client
/// certificate and address.
pub fn presented<'a>(
    headers: &'a HeaderMap,
    extensions: &Extensions,
    body: BodyCredentials,
) -> Presented<'a> {
    let authorization = headers.get_all(header::AUTHORIZATION).iter().map(|value| value.as_bytes()).collect();
    let peer = extensions.get::<Arc<Peer>>().cloned();
    Presented { authorization, body, peer }
}
