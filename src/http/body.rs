//! Reading a request body safely: within a size bound and a time bound, so
//! a large or slow body costs a bounded amount of memory and time.

use axum::body::{Body, Bytes};

use crate::{
    authority::AuthError,
    failure::{Failure, Refusal},
    limits::BODY_TIMEOUT,
};

/// The body, refused (413 over HTTP) past `limit` bytes and (408) past [`BODY_TIMEOUT`].
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Failure> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(Refusal::TooSlow("the request body did not arrive in time".into()).into()),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                Refusal::TooLarge(format!("the request body exceeds {} KiB", limit / 1024)).into()
            } else {
                AuthError::InvalidRequest("the request body could not be read".into()).into()
            })
        }
    }
}
