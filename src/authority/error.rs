//! The authority's one error type. Each variant is one answer a caller can get;
//! `crate::failure` turns it into a gRPC status (and an HTTP response) in one place.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request is malformed: a missing or repeated parameter, two ways of
    /// authenticating at once, a value that does not parse.
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed. The message is one of a few fixed texts
    /// that never depend on whether the client id exists; `by_header` when
    /// the client tried the `Authorization` header, which earns HTTP callers
    /// a Basic challenge (RFC 6749 §5.2).
    #[error("{message}")]
    InvalidClient { message: &'static str, by_header: bool },
    /// The grant type is not `client_credentials`.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// The client may not do this (for example revoke another client's token).
    #[error("{0}")]
    UnauthorizedClient(String),
    /// A requested scope is malformed or not allowed for the client.
    #[error("{0}")]
    InvalidScope(String),
    /// A requested audience (RFC 8707 resource) is not allowed for the client.
    #[error("{0}")]
    InvalidTarget(String),
    /// A DPoP proof is missing where required, malformed, or does not hold
    /// (RFC 9449 §5).
    #[error("{0}")]
    InvalidDpopProof(String),
    /// The JWT bearer grant's assertion does not hold (RFC 7523 §3.1).
    #[error("{0}")]
    InvalidGrant(String),
    /// Proofs must carry a nonce this server handed out, and this one did not
    /// (or it is stale): `nonce` is the one to use (RFC 9449 §8).
    #[error("a DPoP proof must carry the nonce this server provides")]
    UseDpopNonce { nonce: String },
    /// A bearer token is missing, malformed, expired or revoked.
    #[error("{0}")]
    InvalidToken(String),
    /// A valid bearer token lacks the scope the call needs.
    #[error("{0}")]
    InsufficientScope(String),
    /// An administrative request names something invalid.
    #[error("{0}")]
    InvalidArgument(String),
    /// A field of an administrative request is invalid: `field` is its name
    /// in the contract, sent beside the message so callers need not parse it.
    #[error("{message}")]
    InvalidField { field: &'static str, message: String },
    /// A dynamic registration's client metadata is invalid (RFC 7591
    /// §3.2.2): `field` names the metadata field, as RFC 7591 spells it.
    #[error("{message}")]
    InvalidClientMetadata { field: &'static str, message: String },
    /// A dynamic registration's software statement is malformed, expired
    /// or badly signed (RFC 7591 §3.2.2).
    #[error("{0}")]
    InvalidSoftwareStatement(String),
    /// A software statement whose issuer is not trusted (RFC 7591 §3.2.2).
    #[error("{0}")]
    UnapprovedSoftwareStatement(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The thing named is not in a state that allows the call (a secret
    /// rotation for a client that uses no secret).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The client asked for tokens faster than its rate limit allows; it may
    /// ask again after `retry_after`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: std::time::Duration },
    /// Too much work is queued already (argon2 under a burst); the caller may retry.
    #[error("{0}")]
    Busy(String),
    /// The caller's own deadline (gRPC `grpc-timeout`) passed before the answer.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The store could not be reached; the caller may retry.
    #[error("the token service is temporarily unavailable")]
    Unavailable(#[source] StoreError),
    /// The deployment is set up wrongly (for example the key-encryption key does
    /// not open the stored keys). Told to the operator at start; callers see an
    /// internal error.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    /// A fault of ours. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AuthError {
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AuthError::Internal(err.into())
    }

    /// Whether the caller's credentials no longer admit it (as opposed to a
    /// passing fault): what ends a live stream that was admitted with them.
    pub fn ends_the_session(&self) -> bool {
        matches!(
            self,
            AuthError::InvalidToken(_) | AuthError::InsufficientScope(_) | AuthError::InvalidClient { .. }
        )
    }
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) | StoreError::CannotOpen { .. } => AuthError::Unavailable(err),
            StoreError::Conflict => AuthError::AlreadyExists("the record exists already".into()),
            StoreError::Failed(_) | StoreError::Migration(_) => AuthError::internal(err),
        }
    }
}

/// The one answer to a wrong, unknown, disabled or expired client credential.
pub const BAD_CREDENTIALS: &str = "client authentication failed";
