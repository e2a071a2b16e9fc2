//! What can go wrong getting a token.

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
}

impl TokenError {
    /// Only an unavailable server is worth asking again.
    pub fn is_retryable(&self) -> bool {
        self.code == Code::Unavailable
    }
}

impl From<Status> for TokenError {
    fn from(status: Status) -> Self {
        let oauth_error = status.get_error_details().error_info().map(|info| info.reason.clone());
        TokenError { code: status.code(), oauth_error, message: status.message().to_owned() }
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
