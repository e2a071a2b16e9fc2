//! `POST /oauth/v2/register` (RFC 7591) and `GET`, `PUT`, `DELETE` on
//! `/oauth/v2/register/{client_id}` (RFC 7592): JSON client metadata in,
//! client information out. Who may register and what is the authority's to
//! decide.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::request::{self, MediaType};
use crate::{
    authority::{AuthError, Authority, BodyCredentials},
    http::{Rejection, no_store_json, read_body},
    limits::MAX_REGISTRATION_BYTES,
    observe::metrics::Metrics,
};

pub async fn register(State(authority): State<Arc<Authority>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let document = document(&parts.headers, body).await?;
        Ok::<_, Rejection>(authority.register_client(presented(&parts), &document).await?)
    };
    answer_with(&parts, "register", StatusCode::CREATED, answer.await)
}

pub async fn read(
    State(authority): State<Arc<Authority>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let answer = authority.registered_client(presented(&parts), &client_id).await.map_err(Rejection::from);
    answer_with(&parts, "read", StatusCode::OK, answer)
}

pub async fn update(
    State(authority): State<Arc<Authority>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let document = document(&parts.headers, body).await?;
        Ok::<_, Rejection>(
            authority.update_registered_client(presented(&parts), &client_id, &document).await?,
        )
    };
    answer_with(&parts, "update", StatusCode::OK, answer.await)
}

pub async fn delete(
    State(authority): State<Arc<Authority>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let done =
        authority.delete_registered_client(presented(&parts), &client_id).await.map_err(Rejection::from);
    count(&parts, "delete", &done);
    match done {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(rejection) => rejection.oauth(),
    }
}

/// The caller's bearer token and connection; registration takes nothing from the body.
fn presented(parts: &Parts) -> crate::authority::Presented<'_> {
    request::presented(&parts.headers, &parts.extensions, BodyCredentials::default())
}

/// The request's client metadata: a JSON document.
async fn document(headers: &HeaderMap, body: Body) -> Result<Value, Rejection> {
    request::media_type(headers, &[MediaType::Json])?;
    let bytes = read_body(body, MAX_REGISTRATION_BYTES).await?;
    serde_json::from_slice(&bytes).map_err(|err| {
        let message = format!("the client metadata is not JSON: {err}");
        Rejection::from(AuthError::InvalidClientMetadata { field: "", message })
    })
}

/// The client information with `status`, or the refusal; counted either way.
fn answer_with(
    parts: &Parts,
    operation: &'static str,
    status: StatusCode,
    answer: Result<Value, Rejection>,
) -> Response {
    count(parts, operation, &answer);
    match answer {
        Ok(information) => no_store_json(status, &information),
        Err(rejection) => rejection.oauth(),
    }
}

fn count<T>(parts: &Parts, operation: &'static str, outcome: &Result<T, Rejection>) {
    if let Some(metrics) = parts.extensions.get::<Arc<Metrics>>() {
        metrics.registration(operation, outcome.as_ref().map(|_| ()).map_err(Rejection::reason));
    }
}
