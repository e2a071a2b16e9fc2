//! The Token Status Lists over HTTP (draft-ietf-oauth-status-list-20 §8):
//! each list as a signed token verifiers cache for its `ttl`, with an ETag
//! for conditional requests, and the Status List Aggregation naming them all.

use std::sync::Arc;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use tokend_common::status_list::STATUS_LIST_MEDIA_TYPE;

use crate::{
    authority::{Authority, PublishedList},
    failure::Refusal,
    http::{Rejection, json_response},
};

/// `GET /oauth/v2/status/<list id>`: the list as a Status List Token, or 304
/// when `If-None-Match` names the one the caller holds. The draft's
/// historical resolution (`?time=`) is not offered: 501, as §8.4 asks.
pub async fn list(
    State(authority): State<Arc<Authority>>,
    Path(list): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Rejection> {
    let asks_for_time =
        query.is_some_and(|query| form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "time"));
    if asks_for_time {
        return Err(Refusal::NotImplemented(
            "status lists are served as they are now, not at a past time".into(),
        )
        .into());
    }
    let published = authority.status_list(&list).await?;
    let held = headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|value| value.to_str().ok());
    let unchanged = held.flat_map(|value| value.split(',')).any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == &*published.etag
    });
    let mut response = match unchanged {
        true => StatusCode::NOT_MODIFIED.into_response(),
        false => {
            let mut response = published.token.to_string().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(STATUS_LIST_MEDIA_TYPE));
            response
        }
    };
    cacheable(response.headers_mut(), &published);
    Ok(response)
}

/// `GET /oauth/v2/status`: the Status List Aggregation (§9).
pub async fn aggregation(State(authority): State<Arc<Authority>>) -> Result<Response, Rejection> {
    let uris = authority.status_list_uris().await?;
    let mut response = json_response(StatusCode::OK, &json!({ "status_lists": uris }));
    let max_age = format!("public, max-age={}", authority.status_list_ttl());
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_str(&max_age).expect("digits"));
    Ok(response)
}

/// The headers that let verifiers (browsers too, through CORS) cache a list for its `ttl`.
fn cacheable(headers: &mut HeaderMap, published: &PublishedList) {
    let max_age = format!("public, max-age={}", published.max_age);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_str(&max_age).expect("digits"));
    headers.insert(header::ETAG, HeaderValue::from_str(&published.etag).expect("base64url in quotes"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}
