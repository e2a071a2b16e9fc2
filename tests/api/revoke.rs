//! Revoke: RFC 7009 semantics; a revoked token stays inactive, even after a restart.

use tokend::contract::pb;
use tonic::Code;

use crate::support::helpers::*;

fn revoke(token: &str) -> pb::RevokeRequest {
    pb::RevokeRequest { token: token.into(), token_type_hint: String::new() }
}

fn ask(token: &str) -> pb::IntrospectRequest {
    pb::IntrospectRequest { token: token.into(), token_type_hint: String::new(), signed_response: false }
}

on_both_stores! {
    async fn a_revoked_token_is_inactive_from_then_on_across_restarts(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        app.tokens.clone().revoke(with_basic(revoke(&token), "svc", &secret)).await.unwrap();
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
        assert!(!answer.active);

        let app = app.restart().await;
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
        assert!(!answer.active);
    }

    async fn revoking_one_token_leaves_the_others_active(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let first = app.token("svc", &secret, "").await.access_token;
        let second = app.token("svc", &secret, "").await.access_token;
        app.tokens.clone().revoke(with_basic(revoke(&first), "svc", &secret)).await.unwrap();
        let answer = app.tokens.clone().introspect(with_basic(ask(&second), "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active);
    }

    async fn unknown_and_malformed_tokens_revoke_silently(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        for token in ["garbage", "a.b.c"] {
            app.tokens.clone().revoke(with_basic(revoke(token), "svc", &secret)).await.unwrap();
        }
    }

    async fn an_empty_token_is_an_invalid_request_as_over_http(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let status = app.tokens.clone().revoke(with_basic(revoke(""), "svc", &secret)).await.unwrap_err();
        assert_error(&status, tonic::Code::InvalidArgument, "invalid_request");
        let status = app.tokens.clone().introspect(with_basic(pb::IntrospectRequest { token: String::new(), ..Default::default() }, "svc", &secret)).await.unwrap_err();
        assert_error(&status, tonic::Code::InvalidArgument, "invalid_request");
    }

    async fn revoking_twice_succeeds(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        app.tokens.clone().revoke(with_basic(revoke(&token), "svc", &secret)).await.unwrap();
        app.tokens.clone().revoke(with_basic(revoke(&token), "svc", &secret)).await.unwrap();
    }

    async fn a_client_may_not_revoke_another_clients_token(app) {
        let owner = app.create_client("owner", "read", "read", &[]).await;
        let other = app.create_client("other", "read", "read", &[]).await;
        let token = app.token("owner", &owner, "").await.access_token;
        let status = app.tokens.clone().revoke(with_basic(revoke(&token), "other", &other)).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "unauthorized_client");
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "owner", &owner)).await.unwrap().into_inner();
        assert!(answer.active);
    }

    async fn an_admin_may_revoke_any_token(app) {
        let owner = app.create_client("owner", "read", "read", &[]).await;
        let token = app.token("owner", &owner, "").await.access_token;
        let admin = app.admin_token().await;
        app.tokens.clone().revoke(with_bearer(revoke(&token), &admin)).await.unwrap();
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "owner", &owner)).await.unwrap().into_inner();
        assert!(!answer.active);
    }

    async fn revocation_without_credentials_is_unauthenticated(app) {
        let status = app.tokens.clone().revoke(revoke("x")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }
}
