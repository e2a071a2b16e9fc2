//! Discovery and the JWKS: a token from the HTTP endpoint verified with nothing
//! but what the server publishes.

use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use reqwest::{StatusCode, header};
use serde_json::Value;

on_both_stores! {
    async fn a_token_verifies_with_the_jwks_found_by_discovery(app) {
        let secret = app.create_client("svc", "read", "read", &["orders"]).await;
        let http = reqwest::Client::new();
        let metadata: Value = http.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
        assert_eq!(metadata["issuer"], app.issuer());
        assert_eq!(metadata["grant_types_supported"], serde_json::json!(["client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange"]));
        assert_eq!(metadata["token_endpoint_auth_methods_supported"], serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt"]));
        assert_eq!(metadata["token_endpoint_auth_signing_alg_values_supported"], serde_json::json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"]));
        assert_eq!(metadata["id_token_signing_alg_values_supported"], serde_json::json!(["ES256"]));
        let token: Value = http
            .post(metadata["token_endpoint"].as_str().unwrap())
            .basic_auth("svc", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send().await.unwrap().json().await.unwrap();
        let token = token["access_token"].as_str().unwrap();

        let keys = http.get(metadata["jwks_uri"].as_str().unwrap()).send().await.unwrap();
        assert!(keys.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
        let keys: JwkSet = keys.json().await.unwrap();
        let kid = decode_header(token).unwrap().kid.unwrap();
        let jwk = keys.find(&kid).expect("the token's key is published");
        let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_issuer(&[app.issuer()]);
        validation.set_audience(&["orders"]);
        let verified = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap();
        assert_eq!(verified.claims["client_id"], "svc");
    }

    async fn the_jwks_never_shows_private_parts(app) {
        let keys: Value = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
        let keys = keys["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            for field in ["kid", "kty", "alg", "use"] {
                assert!(key[field].is_string(), "{field} missing from {key}");
            }
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.get(private).is_none(), "{private} published in {key}");
            }
        }
    }

    async fn openid_configuration_serves_the_same_document(app) {
        let oauth: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        let oidc = reqwest::get(app.url("/.well-known/openid-configuration")).await.unwrap();
        assert_eq!(oidc.status(), StatusCode::OK);
        assert_eq!(oidc.json::<Value>().await.unwrap(), oauth);
    }
}
