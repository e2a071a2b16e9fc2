//! `POST /oauth/v2/token` with a stock OAuth library and with raw requests for
//! every error path.

use oauth2::{
    AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl,
    basic::{BasicClient, BasicErrorResponseType},
};
use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::support::helpers::*;

/// A form body, its Basic credentials, and the status and OAuth error expected.
type ErrorCase<'a> = (String, Option<(&'a str, &'a str)>, StatusCode, &'a str);

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn oauth2_token(
    app: &TestApp,
    id: &str,
    secret: &str,
    auth: AuthType,
    scope: &str,
) -> oauth2::basic::BasicTokenResponse {
    let client = BasicClient::new(ClientId::new(id.into()))
        .set_client_secret(ClientSecret::new(secret.into()))
        .set_token_uri(TokenUrl::new(app.url("/oauth/v2/token")).unwrap())
        .set_auth_type(auth);
    client
        .exchange_client_credentials()
        .add_scope(Scope::new(scope.into()))
        .request_async(&http())
        .await
        .unwrap()
}

async fn post_form(app: &TestApp, body: &str, basic: Option<(&str, &str)>) -> reqwest::Response {
    let mut request = http()
        .post(app.url("/oauth/v2/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = response.json().await.expect("errors are JSON");
    (status, challenge, body)
}

on_both_stores! {
    async fn a_bearer_token_at_the_token_endpoint_gets_the_challenge_of_invalid_client(app) {
        let response = http()
            .post(app.url("/oauth/v2/token"))
            .header(header::AUTHORIZATION, "Bearer some.token.here")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let (status, challenge, body) = error_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(challenge, "Basic realm=\"tokend\"", "the challenge follows the error");
    }

    async fn two_authorization_headers_are_an_invalid_request_in_either_order(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let good = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("svc:{secret}")));
        let bad = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "other:wrong"));
        for (first, second) in [(&good, &bad), (&bad, &good)] {
            let response = http()
                .post(app.url("/oauth/v2/token"))
                .header(header::AUTHORIZATION, first)
                .header(header::AUTHORIZATION, second)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_request");
        }
    }

    async fn the_oauth2_crate_gets_a_token_with_client_secret_basic(app) {
        let secret = app.create_client("orders-worker", "read write", "read", &[]).await;
        let token = oauth2_token(&app, "orders-worker", &secret, AuthType::BasicAuth, "write").await;
        assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
        assert_eq!(token.expires_in().unwrap().as_secs(), 3600);
        assert_eq!(token.scopes().unwrap()[0].as_str(), "write");
        assert_eq!(claims(token.access_token().secret())["scope"], "write");
    }

    async fn the_oauth2_crate_gets_a_token_with_client_secret_post(app) {
        let secret = app.create_client("orders-worker", "read", "read", &[]).await;
        let token = oauth2_token(&app, "orders-worker", &secret, AuthType::RequestBody, "read").await;
        assert_eq!(claims(token.access_token().secret())["client_id"], "orders-worker");
    }

    async fn a_wrong_secret_is_a_401_with_a_basic_challenge(app) {
        app.create_client("svc", "read", "read", &[]).await;
        let client = BasicClient::new(ClientId::new("svc".into()))
            .set_client_secret(ClientSecret::new("wrong".into()))
            .set_token_uri(TokenUrl::new(app.url("/oauth/v2/token")).unwrap());
        let err = client.exchange_client_credentials().request_async(&http()).await.unwrap_err();
        let RequestTokenError::ServerResponse(response) = err else { panic!("{err:?}") };
        assert_eq!(response.error(), &BasicErrorResponseType::InvalidClient);

        let (status, challenge, body) = error_of(post_form(&app, "grant_type=client_credentials", Some(("svc", "wrong"))).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge, "Basic realm=\"tokend\"");
        assert_eq!(body["error"], "invalid_client");
    }

    async fn a_wrong_secret_in_the_body_is_a_401_without_a_challenge(app) {
        app.create_client("svc", "read", "read", &[]).await;
        let response = post_form(&app, "grant_type=client_credentials&client_id=svc&client_secret=wrong", None).await;
        let (status, challenge, body) = error_of(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge, "");
        assert_eq!(body["error"], "invalid_client");
    }

    async fn a_successful_response_is_never_cached(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let response = post_form(&app, "grant_type=client_credentials", Some(("svc", &secret))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::PRAGMA], "no-cache");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "read");
        assert_eq!(body["expires_in"], 3600);
    }

    async fn oauth_errors_answer_with_the_rfc_status_and_code(app) {
        let secret = app.create_client("svc", "read", "read", &["orders"]).await;
        let basic = Some(("svc", secret.as_str()));
        let body_auth = format!("client_id=svc&client_secret={secret}");
        let cases: Vec<ErrorCase> = vec![
            ("scope=read".into(), basic, StatusCode::BAD_REQUEST, "invalid_request"),
            ("grant_type=password".into(), basic, StatusCode::BAD_REQUEST, "unsupported_grant_type"),
            ("grant_type=client_credentials&scope=admin".into(), basic, StatusCode::BAD_REQUEST, "invalid_scope"),
            ("grant_type=client_credentials&resource=payroll".into(), basic, StatusCode::BAD_REQUEST, "invalid_target"),
            ("grant_type=client_credentials&grant_type=client_credentials".into(), basic, StatusCode::BAD_REQUEST, "invalid_request"),
            (format!("grant_type=client_credentials&{body_auth}"), basic, StatusCode::BAD_REQUEST, "invalid_request"),
            ("grant_type=client_credentials".into(), None, StatusCode::UNAUTHORIZED, "invalid_client"),
            ("grant_type=client_credentials&scope=%FF".into(), basic, StatusCode::BAD_REQUEST, "invalid_request"),
        ];
        for (body, auth, status, error) in cases {
            let (got_status, _, got) = error_of(post_form(&app, &body, auth).await).await;
            assert_eq!((got_status, got["error"].as_str().unwrap()), (status, error), "{body}");
            assert!(got["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
        }
    }

    async fn the_invalid_scope_description_names_the_scope(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let (_, _, body) = error_of(post_form(&app, "grant_type=client_credentials&scope=read+admin", Some(("svc", &secret))).await).await;
        assert!(body["error_description"].as_str().unwrap().contains("\"admin\""));
    }

    async fn basic_credentials_are_form_decoded(app) {
        let secret = app.create_client("orders-worker", "read", "read", &[]).await;
        let response = post_form(&app, "grant_type=client_credentials", Some(("orders%2Dworker", &secret))).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    async fn malformed_requests_get_a_json_4xx(app) {
        let client = http();
        let url = app.url("/oauth/v2/token");
        let not_base64 = client.post(&url).header(header::AUTHORIZATION, "Basic ***").form(&[("grant_type", "client_credentials")]).send().await.unwrap();
        let wrong_method = client.get(&url).send().await.unwrap();
        let wrong_type = client.post(&url).header(header::CONTENT_TYPE, "text/plain").body("grant_type=client_credentials").send().await.unwrap();
        let too_large = client.post(&url).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body("a".repeat(17 * 1024)).send().await.unwrap();
        let bad_json = client.post(&url).header(header::CONTENT_TYPE, "application/json").body("{\"grantType\": ").send().await.unwrap();
        let unknown_field = client.post(&url).header(header::CONTENT_TYPE, "application/json").body("{\"grantType\":\"client_credentials\",\"secret\":\"x\"}").send().await.unwrap();
        let no_such_path = client.get(app.url("/oauth/v2/nothing")).send().await.unwrap();
        let expected = [
            (not_base64, StatusCode::BAD_REQUEST, "invalid_request"),
            (wrong_method, StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
            (wrong_type, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request"),
            (too_large, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            (bad_json, StatusCode::BAD_REQUEST, "invalid_request"),
            (unknown_field, StatusCode::BAD_REQUEST, "invalid_request"),
            (no_such_path, StatusCode::NOT_FOUND, "not_found"),
        ];
        for (response, status, error) in expected {
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], error, "{status}: {body}");
        }
    }

    async fn the_json_dialect_takes_proto3_and_snake_case_names(app) {
        let secret = app.create_client("svc", "read", "read", &["orders"]).await;
        for body in [
            serde_json::json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": secret, "scope": "read", "audience": ["orders"]}),
            serde_json::json!({"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret}),
        ] {
            let response = http().post(app.url("/oauth/v2/token")).json(&body).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{body}");
            let token: Value = response.json().await.unwrap();
            assert_eq!(claims(token["access_token"].as_str().unwrap())["aud"], serde_json::json!(["orders"]));
        }
    }

    async fn the_token_idp_dialect_wraps_the_same_answers(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let ok = http().post(app.url("/token")).json(&serde_json::json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": secret, "scope": "read"})).send().await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let ok: Value = ok.json().await.unwrap();
        assert_eq!(ok["isSuccess"], true);
        assert_eq!(ok["data"]["tokenType"], "Bearer");
        assert_eq!(ok["data"]["expiresIn"], 3600);
        assert_eq!(ok["data"]["scope"], "read");
        assert!(ok["data"]["accessToken"].as_str().is_some_and(|t| t.split('.').count() == 3));

        let refused = http().post(app.url("/token")).json(&serde_json::json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": "wrong"})).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(refused["isSuccess"], false);
        assert_eq!(refused["error"]["code"], "invalid_client");
        assert!(refused["error"]["message"].is_string());
    }
}
