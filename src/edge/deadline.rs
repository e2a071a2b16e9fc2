//! A deadline for every call, answered in the caller's own protocol: 503 JSON
//! over HTTP, `UNAVAILABLE` over gRPC, both `temporarily_unavailable`. A gRPC
//! caller's own shorter `grpc-timeout` is kept too, and answered
//! `DEADLINE_EXCEEDED` as the gRPC spec asks.

use std::time::Duration;

use axum::{Router, extract::Request, middleware::Next, response::Response};
use tonic::Status;

use crate::{
    authority::AuthError,
    http::Rejection,
    limits::{GRPC_DEADLINE, HTTP_DEADLINE},
};

/// The longest `grpc-timeout` value: eight digits (gRPC over HTTP/2 spec).
const MAX_TIMEOUT_DIGITS: usize = 8;

/// `router` with its HTTP calls cut off at [`HTTP_DEADLINE`].
pub fn limit_http(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(|request: Request, next: Next| async move {
        tokio::time::timeout(HTTP_DEADLINE, next.run(request)).await.unwrap_or_else(|_| http_answer())
    }))
}

/// `router` with its gRPC calls cut off at [`GRPC_DEADLINE`], or sooner at the caller's `grpc-timeout`.
pub fn limit_grpc(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(|request: Request, next: Next| async move {
        let (deadline, answer): (Duration, fn() -> Response) =
            match request.headers().get("grpc-timeout").and_then(|value| grpc_timeout(value.as_bytes())) {
                Some(asked) if asked < GRPC_DEADLINE => (asked, caller_deadline_answer),
                _ => (GRPC_DEADLINE, grpc_answer),
            };
        tokio::time::timeout(deadline, next.run(request)).await.unwrap_or_else(|_| answer())
    }))
}

/// A `grpc-timeout` header's duration: up to eight digits and a unit
/// (H, M, S, m, u, n); `None` for anything else, which is then ignored.
fn grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > MAX_TIMEOUT_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

fn too_slow() -> AuthError {
    AuthError::Busy("the request took too long; retry later".into())
}

/// The answer to an HTTP call past its deadline.
pub fn http_answer() -> Response {
    Rejection::from(too_slow()).oauth()
}

/// The answer to a gRPC call past its deadline.
pub fn grpc_answer() -> Response {
    Status::from(too_slow()).into_http()
}

/// The answer to a gRPC call past the deadline its caller set.
fn caller_deadline_answer() -> Response {
    Status::from(AuthError::DeadlineExceeded("the call's grpc-timeout expired".into())).into_http()
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    use super::*;

    fn slower_than_both_deadlines() -> Router {
        Router::new().route("/slow", get(|| async { tokio::time::sleep(GRPC_DEADLINE * 2).await }))
    }

    #[tokio::test(start_paused = true)]
    async fn an_http_call_past_the_deadline_gets_a_json_503() {
        let router = limit_http(slower_than_both_deadlines());
        let response = router.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 503);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[tokio::test(start_paused = true)]
    async fn a_grpc_call_past_the_deadline_gets_unavailable() {
        let router = limit_grpc(slower_than_both_deadlines());
        let response = router.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        let status = Status::from_header_map(response.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }

    #[tokio::test(start_paused = true)]
    async fn a_grpc_call_past_its_own_timeout_gets_deadline_exceeded() {
        let router = limit_grpc(slower_than_both_deadlines());
        let request = Request::get("/slow").header("grpc-timeout", "200m").body(Body::empty()).unwrap();
        let started = tokio::time::Instant::now();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(200));
        let status = Status::from_header_map(response.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }

    #[test]
    fn grpc_timeouts_are_read_as_the_spec_writes_them() {
        assert_eq!(grpc_timeout(b"2S"), Some(Duration::from_secs(2)));
        assert_eq!(grpc_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout(b"99999999n"), Some(Duration::from_nanos(99_999_999)));
        assert_eq!(grpc_timeout(b"123456789S"), None, "nine digits");
        assert_eq!(grpc_timeout(b"S"), None);
        assert_eq!(grpc_timeout(b"-1S"), None);
        assert_eq!(grpc_timeout(b"10x"), None);
    }
}
