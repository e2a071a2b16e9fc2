//! The HTTP adapter for OAuth clients that speak form-encoded HTTP rather than
//! gRPC: RFC 6749 token endpoint, RFC 7662 introspection, RFC 7009 revocation,
//! the JWKS and RFC 8414 discovery. It parses and encodes; every rule lives in
//! the authority, exactly as for gRPC.

mod discovery;
mod form;
mod introspection;
mod reply;
mod request;
mod token;
mod token_idp;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    middleware::{self, Next},
    response::Response,
    routing::{MethodRouter, get, post},
};

use crate::authority::{AuthError, Authority};

pub const TOKEN_PATH: &str = "/oauth/v2/token";
pub const INTROSPECTION_PATH: &str = "/oauth/v2/introspect";
pub const REVOCATION_PATH: &str = "/oauth/v2/revoke";
pub const JWKS_PATH: &str = "/oauth/v2/keys";
/// An HTTP call still running then is answered 503 `temporarily_unavailable`;
/// shorter than the server-wide limit, whose answer is a gRPC status.
pub const DEADLINE: Duration = Duration::from_secs(25);

/// Every HTTP endpoint. Unknown paths get a JSON 404, known paths with the
/// wrong method a JSON 405 naming the allowed one.
pub fn router(authority: Arc<Authority>) -> Router {
    Router::new()
        .route(TOKEN_PATH, only_post(post(token::issue)))
        .route(INTROSPECTION_PATH, only_post(post(introspection::introspect)))
        .route(REVOCATION_PATH, only_post(post(introspection::revoke)))
        .route(JWKS_PATH, only_get(get(discovery::jwks)))
        .route("/.well-known/oauth-authorization-server", only_get(get(discovery::metadata)))
        .route("/.well-known/openid-configuration", only_get(get(discovery::metadata)))
        .route("/token", only_post(post(token_idp::issue)))
        .fallback(reply::not_found)
        .with_state(authority)
        .layer(middleware::from_fn(|request, next| within(DEADLINE, request, next)))
}

/// Runs the call, or answers 503 once `deadline` has passed.
async fn within(deadline: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let busy = AuthError::Busy("the request took too long; retry later".into());
            reply::Rejection::auth(busy, reply::Scheme::None).oauth()
        }
    }
}

fn only_post(route: MethodRouter<Arc<Authority>>) -> MethodRouter<Arc<Authority>> {
    route.fallback(|| async { reply::method_not_allowed("POST") })
}

fn only_get(route: MethodRouter<Arc<Authority>>) -> MethodRouter<Arc<Authority>> {
    route.fallback(|| async { reply::method_not_allowed("GET, HEAD") })
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::StatusCode};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_call_past_the_deadline_is_answered_503_in_json() {
        let slow = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(5)).await }))
            .layer(middleware::from_fn(|request, next| within(Duration::from_millis(20), request, next)));
        let response = slow.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
}
