//! IssueToken: the client-credentials grant and every way it can be refused.

use tokend::contract::pb;
use tonic::Code;

use crate::support::helpers::*;

on_both_stores! {
    async fn a_burst_of_cold_requests_with_one_secret_costs_one_argon2_check(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let before = app.authority.secrets().argon2_checks();
        let burst = (0..64).map(|_| {
            let mut tokens = app.tokens.clone();
            let request = token_request("svc", &secret, "");
            async move { tokens.issue_token(request).await }
        });
        for issued in futures_join_all(burst).await {
            assert_eq!(issued.expect("every request of the burst gets a token").into_inner().scope, "read");
        }
        assert_eq!(app.authority.secrets().argon2_checks() - before, 1);

        // A wrong secret of the right shape: one of another shape costs no check at all.
        let wrong_secret = guess_at(&secret);
        let wrong = (0..64).map(|_| {
            let mut tokens = app.tokens.clone();
            let request = token_request("svc", &wrong_secret, "");
            async move { tokens.issue_token(request).await }
        });
        for refused in futures_join_all(wrong).await {
            assert_error(&refused.unwrap_err(), Code::Unauthenticated, "invalid_client");
        }
        assert_eq!(app.authority.secrets().argon2_checks() - before, 2, "one more check for the burst of one wrong secret");

        // The last character changed (to one it is not), which breaks the checksum.
        let (kept, last) = secret.split_at(secret.len() - 1);
        let typo = format!("{kept}{}", if last == "x" { "y" } else { "x" });
        let refused = app.tokens.clone().issue_token(token_request("svc", &typo, "")).await.unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "invalid_client");
        assert_eq!(app.authority.secrets().argon2_checks() - before, 2, "a mistyped secret costs no argon2 check");
        // Well-shaped, but naming a secret id or client id that does not exist: no argon2 either.
        let unknown = tokend::domain::ClientSecret::generate().1.expose().to_owned();
        for (id, secret) in [("svc", &unknown), ("ghost", &secret)] {
            let refused = app.tokens.clone().issue_token(token_request(id, secret, "")).await.unwrap_err();
            assert_error(&refused, Code::Unauthenticated, "invalid_client");
        }
        assert_eq!(app.authority.secrets().argon2_checks() - before, 2, "an unknown secret or client id costs no argon2 check");
    }

    async fn a_client_in_steady_use_never_goes_back_to_argon2(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        app.token("svc", &secret, "").await;
        let checked = app.authority.secrets().argon2_checks();
        // Ten minutes of steady use, a call every 50 s: each finds its secret
        // near the end of its minute in the cache and renews it in the
        // background; the next call, 15 s later, is past the old end.
        for _ in 0..10 {
            app.authority.clock().advance(50);
            app.token("svc", &secret, "").await;
            app.authority.clock().advance(15);
            app.token("svc", &secret, "").await;
            app.authority.clock().advance(-15);
        }
        assert_eq!(app.authority.secrets().argon2_checks(), checked, "no argon2 check after the first");
    }

    async fn a_renewal_does_not_keep_a_rotated_secret_alive(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        app.token("svc", &secret, "").await;
        app.authority.clock().advance(50);
        app.token("svc", &secret, "").await;
        // Rotated away by another process: on SQLite no change notice reaches
        // this instance's cache before its next upkeep; on PostgreSQL one does.
        let store = tokend::store::Store::connect(app.database_url()).await.unwrap();
        let other = tokend::authority::Admin::open(&store, app.authority.clock(), Default::default());
        other.registry.rotate_secret("svc", 0, &Actor::cli()).await.unwrap();
        app.authority.clock().advance(50);
        // Still cached on SQLite (and then renewal finds the secret gone); refused on PostgreSQL.
        let _ = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await;
        app.authority.clock().advance(15);
        let refused = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await.unwrap_err();
        assert_error(&refused, Code::Unauthenticated, "invalid_client");
    }

    async fn a_huge_value_is_quoted_only_in_part(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let huge = "x".repeat(15_000);
        let mut request = token_request("svc", &secret, "");
        request.grant_type = huge.clone();
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "unsupported_grant_type");
        assert!(status.message().len() < 200, "{} bytes of message", status.message().len());
        let mut request = token_request("svc", &secret, "");
        request.audience = vec![huge];
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "invalid_target");
        assert!(status.message().len() < 200, "{} bytes of message", status.message().len());
    }

    async fn two_authorization_entries_are_an_invalid_request_in_either_order(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let message = || token_request("", "", "");
        for (first, second) in [(("svc", secret.as_str()), ("other", "wrong")), (("other", "wrong"), ("svc", secret.as_str()))] {
            let mut request = with_basic(message(), first.0, first.1);
            let again = with_basic(message(), second.0, second.1);
            request.metadata_mut().append("authorization", again.metadata().get("authorization").unwrap().clone());
            let status = app.tokens.clone().issue_token(request).await.unwrap_err();
            assert_error(&status, Code::InvalidArgument, "invalid_request");
        }
    }

    async fn a_client_gets_a_signed_access_token_with_its_default_scopes(app) {
        let secret = app.create_client("orders-worker", "orders.read orders.write", "orders.read", &["orders-api"]).await;
        let issued = app.token("orders-worker", &secret, "").await;
        assert_eq!(issued.token_type, "Bearer");
        assert_eq!(issued.expires_in, 3600);
        assert_eq!(issued.scope, "orders.read");
        let header = header(&issued.access_token);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        let claims = claims(&issued.access_token);
        assert_eq!(claims["iss"], app.issuer());
        assert_eq!(claims["sub"], "orders-worker");
        assert_eq!(claims["client_id"], "orders-worker");
        assert_eq!(claims["aud"], serde_json::json!(["orders-api"]));
        assert_eq!(claims["scope"], "orders.read");
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["nbf"].as_i64().unwrap(), iat);
        assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    }

    async fn every_token_gets_its_own_jti(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let first = claims(&app.token("svc", &secret, "").await.access_token);
        let second = claims(&app.token("svc", &secret, "").await.access_token);
        assert_ne!(first["jti"], second["jti"]);
    }

    async fn basic_metadata_credentials_work(app) {
        let secret = app.create_client("orders-worker", "a", "a", &[]).await;
        let body = pb::IssueTokenRequest { grant_type: "client_credentials".into(), ..Default::default() };
        let issued = app.tokens.clone().issue_token(with_basic(body, "orders-worker", &secret)).await.unwrap().into_inner();
        assert_eq!(claims(&issued.access_token)["client_id"], "orders-worker");
    }

    async fn basic_metadata_credentials_are_form_decoded(app) {
        let secret = app.create_client("orders-worker", "a", "a", &[]).await;
        let body = pb::IssueTokenRequest { grant_type: "client_credentials".into(), ..Default::default() };
        // `-` percent-encoded, as RFC 6749 §2.3.1 lets a client send it.
        let raw = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("orders%2Dworker:{secret}"));
        let request = with_authorization(body, &format!("Basic {raw}"));
        let issued = app.tokens.clone().issue_token(request).await.unwrap().into_inner();
        assert_eq!(claims(&issued.access_token)["client_id"], "orders-worker");
    }

    async fn basic_and_body_credentials_together_are_an_invalid_request(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let request = with_basic(token_request("svc", &secret, ""), "svc", &secret);
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");
    }

    async fn a_wrong_secret_and_an_unknown_client_get_the_same_invalid_client(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let mut wrong = secret.clone();
        wrong.replace_range(20..21, if &secret[20..21] == "A" { "B" } else { "A" });
        let wrong_secret = app.tokens.clone().issue_token(token_request("svc", &wrong, "")).await.unwrap_err();
        let unknown = app.tokens.clone().issue_token(token_request("nobody", &secret, "")).await.unwrap_err();
        assert_error(&wrong_secret, Code::Unauthenticated, "invalid_client");
        assert_error(&unknown, Code::Unauthenticated, "invalid_client");
        assert_eq!(wrong_secret.message(), unknown.message());
        assert!(!wrong_secret.message().contains("svc"));
    }

    async fn a_request_without_credentials_is_invalid_client(app) {
        let request = pb::IssueTokenRequest { grant_type: "client_credentials".into(), ..Default::default() };
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn a_malformed_authorization_header_is_an_invalid_request(app) {
        let body = pb::IssueTokenRequest { grant_type: "client_credentials".into(), ..Default::default() };
        let status = app.tokens.clone().issue_token(with_authorization(body, "Basic %%%not-base64")).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");
    }

    async fn another_grant_type_is_unsupported(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let mut request = token_request("svc", &secret, "");
        request.grant_type = "password".into();
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "unsupported_grant_type");
    }

    async fn a_missing_grant_type_is_an_invalid_request(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let mut request = token_request("svc", &secret, "");
        request.grant_type.clear();
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::InvalidArgument, "invalid_request");
    }

    async fn a_scope_outside_the_allowed_set_is_invalid_scope_naming_it(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let status = app.tokens.clone().issue_token(token_request("svc", &secret, "read admin")).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "invalid_scope");
        assert!(status.message().contains("\"admin\""), "{}", status.message());
    }

    async fn a_malformed_scope_is_invalid_scope(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let status = app.tokens.clone().issue_token(token_request("svc", &secret, "re\"ad")).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "invalid_scope");
    }

    async fn requested_scopes_are_granted_once_each(app) {
        let secret = app.create_client("svc", "read write admin", "read", &[]).await;
        let issued = app.token("svc", &secret, "write read write").await;
        assert_eq!(issued.scope, "read write");
        assert_eq!(claims(&issued.access_token)["scope"], "read write");
    }

    async fn a_client_without_audiences_gets_the_default_audience(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let issued = app.token("svc", &secret, "").await;
        assert_eq!(claims(&issued.access_token)["aud"], serde_json::json!([DEFAULT_AUDIENCE]));
    }

    async fn asking_for_one_of_the_clients_audiences_narrows_the_token(app) {
        let secret = app.create_client("svc", "a", "a", &["orders", "billing"]).await;
        let mut request = token_request("svc", &secret, "");
        request.audience = vec!["billing".into()];
        let issued = app.tokens.clone().issue_token(request).await.unwrap().into_inner();
        assert_eq!(claims(&issued.access_token)["aud"], serde_json::json!(["billing"]));
    }

    async fn an_audience_the_client_lacks_is_refused(app) {
        let secret = app.create_client("svc", "a", "a", &["orders"]).await;
        let mut request = token_request("svc", &secret, "");
        request.audience = vec!["payroll".into()];
        let status = app.tokens.clone().issue_token(request).await.unwrap_err();
        assert_error(&status, Code::PermissionDenied, "invalid_target");
    }

    async fn a_disabled_client_is_invalid_client(app) {
        let secret = app.create_client("svc", "a", "a", &[]).await;
        let changes = tokend::authority::ClientChanges { active: Some(false), ..Default::default() };
        app.registry.update("svc", changes, &Actor::cli()).await.unwrap();
        let status = app.tokens.clone().issue_token(token_request("svc", &secret, "")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn the_clients_token_lifetime_is_honoured(app) {
        let draft = tokend::authority::ClientDraft {
            client_id: "short".into(),
            allowed_scopes: vec!["a".into()],
            token_ttl_seconds: 300,
            ..Default::default()
        };
        let (_, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
        let issued = app.token("short", secret.unwrap().expose(), "").await;
        assert_eq!(issued.expires_in, 300);
    }
}
