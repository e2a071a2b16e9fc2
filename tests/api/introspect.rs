//! Introspect: RFC 7662 answers, for the token's own client or a privileged one.

use tokend::contract::pb;
use tonic::Code;

use crate::support::helpers::*;

fn ask(token: &str) -> pb::IntrospectRequest {
    pb::IntrospectRequest {
        token: token.into(),
        token_type_hint: "access_token".into(),
        signed_response: false,
    }
}

on_both_stores! {
    async fn a_client_introspects_its_own_token(app) {
        let secret = app.create_client("svc", "read write", "read", &["orders"]).await;
        let token = app.token("svc", &secret, "read write").await.access_token;
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
        let claims = claims(&token);
        assert!(answer.active);
        assert_eq!(answer.scope, "read write");
        assert_eq!(answer.client_id, "svc");
        assert_eq!(answer.sub, "svc");
        assert_eq!(answer.aud, ["orders"]);
        assert_eq!(answer.iss, app.issuer());
        assert_eq!(answer.token_type, "Bearer");
        assert_eq!(answer.exp, claims["exp"].as_i64().unwrap());
        assert_eq!(answer.iat, claims["iat"].as_i64().unwrap());
        assert_eq!(answer.nbf, claims["nbf"].as_i64().unwrap());
        assert_eq!(answer.jti, claims["jti"].as_str().unwrap());
    }

    async fn a_bearer_token_can_authenticate_the_caller(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let answer = app.tokens.clone().introspect(with_bearer(ask(&token), &token)).await.unwrap().into_inner();
        assert!(answer.active);
    }

    async fn without_credentials_introspection_is_unauthenticated(app) {
        let status = app.tokens.clone().introspect(ask("anything")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
    }

    async fn a_caller_with_bad_credentials_is_unauthenticated(app) {
        let status = app.tokens.clone().introspect(with_basic(ask("x"), "svc", "nope")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_client");
        let status = app.tokens.clone().introspect(with_bearer(ask("x"), "not.a.token")).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "invalid_token");
    }

    async fn another_clients_token_is_inactive_unless_the_caller_may_introspect(app) {
        let owner = app.create_client("owner", "read", "read", &[]).await;
        let nosy = app.create_client("nosy", "read", "read", &[]).await;
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let token = app.token("owner", &owner, "").await.access_token;
        let hidden = app.tokens.clone().introspect(with_basic(ask(&token), "nosy", &nosy)).await.unwrap().into_inner();
        assert_eq!(hidden, pb::IntrospectResponse::default());
        let seen = app.tokens.clone().introspect(with_basic(ask(&token), "gateway", &gateway)).await.unwrap().into_inner();
        assert!(seen.active);
        assert_eq!(seen.client_id, "owner");
    }

    async fn garbage_and_tampered_tokens_answer_only_inactive(app) {
        let secret = app.create_client("svc", "read admin", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged_claims = claims(&token).to_string().replace("\"read\"", "\"admin\"");
        parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, forged_claims);
        let tampered = parts.join(".");
        for candidate in ["garbage", "a.b.c", tampered.as_str()] {
            let answer = app.tokens.clone().introspect(with_basic(ask(candidate), "svc", &secret)).await.unwrap().into_inner();
            assert_eq!(answer, pb::IntrospectResponse::default(), "{candidate}");
        }
    }

    async fn a_token_is_active_until_its_exp_and_not_at_it(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let lifetime = claims(&token)["exp"].as_i64().unwrap() - claims(&token)["iat"].as_i64().unwrap();
        // At most a second may pass between issuing and asking.
        app.authority.clock().advance(lifetime - 2);
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active, "two seconds before exp");
        app.authority.clock().advance(2);
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
        assert!(!answer.active, "at exp (RFC 7519 §4.1.4: on or after it, not accepted)");
    }

    async fn a_token_with_its_ecdsa_s_negated_is_inactive(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        for _ in 0..8 {
            // Half of all ECDSA signatures come out with a high s unless normalised.
            let token = app.token("svc", &secret, "").await.access_token;
            let twin = tokend_common::ecdsa::jws_twin(&token);
            let answer = app.tokens.clone().introspect(with_basic(ask(&twin), "svc", &secret)).await.unwrap().into_inner();
            assert!(!answer.active, "the (r, n - s) twin of a tokend token");
            let answer = app.tokens.clone().introspect(with_basic(ask(&token), "svc", &secret)).await.unwrap().into_inner();
            assert!(answer.active, "the token as issued");
        }
    }

    async fn tokens_of_a_disabled_client_are_inactive(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let changes = tokend::authority::ClientChanges { active: Some(false), ..Default::default() };
        app.registry.update("svc", changes, &Actor::cli()).await.unwrap();
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "gateway", &gateway)).await.unwrap().into_inner();
        assert!(!answer.active);
    }

    async fn tokens_from_before_a_disable_stay_inactive_after_the_client_is_enabled_again(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let admin = app.admin_token().await;
        let old = app.token("svc", &secret, "").await.access_token;
        for active in [false, true] {
            let request = pb::UpdateClientRequest {
                client: Some(pb::Client { client_id: "svc".into(), active, ..Default::default() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["active".into()] }),
            };
            app.admin.clone().update_client(with_bearer(request, &admin)).await.unwrap();
        }
        let answer = app.tokens.clone().introspect(with_basic(ask(&old), "gateway", &gateway)).await.unwrap().into_inner();
        assert!(!answer.active, "a token issued before the disable");
        let new = app.token("svc", &secret, "").await.access_token;
        let answer = app.tokens.clone().introspect(with_basic(ask(&new), "gateway", &gateway)).await.unwrap().into_inner();
        assert!(answer.active, "a token issued after the enable");
    }

    async fn tokens_of_a_deleted_client_are_inactive(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        app.registry.delete("svc", &Actor::cli()).await.unwrap();
        let answer = app.tokens.clone().introspect(with_basic(ask(&token), "gateway", &gateway)).await.unwrap().into_inner();
        assert!(!answer.active);
    }

    async fn a_client_deleted_and_created_again_at_once_does_not_revive_old_tokens(app) {
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let first = app.create_client("svc", "read", "read", &[]).await;
        // All within one second, as a script answering a leaked secret would:
        // start at the top of a second so the work cannot straddle two.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        tokio::time::sleep(std::time::Duration::from_nanos(1_000_000_000 - u64::from(now.subsec_nanos()))).await;
        let old = app.token("svc", &first, "").await.access_token;
        app.registry.delete("svc", &Actor::cli()).await.unwrap();
        let second = app.create_client("svc", "read", "read", &[]).await;
        let new = app.token("svc", &second, "").await.access_token;
        assert_eq!(claims(&old)["iat"], claims(&new)["iat"], "both tokens were issued in one second");

        let old = app.tokens.clone().introspect(with_basic(ask(&old), "gateway", &gateway)).await.unwrap();
        assert!(!old.into_inner().active, "the old registration's token");
        let new = app.tokens.clone().introspect(with_basic(ask(&new), "gateway", &gateway)).await.unwrap();
        assert!(new.into_inner().active, "the new registration's token");
    }
}
