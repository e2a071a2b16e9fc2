//! tokend-client: get access tokens from tokend without calling it on every request.
//!
//! [`TokenSource`] fetches tokens with gRPC `IssueToken` and caches each
//! (scope, audience) token until shortly before it expires; concurrent callers
//! on an empty cache share one call (single flight); `UNAVAILABLE` is retried
//! with jittered backoff, authentication and authorisation failures never are,
//! and failures carry the OAuth error code tokend sent in `ErrorInfo`.

mod error;
mod source;

pub use error::TokenError;
pub use source::{Token, TokenSource};
