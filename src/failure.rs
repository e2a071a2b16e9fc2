//! The one place where a failure becomes what a caller sees: its gRPC code,
//! its HTTP status, its OAuth error code (sent as `google.rpc.ErrorInfo.reason`,
//! domain "tokend", over gRPC and as `error` over HTTP) and its HTTP headers
//! (`WWW-Authenticate`, `Allow`) and, for a refused field, its name as a
//! `google.rpc.BadRequest` violation, so no two parts of an answer and no two
//! protocols disagree. Failures are the authority's errors and the refusals of
//! a request's wire shape ([`Refusal`]). Internal causes are logged here and
//! never sent.

use std::{collections::HashMap, time::Duration};

use axum::http::StatusCode;
use tokend_common::wire::ERROR_DOMAIN;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::authority::AuthError;

/// The challenge of a client that failed with the `Authorization` header (RFC 6749 §5.2).
const BASIC_CHALLENGE: &str = "Basic realm=\"tokend\"";
/// The challenges of a bearer token refused or short of scope (RFC 6750 §3).
const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"tokend\", error=\"invalid_token\"";
const INSUFFICIENT_SCOPE_CHALLENGE: &str = "Bearer realm=\"tokend\", error=\"insufficient_scope\"";

/// How one failure looks on the wire, whatever the protocol.
#[derive(Debug)]
pub struct Failure {
    pub code: Code,
    pub http: StatusCode,
    /// The OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 8707), or a
    /// snake_case name for errors OAuth does not define.
    pub reason: &'static str,
    pub message: String,
    /// The HTTP `WWW-Authenticate` challenge, if the failure calls for one.
    pub challenge: Option<&'static str>,
    /// The HTTP `Allow` header of a wrong method.
    pub allow: Option<&'static str>,
    /// When the caller may try again: gRPC `google.rpc.RetryInfo`, HTTP `Retry-After`.
    pub retry_after: Option<Duration>,
    /// The request field the failure is about, as the contract names it:
    /// a `google.rpc.BadRequest` field violation over gRPC and Connect.
    pub field: Option<&'static str>,
    /// The DPoP nonce the caller must use (RFC 9449 §8): HTTP `DPoP-Nonce`,
    /// gRPC and Connect metadata `dpop-nonce`.
    pub dpop_nonce: Option<Box<str>>,
}

/// The header (and metadata key) that carries a server-provided DPoP nonce.
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// A request refused for its shape on the wire, before any of it reaches the
/// authority. Malformed content (a repeated parameter, bad UTF-8 or JSON) is
/// [`AuthError::InvalidRequest`]; these need a status of their own.
#[derive(Debug)]
pub enum Refusal {
    /// The endpoint takes only these methods.
    MethodNotAllowed { allowed: &'static str },
    /// The body is in a media type the endpoint does not read.
    UnsupportedMediaType(String),
    /// The body is over the size limit.
    TooLarge(String),
    /// The body did not arrive in time.
    TooSlow(String),
    /// No endpoint at this path.
    NoEndpoint(String),
    /// What was asked for exists, but not in this form: a streaming method
    /// over Connect, a Status List as it was at a past time.
    NotImplemented(String),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        let (code, http, reason, message, allow) = match refusal {
            Refusal::MethodNotAllowed { allowed } => (
                Code::Unimplemented,
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                format!("this endpoint accepts {allowed}"),
                Some(allowed),
            ),
            Refusal::UnsupportedMediaType(message) => {
                (Code::InvalidArgument, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", message, None)
            }
            // Not RESOURCE_EXHAUSTED: clients retry that, and the same body will never fit.
            Refusal::TooLarge(message) => {
                (Code::InvalidArgument, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", message, None)
            }
            Refusal::TooSlow(message) => {
                (Code::DeadlineExceeded, StatusCode::REQUEST_TIMEOUT, "invalid_request", message, None)
            }
            Refusal::NoEndpoint(message) => {
                (Code::Unimplemented, StatusCode::NOT_FOUND, "not_found", message, None)
            }
            Refusal::NotImplemented(message) => {
                (Code::Unimplemented, StatusCode::NOT_IMPLEMENTED, "not_implemented", message, None)
            }
        };
        Failure {
            code,
            http,
            reason,
            message,
            challenge: None,
            allow,
            retry_after: None,
            field: None,
            dpop_nonce: None,
        }
    }
}

impl From<AuthError> for Failure {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        let challenge = match &err {
            AuthError::InvalidClient { by_header: true, .. } => Some(BASIC_CHALLENGE),
            AuthError::InvalidToken(_) => Some(INVALID_TOKEN_CHALLENGE),
            AuthError::InsufficientScope(_) => Some(INSUFFICIENT_SCOPE_CHALLENGE),
            _ => None,
        };
        let (code, http, reason) = match &err {
            AuthError::InvalidRequest(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_request")
            }
            AuthError::UnsupportedGrantType(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "unsupported_grant_type")
            }
            AuthError::InvalidClient { .. } => {
                (Code::Unauthenticated, StatusCode::UNAUTHORIZED, "invalid_client")
            }
            AuthError::UnauthorizedClient(_) => {
                (Code::PermissionDenied, StatusCode::BAD_REQUEST, "unauthorized_client")
            }
            AuthError::InvalidScope(_) => (Code::PermissionDenied, StatusCode::BAD_REQUEST, "invalid_scope"),
            AuthError::InvalidTarget(_) => {
                (Code::PermissionDenied, StatusCode::BAD_REQUEST, "invalid_target")
            }
            AuthError::InvalidDpopProof(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_dpop_proof")
            }
            AuthError::InvalidGrant(_) => (Code::Unauthenticated, StatusCode::BAD_REQUEST, "invalid_grant"),
            AuthError::UseDpopNonce { .. } => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "use_dpop_nonce")
            }
            AuthError::InvalidToken(_) => (Code::Unauthenticated, StatusCode::UNAUTHORIZED, "invalid_token"),
            AuthError::InsufficientScope(_) => {
                (Code::PermissionDenied, StatusCode::FORBIDDEN, "insufficient_scope")
            }
            AuthError::InvalidArgument(_) | AuthError::InvalidField { .. } => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_argument")
            }
            AuthError::InvalidClientMetadata { .. } => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_client_metadata")
            }
            AuthError::InvalidSoftwareStatement(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_software_statement")
            }
            AuthError::UnapprovedSoftwareStatement(_) => {
                (Code::PermissionDenied, StatusCode::BAD_REQUEST, "unapproved_software_statement")
            }
            AuthError::NotFound(_) => (Code::NotFound, StatusCode::NOT_FOUND, "not_found"),
            AuthError::AlreadyExists(_) => (Code::AlreadyExists, StatusCode::CONFLICT, "already_exists"),
            AuthError::FailedPrecondition(_) => {
                (Code::FailedPrecondition, StatusCode::CONFLICT, "failed_precondition")
            }
            AuthError::TooManyRequests { .. } => {
                (Code::ResourceExhausted, StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AuthError::Busy(_) => {
                (Code::Unavailable, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            AuthError::DeadlineExceeded(_) => {
                (Code::DeadlineExceeded, StatusCode::SERVICE_UNAVAILABLE, "deadline_exceeded")
            }
            AuthError::Unavailable(cause) => {
                tracing::warn!(error = %chain(cause), "store unavailable");
                (Code::Unavailable, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            AuthError::Misconfigured(cause) => {
                tracing::error!(error = %cause, "misconfigured");
                let message = "internal error".to_owned();
                return Failure {
                    code: Code::Internal,
                    http: StatusCode::INTERNAL_SERVER_ERROR,
                    reason: "server_error",
                    message,
                    challenge: None,
                    allow: None,
                    retry_after: None,
                    field: None,
                    dpop_nonce: None,
                };
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = %chain(cause.as_ref()), "internal error");
                (Code::Internal, StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        };
        let retry_after = match &err {
            AuthError::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let field = match &err {
            AuthError::InvalidField { field, .. } | AuthError::InvalidClientMetadata { field, .. } => {
                Some(*field).filter(|field| !field.is_empty())
            }
            _ => None,
        };
        let dpop_nonce = match err {
            AuthError::UseDpopNonce { nonce } => Some(nonce.into_boxed_str()),
            _ => None,
        };
        Failure { code, http, reason, message, challenge, allow: None, retry_after, field, dpop_nonce }
    }
}

/// An error and its causes on one line, for the log.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<Failure> for Status {
    fn from(failure: Failure) -> Self {
        let mut details =
            ErrorDetails::with_error_info(failure.reason, ERROR_DOMAIN, HashMap::<String, String>::new());
        if let Some(delay) = failure.retry_after {
            details.set_retry_info(Some(delay));
        }
        if let Some(field) = failure.field {
            details.add_bad_request_violation(field, failure.message.clone());
        }
        let mut status = Status::with_error_details(failure.code, failure.message, details);
        if let Some(nonce) = failure.dpop_nonce.and_then(|nonce| nonce.parse().ok()) {
            status.metadata_mut().insert(DPOP_NONCE_HEADER, nonce);
        }
        status
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        Status::from(Failure::from(refusal))
    }
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        Status::from(Failure::from(err))
    }
}
