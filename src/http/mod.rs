//! The HTTP adapter for OAuth clients that speak form-encoded HTTP rather than
//! gRPC: RFC 6749 token endpoint, RFC 7662 introspection, RFC 7009 revocation,
//! the JWKS and RFC 8414 discovery. It parses and encodes; every rule lives in
//! the authority, exactly as for gRPC.

mod connect;
mod console;
mod discovery;
mod form;
mod introspection;
mod probes;
mod reply;
pub use reply::Rejection;
mod request;
mod token;
mod token_idp;

use std::sync::Arc;

use axum::{
    Extension, Router,
    response::Response,
    routing::{MethodRouter, get, post},
};

use crate::{
    authority::Authority,
    observe::metrics::{self, Metrics},
};

pub use tokend_common::wire::TOKEN_PATH;
pub const INTROSPECTION_PATH: &str = "/oauth/v2/introspect";
pub const REVOCATION_PATH: &str = "/oauth/v2/revoke";
pub const JWKS_PATH: &str = "/oauth/v2/keys";

/// Whether callers can present TLS client certificates: the server speaks
/// TLS. Discovery offers the certificate methods only then.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertificates(pub bool);

/// Every HTTP endpoint, and every unary method of the contract over Connect,
/// answered by `grpc`. Unknown paths get a JSON 404, known paths with the
/// wrong method a JSON 405 naming the allowed one.
/// With `metrics`, calls are timed and counted; `serve_metrics` adds `GET /metrics`.
pub fn router(
    authority: Arc<Authority>,
    certificates: ClientCertificates,
    metrics: Arc<Metrics>,
    serve_metrics: bool,
    grpc: Router,
) -> Router {
    let router = Router::new();
    let router = match serve_metrics {
        true => router.route(metrics::PATH, only_get(get(metrics::scrape))),
        false => router,
    };
    let router = console::routes(connect::routes(router, grpc));
    router
        .route(TOKEN_PATH, only_post(post(token::issue)))
        .route(INTROSPECTION_PATH, only_post(post(introspection::introspect)))
        .route(REVOCATION_PATH, only_post(post(introspection::revoke)))
        .route(JWKS_PATH, only_get(get(discovery::jwks)))
        .route("/.well-known/oauth-authorization-server", only_get(get(discovery::metadata)))
        .route("/.well-known/openid-configuration", only_get(get(discovery::metadata)))
        .route("/token", only_post(post(token_idp::issue)))
        .route("/healthz", only_get(get(probes::healthz)))
        .route("/readyz", only_get(get(probes::readyz)))
        .fallback(reply::not_found)
        .layer(Extension(certificates))
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::time_http))
        .layer(Extension(metrics))
        .with_state(authority)
}

/// Parses a form body as the endpoints do, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub fn fuzz_form(body: &[u8]) {
    if let Ok(form) = form::Form::parse(body) {
        let _ = form.reject_repeats(&["audience", "resource"]);
    }
}

/// Reads a JSON token request as the token endpoint does, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub fn fuzz_token_json(body: &[u8]) {
    let _ = token::fuzz_json(body);
}

/// Reads a Connect call's JSON body, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub fn fuzz_connect_json(body: &[u8]) {
    connect::fuzz_json(body);
}

/// A failure as the OAuth JSON answer, for callers outside this adapter.
pub fn rejection(failure: impl Into<Rejection>) -> Response {
    failure.into().oauth()
}

fn only_post(route: MethodRouter<Arc<Authority>>) -> MethodRouter<Arc<Authority>> {
    route.fallback(|| async { reply::method_not_allowed("POST") })
}

fn only_get(route: MethodRouter<Arc<Authority>>) -> MethodRouter<Arc<Authority>> {
    route.fallback(|| async { reply::method_not_allowed("GET, HEAD") })
}
