//! What can go wrong getting a token.

use std::time::Duration;

use tokend_common::wire::ERROR_DOMAIN;
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
}

impl TokenError {
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
        TokenError { code: status.code(), oauth_error, message: status.message().to_owned(), retry_after }
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
