//! A deadline for every call, answered in the caller's own protocol: 503 JSON
//! over HTTP, `UNAVAILABLE` over gRPC, both `temporarily_unavailable`. Without
//! it, tonic's server-wide timeout would answer HTTP callers with a gRPC status
//! and gRPC callers with `CANCELLED`.

use std::time::Duration;

use axum::{Router, extract::Request, middleware::Next, response::Response};
use tonic::Status;

use crate::{authority::AuthError, http};

/// HTTP calls still running then get a JSON 503.
pub const HTTP: Duration = Duration::from_secs(25);
/// gRPC calls still running then get `UNAVAILABLE`.
pub const GRPC: Duration = Duration::from_secs(28);

/// `router` with its calls cut off at `deadline` by `answer`.
pub fn limit(router: Router, deadline: Duration, answer: fn() -> Response) -> Router {
    router.layer(axum::middleware::from_fn(move |request: Request, next: Next| async move {
        tokio::time::timeout(deadline, next.run(request)).await.unwrap_or_else(|_| answer())
    }))
}

fn too_slow() -> AuthError {
    AuthError::Busy("the request took too long; retry later".into())
}

/// The answer to an HTTP call past its deadline.
pub fn http_answer() -> Response {
    http::rejection(too_slow())
}

/// The answer to a gRPC call past its deadline.
pub fn grpc_answer() -> Response {
    Status::from(too_slow()).into_http()
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    use super::*;

    fn slow() -> Router {
        Router::new().route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(5)).await }))
    }

    #[tokio::test]
    async fn an_http_call_past_the_deadline_gets_a_json_503() {
        let router = limit(slow(), Duration::from_millis(20), http_answer);
        let response = router.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 503);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[tokio::test]
    async fn a_grpc_call_past_the_deadline_gets_unavailable() {
        let router = limit(slow(), Duration::from_millis(20), grpc_answer);
        let response = router.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        let status = Status::from_header_map(response.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
}
