//! What resource servers and OAuth libraries fetch to find and trust tokend:
//! the JWKS (RFC 7517) and the authorization server metadata (RFC 8414),
//! which names the Status List Aggregation when tokens point into lists.

use std::sync::Arc;

use axum::{
    Extension,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use serde_json::json;

use super::{ClientCertificates, INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH};

use crate::{
    authority::{Authority, PROOF_ALGORITHMS, REGISTRATION_PATH, RegistrationMode, STATUS_PATH},
    domain::{ASSERTION_ALGORITHMS, AuthMethod, GrantType},
    http::json_response,
};

/// What verifiers may cache the key set and metadata for: long enough to
/// spare tokend, never longer than a new key is published before it signs.
fn keys_max_age(authority: &Authority) -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={}", authority.jwks_max_age()))
        .expect("digits are a valid header")
}

pub async fn jwks(State(authority): State<Arc<Authority>>) -> Response {
    let mut response = json_response(StatusCode::OK, authority.keys().jwks());
    response.headers_mut().insert(header::CACHE_CONTROL, keys_max_age(&authority));
    response
}

/// RFC 8414 metadata, also served as `openid-configuration` for libraries
/// that look only there; those also require `subject_types_supported` and
/// `id_token_signing_alg_values_supported`, which here name the algorithms
/// access tokens are signed with (tokend issues no ID tokens). Over TLS,
/// the certificate methods and bound tokens of RFC 8705 §2–3 are offered.
/// `private_key_jwt` assertions may be signed with any of the asymmetric
/// algorithms in `token_endpoint_auth_signing_alg_values_supported`.
pub async fn metadata(
    State(authority): State<Arc<Authority>>,
    Extension(ClientCertificates(certificates)): Extension<ClientCertificates>,
) -> Response {
    let issuer = authority.issuer().trim_end_matches('/');
    let algorithms: Vec<_> = authority.keys().algorithms().iter().map(|alg| format!("{alg:?}")).collect();
    let assertion_algorithms: Vec<_> = ASSERTION_ALGORITHMS.iter().map(|alg| format!("{alg:?}")).collect();
    let dpop_algorithms: Vec<_> = PROOF_ALGORITHMS.iter().map(|alg| format!("{alg:?}")).collect();
    let auth_methods: Vec<_> = AuthMethod::ALL
        .iter()
        .filter(|method| certificates || !method.uses_certificate())
        .map(|method| method.as_str())
        .collect();
    let mut metadata = json!({
            "issuer": authority.issuer(),
            "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
            "introspection_endpoint": format!("{issuer}{INTROSPECTION_PATH}"),
            "revocation_endpoint": format!("{issuer}{REVOCATION_PATH}"),
            "jwks_uri": format!("{issuer}{JWKS_PATH}"),
            "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
            "introspection_signing_alg_values_supported": algorithms,
            "tls_client_certificate_bound_access_tokens": certificates,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "dpop_signing_alg_values_supported": dpop_algorithms,
    });
    // draft-ietf-oauth-status-list-20 §9.1: where the Status Lists are named.
    if authority.status_lists_enabled() {
        metadata["status_list_aggregation_endpoint"] = json!(format!("{issuer}{STATUS_PATH}"));
    }
    // RFC 8414 §2: where clients register, when they may (RFC 7591).
    if authority.registration_mode() != RegistrationMode::Off {
        metadata["registration_endpoint"] = json!(format!("{issuer}{REGISTRATION_PATH}"));
    }
    let mut response = json_response(StatusCode::OK, &metadata);
    response.headers_mut().insert(header::CACHE_CONTROL, keys_max_age(&authority));
    response
}
