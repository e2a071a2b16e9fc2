//! `POST /oauth/v2/token`: the client-credentials grant (RFC 6749 §4.4) in
//! form or JSON encoding, with any client authentication method.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{Extensions, HeaderMap, StatusCode, request::Parts},
    response::Response,
};
use serde::Deserialize;
use serde_json::json;
use tokend_common::wire::DPOP_HEADER;

use super::{
    form::Form,
    request::{self, MediaType},
};
use crate::{
    authority::{AuthError, Authority, BodyCredentials, Exchange, IssuedToken, TokenRequest},
    http::{Rejection, no_store_json},
    observe::access_log,
    observe::metrics::{Metrics, Protocol},
};

pub async fn issue(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    match issue_token(&authority, request, &[MediaType::Form, MediaType::Json], Protocol::Http).await {
        Ok(issued) => {
            let mut body = json!({
                "access_token": issued.access_token,
                "token_type": issued.token_type,
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            });
            if let Some(kind) = issued.issued_token_type {
                body["issued_token_type"] = json!(kind);
            }
            no_store_json(StatusCode::OK, &body)
        }
        Err(rejection) => rejection.oauth(),
    }
}

/// Reads a token request in one of `accepted` encodings and asks the authority
/// for a token; shared by the OAuth and TokenIDP dialects.
pub async fn issue_token(
    authority: &Authority,
    request: Request,
    accepted: &[MediaType],
    protocol: Protocol,
) -> Result<IssuedToken, Rejection> {
    let (Parts { headers, extensions, .. }, body): (Parts, Body) = request.into_parts();
    let metrics = extensions.get::<Arc<Metrics>>().cloned();
    let issued = read_and_issue(authority, &headers, &extensions, body, accepted).await;
    if let Some(metrics) = metrics {
        let outcome = issued.as_ref().map(|issued| (issued.client_id.as_str(), issued.kind()));
        metrics.token_request(outcome.map_err(Rejection::reason), protocol);
    }
    if let Ok(issued) = &issued {
        access_log::authenticated(extensions.get(), &issued.client_id);
    }
    issued
}

async fn read_and_issue(
    authority: &Authority,
    headers: &HeaderMap,
    extensions: &Extensions,
    body: Body,
    accepted: &[MediaType],
) -> Result<IssuedToken, Rejection> {
    let media_type = request::media_type(headers, accepted)?;
    let bytes = request::body(body).await?;
    let params = match media_type {
        MediaType::Form => TokenParams::from_form(&Form::parse(&bytes)?)?,
        MediaType::Json => TokenParams::from_json(&bytes)?,
    };
    let request = TokenRequest {
        grant_type: params.grant_type,
        presented: request::presented(headers, extensions, params.credentials),
        scope: params.scope,
        audiences: params.audiences,
        exchange: params.exchange,
        assertion: params.assertion,
        dpop: request::dpop(headers, extensions),
    };
    Ok(authority.issue(request).await?)
}

/// The parameters of a token request, whatever their encoding.
struct TokenParams {
    grant_type: String,
    credentials: BodyCredentials,
    scope: String,
    audiences: Vec<String>,
    exchange: Exchange,
    /// The JWT bearer grant's assertion (RFC 7523 §2.1).
    assertion: String,
}

impl TokenParams {
    /// `audience` and RFC 8707's `resource` may repeat and are merged; no
    /// other parameter may.
    fn from_form(form: &Form) -> Result<Self, Rejection> {
        form.reject_repeats(&["audience", "resource"])?;
        if form.get(DPOP_HEADER).is_some() {
            return Err(AuthError::InvalidRequest(
                "a DPoP proof goes in the DPoP header, not the body".into(),
            )
            .into());
        }
        let mut audiences = form.all("audience");
        audiences.extend(form.all("resource"));
        Ok(TokenParams {
            grant_type: form.get("grant_type").unwrap_or_default(),
            credentials: form.credentials(),
            scope: form.get("scope").unwrap_or_default(),
            audiences,
            exchange: Exchange {
                subject_token: form.get("subject_token").unwrap_or_default(),
                subject_token_type: form.get("subject_token_type").unwrap_or_default(),
                actor_token: form.get("actor_token").unwrap_or_default(),
                actor_token_type: form.get("actor_token_type").unwrap_or_default(),
                requested_token_type: form.get("requested_token_type").unwrap_or_default(),
                request_context: form.get("request_context").unwrap_or_default(),
                request_details: form.get("request_details").unwrap_or_default(),
            },
            assertion: form.get("assertion").unwrap_or_default(),
        })
    }

    /// The proto3 JSON names of `IssueTokenRequest` or their snake_case forms;
    /// unknown fields are refused, so a typo is not silently ignored.
    fn from_json(bytes: &[u8]) -> Result<Self, Rejection> {
        let body: JsonTokenRequest = serde_json::from_slice(bytes)
            .map_err(|err| AuthError::InvalidRequest(format!("the JSON body is invalid: {err}")))?;
        Ok(TokenParams {
            grant_type: body.grant_type.unwrap_or_default(),
            credentials: BodyCredentials {
                client_id: body.client_id.unwrap_or_default(),
                client_secret: body.client_secret.unwrap_or_default(),
                client_assertion_type: body.client_assertion_type.unwrap_or_default(),
                client_assertion: body.client_assertion.unwrap_or_default(),
            },
            scope: body.scope.unwrap_or_default(),
            audiences: match body.audience {
                None => Vec::new(),
                Some(OneOrMany::One(audience)) => vec![audience],
                Some(OneOrMany::Many(audiences)) => audiences,
            },
            exchange: Exchange::default(),
            assertion: body.assertion.unwrap_or_default(),
        })
    }
}

/// [`TokenParams::from_json`], for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub(super) fn fuzz_json(bytes: &[u8]) -> bool {
    TokenParams::from_json(bytes).is_ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTokenRequest {
    #[serde(rename = "grantType", alias = "grant_type")]
    grant_type: Option<String>,
    #[serde(rename = "clientId", alias = "client_id")]
    client_id: Option<String>,
    #[serde(rename = "clientSecret", alias = "client_secret")]
    client_secret: Option<String>,
    #[serde(rename = "clientAssertionType", alias = "client_assertion_type")]
    client_assertion_type: Option<String>,
    #[serde(rename = "clientAssertion", alias = "client_assertion")]
    client_assertion: Option<String>,
    scope: Option<String>,
    audience: Option<OneOrMany>,
    assertion: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_json_body_is_read_or_refused_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = TokenParams::from_json(&body);
        }

        #[test]
        fn any_json_shaped_body_is_read_or_refused_without_panicking(
            fields in proptest::collection::vec(
                (proptest::sample::select(&["grantType", "client_id", "scope", "audience", "other"][..]), ".{0,20}"),
                0..6,
            )
        ) {
            let body: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(name, value)| (name.to_owned(), value.into())).collect();
            let _ = TokenParams::from_json(&serde_json::to_vec(&body).unwrap());
        }
    }
}
