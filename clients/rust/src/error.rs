//! What can go wrong getting a token.

use std::time::Duration;

use tokend_common::wire::ERROR_DOMAIN;

/// The metadata key of a server-provided DPoP nonce.
const DPOP_NONCE_KEY: &str = "dpop-nonce";
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A token request that failed, with tokend's OAuth error code when it sent one.
#[derive(Debug)]
pub struct TokenError {
    /// The gRPC status code.
    pub code: Code,
    /// The OAuth error code (`invalid_client`, `invalid_scope`, …) from
    /// `google.rpc.ErrorInfo.reason`, if the server sent one.
    pub oauth_error: Option<String>,
    pub message: String,
    /// When tokend said to ask again (`google.rpc.RetryInfo`): a client over
    /// its rate limit.
    pub retry_after: Option<Duration>,
    /// The DPoP nonce tokend asked for (`use_dpop_nonce`, RFC 9449 §8).
    pub dpop_nonce: Option<String>,
}

impl TokenError {
    /// A failure here, before anything was sent (a file that cannot be
    /// read, a key that cannot sign).
    pub(crate) fn local(message: impl Into<String>) -> Self {
        TokenError {
            code: Code::FailedPrecondition,
            oauth_error: None,
            message: message.into(),
            retry_after: None,
            dpop_nonce: None,
        }
    }

    /// An unavailable server, or one that said when to ask again, is worth asking again.
    pub fn is_retryable(&self) -> bool {
        self.code == Code::Unavailable || self.retry_after.is_some()
    }
}

impl From<Status> for TokenError {
    fn from(status: Status) -> Self {
        let details = status.get_error_details();
        let oauth_error = details.error_info().map(|info| info.reason.clone());
        let retry_after = details.retry_info().and_then(|info| info.retry_delay);
        let dpop_nonce =
            status.metadata().get(DPOP_NONCE_KEY).and_then(|nonce| nonce.to_str().ok()).map(str::to_owned);
        TokenError {
            code: status.code(),
            oauth_error,
            message: status.message().to_owned(),
            retry_after,
            dpop_nonce,
        }
    }
}

/// For a call that could not be sent for want of a token: the same code and
/// OAuth error, so the caller sees why.
impl From<TokenError> for Status {
    fn from(error: TokenError) -> Self {
        let message = format!("could not get an access token: {}", error.message);
        match error.oauth_error {
            Some(reason) => Status::with_error_details(
                error.code,
                message,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new()),
            ),
            None => Status::new(error.code, message),
        }
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.oauth_error {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => write!(f, "{:?}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for TokenError {}
