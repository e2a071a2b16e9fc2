//! `POST /oauth/v2/introspect` (RFC 7662) and `POST /oauth/v2/revoke` (RFC 7009).
//! The caller authenticates with Basic, with `client_id`/`client_secret` in
//! the form, or with a Bearer token.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    form::Form,
    reply::{Rejection, no_store_json},
    request::{self, MediaType},
};
use crate::{
    authority::{Authority, Introspection, Presented},
    metrics::Metrics,
};

pub async fn introspect(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let form = read(&parts.headers, body).await?;
        let token = form.get("token").unwrap_or_default();
        Ok::<_, Rejection>(authority.introspect(presented(&parts, &form), &token).await?)
    };
    let answer = answer.await;
    if let (Ok(answer), Some(metrics)) = (&answer, parts.extensions.get::<Arc<Metrics>>()) {
        metrics.introspected(matches!(answer, Introspection::Active(_)));
    }
    match answer {
        Ok(Introspection::Inactive) => no_store_json(StatusCode::OK, &json!({ "active": false })),
        Ok(Introspection::Active(claims)) => {
            let mut body = json!({
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
            });
            // Only a bound token has a confirmation (RFC 8705 §3.2).
            if let Some(cnf) = claims.cnf {
                body["cnf"] = json!(cnf);
            }
            if let Some(federated) = claims.federated {
                body["federated"] = json!(federated);
            }
            if let Some(act) = claims.act {
                body["act"] = json!(act);
            }
            // The client's fixed claims, as top-level members (RFC 7662 §2.2);
            // none can shadow the members above, as their names are reserved.
            if let (serde_json::Value::Object(members), Some(fixed)) = (&mut body, claims.claims.members()) {
                members.extend(fixed.iter().map(|(name, value)| (name.clone(), value.clone())));
            }
            no_store_json(StatusCode::OK, &body)
        }
        Err(rejection) => rejection.oauth(),
    }
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
