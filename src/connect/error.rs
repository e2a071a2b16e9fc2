//! Errors in Connect's JSON shape: `{"code", "message", "details"}`. A call
//! refused before its method ran is written from its [`Failure`], with the
//! HTTP status and headers `failure.rs` decided; a method's own error comes
//! back from the gRPC services as a status, answered with the HTTP status
//! the Connect protocol gives its code. Either way the `google.rpc.ErrorInfo`
//! detail carries the same OAuth reason as over gRPC.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use prost::Message;
use serde_json::{Map, Value, json};
use tonic::{Code, Status};

use super::{codec, descriptors};
use crate::{
    authority::AuthError,
    failure::{DPOP_NONCE_HEADER, Failure, Refusal},
    http::no_store_json,
};

/// Why a Connect call has no message to answer with.
pub enum Unanswered {
    /// Refused before its method ran: the request's shape, metadata or body.
    Refused(Failure),
    /// The method ran and failed.
    Failed(Status),
}

impl From<Failure> for Unanswered {
    fn from(failure: Failure) -> Self {
        Unanswered::Refused(failure)
    }
}

impl From<AuthError> for Unanswered {
    fn from(err: AuthError) -> Self {
        Unanswered::Refused(Failure::from(err))
    }
}

impl From<Refusal> for Unanswered {
    fn from(refusal: Refusal) -> Self {
        Unanswered::Refused(Failure::from(refusal))
    }
}

impl Unanswered {
    /// The error answer.
    pub fn response(self) -> Response {
        match self {
            Unanswered::Refused(failure) => refused(failure),
            Unanswered::Failed(status) => {
                let (_, http) = connect_code(status.code());
                body(&status, http)
            }
        }
    }
}

/// A refusal written from its failure: its own HTTP status, and `Allow` for a wrong method.
fn refused(failure: Failure) -> Response {
    let (http, allow) = (failure.http, failure.allow);
    let mut response = body(&Status::from(failure), http);
    if let Some(allowed) = allow {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
    }
    response
}

/// The JSON body for `status`, answered with `http`.
fn body(status: &Status, http: StatusCode) -> Response {
    let (name, _) = connect_code(status.code());
    let mut body = Map::new();
    body.insert("code".into(), name.into());
    if !status.message().is_empty() {
        body.insert("message".into(), status.message().into());
    }
    let details = details(status.details());
    if !details.is_empty() {
        body.insert("details".into(), Value::Array(details));
    }
    let mut response = no_store_json(http, &Value::Object(body));
    // Connect sends an error's metadata as headers.
    let nonce = status.metadata().get(DPOP_NONCE_HEADER).and_then(|nonce| nonce.to_str().ok());
    if let Some(nonce) = nonce.and_then(|nonce| HeaderValue::from_str(nonce).ok()) {
        response.headers_mut().insert(DPOP_NONCE_HEADER, nonce);
    }
    response
}

/// The answer to a body in a media type Connect unary calls do not use: 415,
/// naming those it does, also as `Accept-Post`.
pub fn unsupported_media_type() -> Response {
    let message = format!("Content-Type must be {}", codec::ACCEPTED);
    let mut response = refused(Failure::from(Refusal::UnsupportedMediaType(message)));
    response.headers_mut().insert("accept-post", HeaderValue::from_static(codec::ACCEPTED));
    response
}

/// Each `google.rpc.Status` detail as `{"type", "value", "debug"}`: the
/// message's full name, its protobuf bytes in base64, and, for the types the
/// server knows, the message as JSON.
fn details(encoded: &[u8]) -> Vec<Value> {
    let Ok(status) = tonic_types::pb::Status::decode(encoded) else { return Vec::new() };
    let pool = descriptors();
    status
        .details
        .iter()
        .map(|any| {
            let name = any.type_url.rsplit('/').next().unwrap_or(&any.type_url);
            let mut detail = json!({ "type": name, "value": STANDARD_NO_PAD.encode(&any.value) });
            let debug = pool
                .get_message_by_name(name)
                .and_then(|descriptor| codec::to_json(descriptor, &any.value).ok());
            if let Some(debug) = debug.and_then(|json| serde_json::from_slice::<Value>(&json).ok()) {
                detail["debug"] = debug;
            }
            detail
        })
        .collect()
}

/// The Connect name of a code and the HTTP status Connect answers it with.
fn connect_code(code: Code) -> (&'static str, StatusCode) {
    match code {
        Code::Ok => ("ok", StatusCode::OK),
        Code::Cancelled => ("canceled", StatusCode::from_u16(499).expect("499 is a status code")),
        Code::Unknown => ("unknown", StatusCode::INTERNAL_SERVER_ERROR),
        Code::InvalidArgument => ("invalid_argument", StatusCode::BAD_REQUEST),
        Code::DeadlineExceeded => ("deadline_exceeded", StatusCode::GATEWAY_TIMEOUT),
        Code::NotFound => ("not_found", StatusCode::NOT_FOUND),
        Code::AlreadyExists => ("already_exists", StatusCode::CONFLICT),
        Code::PermissionDenied => ("permission_denied", StatusCode::FORBIDDEN),
        Code::ResourceExhausted => ("resource_exhausted", StatusCode::TOO_MANY_REQUESTS),
        Code::FailedPrecondition => ("failed_precondition", StatusCode::BAD_REQUEST),
        Code::Aborted => ("aborted", StatusCode::CONFLICT),
        Code::OutOfRange => ("out_of_range", StatusCode::BAD_REQUEST),
        Code::Unimplemented => ("unimplemented", StatusCode::NOT_IMPLEMENTED),
        Code::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        Code::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        Code::DataLoss => ("data_loss", StatusCode::INTERNAL_SERVER_ERROR),
        Code::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED),
    }
}
