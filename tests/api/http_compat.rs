//! The requests other token services' documentation shows, sent unchanged but
//! for the host: each must work against tokend.

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::support::helpers::*;

async fn post(app: &TestApp, path: &str, body: String, basic: Option<(&str, &str)>) -> Value {
    let mut request = reqwest::Client::new()
        .post(app.url(path))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

on_both_stores! {
    async fn zitadel_style_basic_with_urn_scopes(app) {
        let scopes = "openid profile email urn:zitadel:iam:org:project:id:zitadel:aud";
        let secret = app.create_client("zitadel-svc", scopes, "", &[]).await;
        let body = format!("grant_type=client_credentials&scope={}", scopes.replace(' ', "+").replace(':', "%3A"));
        let token = post(&app, "/oauth/v2/token", body, Some(("zitadel-svc", &secret))).await;
        assert_eq!(token["scope"], "email openid profile urn:zitadel:iam:org:project:id:zitadel:aud");
    }

    async fn curity_style_credentials_in_the_form(app) {
        let secret = app.create_client("curity-client", "read write", "", &[]).await;
        let body = format!("client_id=curity-client&client_secret={secret}&grant_type=client_credentials&scope=read");
        let token = post(&app, "/oauth/v2/token", body, None).await;
        assert_eq!(token["scope"], "read");
    }

    async fn cloudentity_style_client_secret_post(app) {
        let secret = app.create_client("cloudentity-client", "read", "read", &[]).await;
        let body = format!("grant_type=client_credentials&client_id=cloudentity-client&client_secret={secret}");
        let token = post(&app, "/oauth/v2/token", body, None).await;
        assert_eq!(token["token_type"], "Bearer");
    }
}
