//! `POST /oauth/v2/introspect` (RFC 7662) and `POST /oauth/v2/revoke` (RFC 7009).
//! The caller authenticates with Basic, with `client_id`/`client_secret` in
//! the form, or with a Bearer token.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    form::Form,
    reply::{Rejection, Scheme, no_store_json},
    request::{self, MediaType},
};
use crate::authority::{Authority, Credentials, Introspection};

pub async fn introspect(State(authority): State<Arc<Authority>>, headers: HeaderMap, body: Body) -> Response {
    let answer = async {
        let (credentials, token, scheme) = read(&headers, body).await?;
        authority.introspect(credentials, &token).await.map_err(|err| Rejection::auth(err, scheme))
    };
    match answer.await {
        Ok(Introspection::Inactive) => no_store_json(StatusCode::OK, &json!({ "active": false })),
        Ok(Introspection::Active(claims)) => no_store_json(
            StatusCode::OK,
            &json!({
                "active": true,
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "nbf": claims.nbf,
                "jti": claims.jti,
                "token_type": "Bearer",
            }),
        ),
        Err(rejection) => rejection.oauth(),
    }
}

pub async fn revoke(State(authority): State<Arc<Authority>>, headers: HeaderMap, body: Body) -> Response {
    let done = async {
        let (credentials, token, scheme) = read(&headers, body).await?;
        authority.revoke(credentials, &token).await.map_err(|err| Rejection::auth(err, scheme))
    };
    match done.await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(rejection) => rejection.oauth(),
    }
}

/// The caller's credentials and the `token` parameter of a form request.
async fn read(headers: &HeaderMap, body: Body) -> Result<(Option<Credentials>, String, Scheme), Rejection> {
    let (header, scheme) = request::authorization(headers)?;
    request::media_type(headers, &[MediaType::Form])?;
    let form = Form::parse(&request::body(body).await?)?;
    form.reject_repeats(&[])?;
    let credentials = Credentials::reconcile(header, form.get("client_id"), form.get("client_secret"))
        .map_err(|err| Rejection::auth(err, scheme))?;
    let token = form.get("token").ok_or_else(|| {
        Rejection::invalid_request(StatusCode::BAD_REQUEST, "the token parameter is required")
    })?;
    Ok((credentials, token, scheme))
}
