//! Why a token was refused, and how that is told to gRPC and HTTP callers (in one place).

use std::{collections::HashMap, fmt};
use tokend_common::wire::ERROR_DOMAIN;

use http::{HeaderValue, Response, StatusCode, header::WWW_AUTHENTICATE};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The algorithms a DPoP proof may be signed with, as the challenge names them.
pub(crate) const DPOP_ALGS: &str = "ES256 ES384 EdDSA RS256 PS256";

/// A request that may not proceed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// No `authorization: Bearer …` header.
    MissingToken,
    /// The token is malformed, forged, expired, revoked or for someone else.
    InvalidToken(&'static str),
    /// A DPoP-bound token came without a proof that holds (RFC 9449 §7).
    InvalidDpopProof(&'static str),
    /// The token is valid but lacks scopes; `required` lists all the call needs.
    InsufficientScope { required: String },
    /// Keys or introspection could not be had; the caller may retry.
    Unavailable(String),
}

impl VerifyError {
    pub(crate) fn invalid(reason: &'static str) -> Self {
        VerifyError::InvalidToken(reason)
    }

    /// The OAuth error code (RFC 6750 §3.1) a caller sees.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            VerifyError::MissingToken | VerifyError::InvalidToken(_) => "invalid_token",
            VerifyError::InvalidDpopProof(_) => "invalid_dpop_proof",
            VerifyError::InsufficientScope { .. } => "insufficient_scope",
            VerifyError::Unavailable(_) => "temporarily_unavailable",
        }
    }

    /// The answer to an HTTP caller: 401 or 403 with an RFC 6750
    /// `WWW-Authenticate` challenge, or 503; the body is empty.
    pub fn http_response<B: Default>(&self) -> Response<B> {
        let (status, challenge) = match self {
            VerifyError::MissingToken => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
            VerifyError::InvalidToken(reason) => (
                StatusCode::UNAUTHORIZED,
                format!(r#"Bearer error="invalid_token", error_description="{reason}""#),
            ),
            VerifyError::InvalidDpopProof(reason) => (
                StatusCode::UNAUTHORIZED,
                format!(
                    r#"DPoP error="invalid_dpop_proof", error_description="{reason}", algs="{DPOP_ALGS}""#
                ),
            ),
            VerifyError::InsufficientScope { required } => {
                (StatusCode::FORBIDDEN, format!(r#"Bearer error="insufficient_scope", scope="{required}""#))
            }
            VerifyError::Unavailable(_) => {
                let mut response = Response::new(B::default());
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                return response;
            }
        };
        let mut response = Response::new(B::default());
        *response.status_mut() = status;
        // Reasons are fixed strings and scopes are `NQCHAR`s, so the value is always valid.
        if let Ok(value) = HeaderValue::try_from(challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE`, with the OAuth
/// error code as `ErrorInfo.reason` (domain "tokend") as tokend itself sends.
impl From<VerifyError> for Status {
    fn from(error: VerifyError) -> Self {
        let code = match error {
            VerifyError::MissingToken | VerifyError::InvalidToken(_) | VerifyError::InvalidDpopProof(_) => {
                Code::Unauthenticated
            }
            VerifyError::InsufficientScope { .. } => Code::PermissionDenied,
            VerifyError::Unavailable(_) => Code::Unavailable,
        };
        let mut metadata = HashMap::new();
        if let VerifyError::InsufficientScope { required } = &error {
            metadata.insert("scope".to_owned(), required.clone());
        }
        let details = ErrorDetails::with_error_info(error.oauth_error(), ERROR_DOMAIN, metadata);
        Status::with_error_details(code, error.to_string(), details)
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingToken => f.write_str("a bearer token is required"),
            VerifyError::InvalidToken(reason) => write!(f, "invalid token: {reason}"),
            VerifyError::InvalidDpopProof(reason) => write!(f, "invalid DPoP proof: {reason}"),
            VerifyError::InsufficientScope { required } => write!(f, "this call needs scope {required:?}"),
            VerifyError::Unavailable(reason) => write!(f, "cannot verify tokens now: {reason}"),
        }
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_callers_get_rfc_6750_challenges() {
        let missing: Response<()> = VerifyError::MissingToken.http_response();
        assert_eq!(missing.status(), 401);
        assert_eq!(missing.headers()[WWW_AUTHENTICATE], "Bearer");
        let scope: Response<()> = VerifyError::InsufficientScope { required: "a b".into() }.http_response();
        assert_eq!(scope.status(), 403);
        assert_eq!(scope.headers()[WWW_AUTHENTICATE], r#"Bearer error="insufficient_scope", scope="a b""#);
        let down: Response<()> = VerifyError::Unavailable("x".into()).http_response();
        assert_eq!(down.status(), 503);
    }

    #[test]
    fn grpc_callers_get_the_code_and_the_oauth_reason() {
        let status = Status::from(VerifyError::InvalidToken("token expired"));
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.get_error_details().error_info().unwrap().reason, "invalid_token");
        let status = Status::from(VerifyError::InsufficientScope { required: "orders.write".into() });
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(status.get_error_details().error_info().unwrap().metadata["scope"], "orders.write");
    }
}
