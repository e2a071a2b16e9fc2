//! `POST /oauth/v2/introspect` and `/oauth/v2/revoke` through the oauth2 crate,
//! and their error paths through raw requests.

use oauth2::{
    AccessToken, ClientId, ClientSecret, IntrospectionUrl, TokenIntrospectionResponse, basic::BasicClient,
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::helpers::*;

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn form(app: &TestApp, path: &str, body: &str, authorization: Option<String>) -> reqwest::Response {
    let mut request = http()
        .post(app.url(path))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.send().await.unwrap()
}

on_both_stores! {
    async fn the_oauth2_crate_introspects_a_token_before_and_after_revocation(app) {
        let secret = app.create_client("svc", "read", "read", &["orders"]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let client = BasicClient::new(ClientId::new("svc".into()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_introspection_url(IntrospectionUrl::new(app.url("/oauth/v2/introspect")).unwrap());
        let access = AccessToken::new(token.clone());
        let answer = client.introspect(&access).request_async(&http()).await.unwrap();
        assert!(answer.active());
        assert_eq!(answer.client_id().unwrap().as_str(), "svc");
        assert_eq!(answer.scopes().unwrap()[0].as_str(), "read");
        assert_eq!(answer.aud().unwrap(), &vec!["orders".to_string()]);

        // oauth2 refuses to revoke over plain http (RFC 7009 asks for TLS), so
        // the revocation itself goes out as the same form post by hand.
        let revoked = form(&app, "/oauth/v2/revoke", &format!("token={token}"), Some(basic("svc", &secret))).await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let answer = client.introspect(&access).request_async(&http()).await.unwrap();
        assert!(!answer.active());
    }

    async fn an_inactive_token_is_exactly_active_false(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let response = form(&app, "/oauth/v2/introspect", "token=garbage", Some(basic("svc", &secret))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "{\"active\":false}");
    }

    async fn introspection_accepts_post_credentials_and_bearer_tokens(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let by_post = form(&app, "/oauth/v2/introspect", &format!("token={token}&client_id=svc&client_secret={secret}"), None).await;
        let by_bearer = form(&app, "/oauth/v2/introspect", &format!("token={token}"), Some(format!("Bearer {token}"))).await;
        for response in [by_post, by_bearer] {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["active"], true);
            assert_eq!(body["client_id"], "svc");
            assert_eq!(body["token_type"], "Bearer");
            assert_eq!(body["iss"], app.issuer());
        }
    }

    async fn introspection_without_credentials_is_401(app) {
        let response = form(&app, "/oauth/v2/introspect", "token=x", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }

    async fn a_bad_bearer_caller_gets_an_invalid_token_challenge(app) {
        let response = form(&app, "/oauth/v2/introspect", "token=x", Some("Bearer nope".into())).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }

    async fn introspection_and_revocation_need_the_token_parameter(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        for path in ["/oauth/v2/introspect", "/oauth/v2/revoke"] {
            let response = form(&app, path, "token_type_hint=access_token", Some(basic("svc", &secret))).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request");
        }
    }

    async fn revoking_an_unknown_token_is_200(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let response = form(&app, "/oauth/v2/revoke", "token=unknown", Some(basic("svc", &secret))).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn revoking_another_clients_token_is_refused(app) {
        let owner = app.create_client("owner", "read", "read", &[]).await;
        let other = app.create_client("other", "read", "read", &[]).await;
        let token = app.token("owner", &owner, "").await.access_token;
        let response = form(&app, "/oauth/v2/revoke", &format!("token={token}"), Some(basic("other", &other))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"error": "unauthorized_client", "error_description": "a client may revoke only its own tokens"}));
    }
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}
