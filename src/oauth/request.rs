//! Reading an OAuth request: the body within the endpoints' size bound, its
//! media type, and what the caller presented to authenticate.

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    http::{Extensions, HeaderMap, header},
};

use tokend_common::wire::DPOP_HEADER;

use crate::http::{Rejection, read_body};
use crate::{
    authority::{BodyCredentials, DpopPresented, Presented},
    domain::Peer,
    failure::Refusal,
    limits::MAX_BODY_BYTES,
};

/// The body of an OAuth endpoint, within [`MAX_BODY_BYTES`].
pub async fn body(body: Body) -> Result<Bytes, Rejection> {
    read_body(body, MAX_BODY_BYTES).await.map_err(Rejection::from)
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

/// The request's `DPoP` headers and the URL it reached.
pub fn dpop(headers: &HeaderMap, extensions: &Extensions) -> DpopPresented {
    DpopPresented::gather(headers.get_all(DPOP_HEADER).iter().map(|value| value.as_bytes()), extensions.get())
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
