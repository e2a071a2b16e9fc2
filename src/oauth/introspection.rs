//! `POST /oauth/v2/introspect` (RFC 7662; signed as RFC 9701 when asked for)
//! and `POST /oauth/v2/revoke` (RFC 7009).
//! The caller authenticates with Basic, with `client_id`/`client_secret` in
//! the form, or with a Bearer token.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};

use super::{
    form::Form,
    request::{self, MediaType},
};
use crate::{
    authority::{Authority, Introspected, Introspection, Presented},
    http::{Rejection, no_store_json},
    observe::metrics::Metrics,
};

pub async fn introspect(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let signed = wants_signed_answer(&parts.headers);
    let answer = async {
        let form = read(&parts.headers, body).await?;
        let token = form.get("token").unwrap_or_default();
        Ok::<_, Rejection>(authority.introspect(presented(&parts, &form), &token, signed).await?)
    };
    let answer = answer.await;
    if let (Ok(answer), Some(metrics)) = (&answer, parts.extensions.get::<Arc<Metrics>>()) {
        metrics.introspected(matches!(answer.answer, Introspection::Active(_)));
    }
    match answer {
        Ok(Introspected { signed: Some(jwt), .. }) => {
            let mut response = (StatusCode::OK, jwt).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SIGNED_ANSWER));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(Introspected { answer, signed: None }) => no_store_json(StatusCode::OK, &answer.to_json()),
        Err(rejection) => rejection.oauth(),
    }
}

/// The media type of a signed introspection answer (RFC 9701 §4).
const SIGNED_ANSWER: &str = "application/token-introspection+jwt";

/// Whether the caller's `Accept` names the signed answer's media type.
fn wants_signed_answer(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value.split(',').any(|range| {
            range.split(';').next().is_some_and(|kind| kind.trim().eq_ignore_ascii_case(SIGNED_ANSWER))
        })
    })
}

pub async fn revoke(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let done = async {
        let form = read(&parts.headers, body).await?;
        let token = form.get("token").unwrap_or_default();
        Ok::<_, Rejection>(authority.revoke(presented(&parts, &form), &token).await?)
    };
    match done.await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(rejection) => rejection.oauth(),
    }
}

/// The form of an introspection or revocation request; no parameter may repeat.
async fn read(headers: &HeaderMap, body: Body) -> Result<Form, Rejection> {
    request::media_type(headers, &[MediaType::Form])?;
    let form = Form::parse(&request::body(body).await?)?;
    form.reject_repeats(&[])?;
    Ok(form)
}

/// What the caller presented: its `Authorization` header or the credentials
/// in the form, and its connection's certificate.
fn presented<'a>(parts: &'a Parts, form: &Form) -> Presented<'a> {
    request::presented(&parts.headers, &parts.extensions, form.credentials())
}
