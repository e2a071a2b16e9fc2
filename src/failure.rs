//! The one place where an authority error becomes what a caller sees: its gRPC
//! code, its HTTP status and its OAuth error code (sent as
//! `google.rpc.ErrorInfo.reason`, domain "tokend", over gRPC and as `error` over
//! HTTP), so the two protocols never disagree. Internal causes are logged here
//! and never sent.

use std::collections::HashMap;

use axum::http::StatusCode;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::authority::AuthError;

/// The `ErrorInfo.domain` of every error tokend returns.
pub const ERROR_DOMAIN: &str = "tokend";

/// How one error looks on the wire, whatever the protocol.
pub struct Failure {
    pub code: Code,
    pub http: StatusCode,
    /// The OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1, RFC 8707), or a
    /// snake_case name for errors OAuth does not define.
    pub reason: &'static str,
    pub message: String,
}

impl From<AuthError> for Failure {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        let (code, http, reason) = match &err {
            AuthError::InvalidRequest(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_request")
            }
            AuthError::UnsupportedGrantType(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "unsupported_grant_type")
            }
            AuthError::InvalidClient(_) => {
                (Code::Unauthenticated, StatusCode::UNAUTHORIZED, "invalid_client")
            }
            AuthError::UnauthorizedClient(_) => {
                (Code::PermissionDenied, StatusCode::BAD_REQUEST, "unauthorized_client")
            }
            AuthError::InvalidScope(_) => (Code::PermissionDenied, StatusCode::BAD_REQUEST, "invalid_scope"),
            AuthError::InvalidTarget(_) => {
                (Code::PermissionDenied, StatusCode::BAD_REQUEST, "invalid_target")
            }
            AuthError::InvalidToken(_) => (Code::Unauthenticated, StatusCode::UNAUTHORIZED, "invalid_token"),
            AuthError::InsufficientScope(_) => {
                (Code::PermissionDenied, StatusCode::FORBIDDEN, "insufficient_scope")
            }
            AuthError::InvalidArgument(_) => {
                (Code::InvalidArgument, StatusCode::BAD_REQUEST, "invalid_argument")
            }
            AuthError::NotFound(_) => (Code::NotFound, StatusCode::NOT_FOUND, "not_found"),
            AuthError::AlreadyExists(_) => (Code::AlreadyExists, StatusCode::CONFLICT, "already_exists"),
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
                };
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = %chain(cause.as_ref()), "internal error");
                (Code::Internal, StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        };
        Failure { code, http, reason, message }
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

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        let failure = Failure::from(err);
        let details =
            ErrorDetails::with_error_info(failure.reason, ERROR_DOMAIN, HashMap::<String, String>::new());
        Status::with_error_details(failure.code, failure.message, details)
    }
}
