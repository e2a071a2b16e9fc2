//! Reading a request safely: the body within a size and time bound, its media
//! type, and the `Authorization` header.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, StatusCode, header},
};

use super::reply::{Rejection, Scheme};
use crate::authority::Authorization;

/// Token, introspection and revocation requests are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// A client that has not sent its body by then is slow or hostile.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The body, refused with 413 past [`MAX_BODY_BYTES`] and 408 past [`BODY_TIMEOUT`].
pub async fn body(body: Body) -> Result<Bytes, Rejection> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => Err(Rejection::invalid_request(
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        )),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                Rejection::invalid_request(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body exceeds {} KiB", MAX_BODY_BYTES / 1024),
                )
            } else {
                Rejection::invalid_request(StatusCode::BAD_REQUEST, "the request body could not be read")
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
        Rejection::invalid_request(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {}", names.join(" or ")),
        )
    })
}

/// The parsed `Authorization` header and the scheme it used.
pub fn authorization(headers: &HeaderMap) -> Result<(Option<Authorization>, Scheme), Rejection> {
    let values = headers.get_all(header::AUTHORIZATION).iter().map(|value| value.as_bytes());
    let parsed = Authorization::from_values(values).map_err(|err| Rejection::auth(err, Scheme::None))?;
    let scheme = match parsed {
        Some(Authorization::Basic { .. }) => Scheme::Basic,
        Some(Authorization::Bearer(_)) => Scheme::Bearer,
        None => Scheme::None,
    };
    Ok((parsed, scheme))
}
