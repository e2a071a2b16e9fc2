//! The adapter for OAuth clients that speak form-encoded HTTP rather than
//! gRPC: RFC 6749 token endpoint, RFC 7662 introspection, RFC 7009
//! revocation, the JWKS, RFC 8414 discovery, the Token Status Lists, RFC
//! 7591/7592 dynamic registration and the TokenIDP dialect. It
//! parses and encodes; every rule lives in the authority, exactly as for gRPC.

mod discovery;
mod form;
mod introspection;
mod register;
mod request;
mod status_list;
mod token;
mod token_idp;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

use crate::{
    authority::{Authority, REGISTRATION_PATH, STATUS_PATH},
    http::{method_not_allowed, only_get, only_post},
};

pub use tokend_common::wire::TOKEN_PATH;
pub const INTROSPECTION_PATH: &str = "/oauth/v2/introspect";
pub const REVOCATION_PATH: &str = "/oauth/v2/revoke";
pub const JWKS_PATH: &str = "/oauth/v2/keys";

/// Whether callers can present TLS client certificates: the server speaks
/// TLS. Discovery offers the certificate methods only then.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertificates(pub bool);

/// `router` with the OAuth endpoints, their wrong methods answered 405.
pub fn routes(router: Router<Arc<Authority>>) -> Router<Arc<Authority>> {
    router
        .route(TOKEN_PATH, only_post(post(token::issue)))
        .route(INTROSPECTION_PATH, only_post(post(introspection::introspect)))
        .route(REVOCATION_PATH, only_post(post(introspection::revoke)))
        .route(JWKS_PATH, only_get(get(discovery::jwks)))
        .route(STATUS_PATH, only_get(get(status_list::aggregation)))
        .route(&format!("{STATUS_PATH}/{{list}}"), only_get(get(status_list::list)))
        .route("/.well-known/oauth-authorization-server", only_get(get(discovery::metadata)))
        .route("/.well-known/openid-configuration", only_get(get(discovery::metadata)))
        .route("/token", only_post(post(token_idp::issue)))
        .route(REGISTRATION_PATH, only_post(post(register::register)))
        .route(
            &format!("{REGISTRATION_PATH}/{{client_id}}"),
            get(register::read)
                .put(register::update)
                .delete(register::delete)
                .fallback(|| async { method_not_allowed("GET, PUT, DELETE") }),
        )
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
