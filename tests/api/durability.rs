//! Restarts: clients, secrets and signing keys outlive the process.

use tokend::grpc::pb;

use crate::helpers::*;

on_both_stores! {
    async fn clients_and_tokens_survive_a_restart(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let kid_before = header(&token)["kid"].clone();

        let app = app.restart().await;
        let ask = pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new() };
        let answer = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active, "a token issued before the restart is still active");
        let fresh = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&fresh)["kid"], kid_before, "the signing key was kept");
    }
}

/// The database going away is an outage clients may retry: UNAVAILABLE, never INTERNAL.
#[tokio::test]
async fn a_store_outage_is_unavailable() {
    let Some((app, proxy)) = TestApp::spawn_behind_proxy().await else {
        return;
    };
    let secret = app.create_client("svc", "read", "read", &[]).await;
    app.token("svc", &secret, "").await;
    proxy.cut();
    let status = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await.unwrap_err();
    assert_error(&status, tonic::Code::Unavailable, "temporarily_unavailable");
}
