//! Signed introspection answers (RFC 9701): asked for with `Accept:
//! application/token-introspection+jwt` or `signed_response`, verified here
//! with the published JWKS as a resource server or an auditor would.

use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde_json::{Value, json};
use tokend::contract::pb;

use crate::support::helpers::*;

const SIGNED: &str = "application/token-introspection+jwt";

/// The claims of a signed answer, once its signature, issuer and audience check out.
async fn verified(app: &TestApp, jwt: &str, audience: &str) -> Value {
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("token-introspection+jwt"));
    let keys: JwkSet = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
    let jwk = keys.find(&header.kid.unwrap()).expect("signed with a published key");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["iss", "aud", "iat"]);
    validation.validate_exp = false;
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the signature verifies")
        .claims
}

on_both_stores! {
    async fn an_http_caller_that_accepts_a_jwt_gets_the_answer_signed(app) {
        let secret = app.create_client("svc", "read", "read", &["orders"]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let ask = |token: String| {
            reqwest::Client::new().post(app.url("/oauth/v2/introspect")).basic_auth("svc", Some(secret.clone()))
                .header("accept", format!("{SIGNED}, application/json;q=0.5")).form(&[("token", token)]).send()
        };
        let response = ask(token.clone()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], SIGNED);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let claims = verified(&app, &response.text().await.unwrap(), "svc").await;
        let answer = &claims["token_introspection"];
        assert_eq!((answer["active"].clone(), answer["client_id"].clone()), (json!(true), json!("svc")));
        assert_eq!(answer["jti"], crate::support::helpers::claims(&token)["jti"]);
        assert!(claims["iat"].as_i64().unwrap() > 0);

        let inactive = ask("not-a-token".into()).await.unwrap();
        let claims = verified(&app, &inactive.text().await.unwrap(), "svc").await;
        assert_eq!(claims["token_introspection"], json!({"active": false}));

        let metadata: Value = reqwest::get(app.url("/.well-known/oauth-authorization-server")).await.unwrap().json().await.unwrap();
        assert_eq!(metadata["introspection_signing_alg_values_supported"], json!(["ES256"]));

        let plain = reqwest::Client::new().post(app.url("/oauth/v2/introspect")).basic_auth("svc", Some(&secret))
            .form(&[("token", token.as_str())]).send().await.unwrap();
        assert!(plain.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "plain JSON unless asked");
    }

    async fn a_grpc_caller_gets_the_signed_answer_beside_the_fields(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let request = pb::IntrospectRequest { token: token.clone(), signed_response: true, ..Default::default() };
        let answer = app.tokens.clone().introspect(with_basic(request, "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active);
        let claims = verified(&app, &answer.signed_response, "svc").await;
        assert_eq!(claims["token_introspection"]["scope"], "read");
        assert_eq!(claims["token_introspection"]["exp"], json!(answer.exp));

        let request = pb::IntrospectRequest { token, ..Default::default() };
        let answer = app.tokens.clone().introspect(with_basic(request, "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.signed_response.is_empty(), "only when asked for");
    }
}
