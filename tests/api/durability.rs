//! Restarts: clients, secrets and signing keys outlive the process.

use tokend::contract::pb;

use crate::support::helpers::*;

on_both_stores! {
    async fn a_key_created_by_another_instance_is_picked_up(app) {
        let other = app.second_instance(tokend::authority::SigningAlgorithm::EdDsa).await;
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = other.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&token)["alg"], "EdDSA");
        let ask = || pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new(), signed_response: false };
        // Unknown here until an upkeep round: this one, or the server's own
        // (every 5 s), which may come first on a busy machine.
        app.authority.maintain().await;
        let after = app.tokens.clone().introspect(with_basic(ask(), "svc", &secret)).await.unwrap().into_inner();
        assert!(after.active);
    }

    async fn a_client_disabled_elsewhere_is_refused_here_after_the_next_upkeep(app) {
        let other = app.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = other.token("svc", &secret, "").await.access_token;
        let ask = || pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new(), signed_response: false };
        assert!(other.tokens.clone().introspect(with_basic(ask(), "svc", &secret)).await.unwrap().into_inner().active);

        let disable = tokend::authority::ClientChanges { active: Some(false), ..Default::default() };
        app.registry.update("svc", disable, &Actor::cli()).await.unwrap();
        other.authority.maintain().await;
        let refused = other.tokens.clone().issue_token(token_request("svc", &secret, "")).await.unwrap_err();
        assert_error(&refused, tonic::Code::Unauthenticated, "invalid_client");
        let gateway = app.create_client("gateway", "tokend.introspect", "", &[]).await;
        let answer = other.tokens.clone().introspect(with_basic(ask(), "gateway", &gateway)).await.unwrap();
        assert!(!answer.into_inner().active, "its tokens are inactive here too, within one upkeep");
    }

    async fn a_secret_rotated_elsewhere_stops_working_here_after_the_next_upkeep(app) {
        let other = app.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
        let old = app.create_client("svc", "read", "read", &[]).await;
        other.token("svc", &old, "").await;
        let (_, new) = app.registry.rotate_secret("svc", 0, &Actor::cli()).await.unwrap();
        other.authority.maintain().await;
        let refused = other.tokens.clone().issue_token(token_request("svc", &old, "")).await.unwrap_err();
        assert_error(&refused, tonic::Code::Unauthenticated, "invalid_client");
        other.token("svc", new.expose(), "").await;
    }

    async fn clients_and_tokens_survive_a_restart(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        let kid_before = header(&token)["kid"].clone();

        let app = app.restart().await;
        let ask = pb::IntrospectRequest { token: token.clone(), token_type_hint: String::new(), signed_response: false };
        let answer = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
        assert!(answer.active, "a token issued before the restart is still active");
        let fresh = app.token("svc", &secret, "").await.access_token;
        assert_eq!(header(&fresh)["kid"], kid_before, "the signing key was kept");
    }
}

/// The database going away is an outage clients may retry: UNAVAILABLE, never
/// INTERNAL. Clients verified in the last minute keep getting tokens from memory.
#[tokio::test]
async fn a_store_outage_is_unavailable_for_cold_clients_only() {
    let Some((app, proxy)) = TestApp::spawn_behind_proxy().await else {
        return;
    };
    let warm = app.create_client("warm", "read", "read", &[]).await;
    let cold = app.create_client("cold", "read", "read", &[]).await;
    app.token("warm", &warm, "").await;
    proxy.cut();
    let status = app.tokens.clone().issue_token(token_request("cold", &cold, "")).await.unwrap_err();
    assert_error(&status, tonic::Code::Unavailable, "temporarily_unavailable");
    app.token("warm", &warm, "").await;
}

/// Through an outage: a cold client is told UNAVAILABLE at once (not after a
/// timeout), a warm client and a verified token keep working from memory,
/// health says NOT_SERVING; once the database is back, everything recovers
/// by itself within 5 s.
#[tokio::test]
async fn a_store_outage_is_ridden_out_and_healed_without_help() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let Some((app, proxy)) = TestApp::spawn_behind_proxy().await else {
        return;
    };
    let warm = app.create_client("warm", "read", "read", &[]).await;
    let cold = app.create_client("cold", "read", "read", &[]).await;
    let token = app.token("warm", &warm, "").await.access_token;
    let introspect = || {
        let ask = pb::IntrospectRequest {
            token: token.clone(),
            token_type_hint: String::new(),
            signed_response: false,
        };
        with_basic(ask, "warm", &warm)
    };
    assert!(app.tokens.clone().introspect(introspect()).await.unwrap().into_inner().active);

    proxy.cut();
    let asked = std::time::Instant::now();
    let status = app.tokens.clone().issue_token(token_request("cold", &cold, "")).await.unwrap_err();
    assert_error(&status, tonic::Code::Unavailable, "temporarily_unavailable");
    assert!(asked.elapsed() < std::time::Duration::from_secs(2), "refused after {:?}", asked.elapsed());
    app.token("warm", &warm, "").await;
    assert!(app.tokens.clone().introspect(introspect()).await.unwrap().into_inner().active);
    let mut health = HealthClient::new(app.channel.clone());
    let check = || HealthCheckRequest { service: String::new() };
    assert_eq!(health.check(check()).await.unwrap().into_inner().status(), ServingStatus::NotServing);

    proxy.restore().await;
    let restored = std::time::Instant::now();
    loop {
        match app.tokens.clone().issue_token(token_request("cold", &cold, "")).await {
            Ok(_) => break,
            Err(status) => {
                assert_error(&status, tonic::Code::Unavailable, "temporarily_unavailable");
                assert!(restored.elapsed() < std::time::Duration::from_secs(5), "not healed after 5 s");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    while health.check(check()).await.unwrap().into_inner().status() != ServingStatus::Serving {
        assert!(restored.elapsed() < std::time::Duration::from_secs(5), "health not back after 5 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Two instances on one PostgreSQL database: a revocation made on one is
/// applied by the other at its next upkeep round (every few seconds).
#[tokio::test]
async fn a_revocation_on_one_instance_reaches_the_others() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let second = first.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
    let secret = first.create_client("svc", "read", "read", &[]).await;
    let token = first.token("svc", &secret, "").await.access_token;
    let ask = || pb::IntrospectRequest {
        token: token.clone(),
        token_type_hint: String::new(),
        signed_response: false,
    };
    let before =
        second.tokens.clone().introspect(with_basic(ask(), "svc", &secret)).await.unwrap().into_inner();
    assert!(before.active);

    let revoke = pb::RevokeRequest { token: token.clone(), token_type_hint: String::new() };
    first.tokens.clone().revoke(with_basic(revoke, "svc", &secret)).await.unwrap();
    second.authority.maintain().await;
    let after =
        second.tokens.clone().introspect(with_basic(ask(), "svc", &secret)).await.unwrap().into_inner();
    assert!(!after.active);
}

/// PostgreSQL announces client changes as they commit, so another instance
/// drops a leaked secret at once instead of at its next upkeep (up to 5 s).
#[tokio::test]
async fn on_postgres_a_secret_rotated_elsewhere_without_grace_stops_working_at_once() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let other = app.second_instance(tokend::authority::SigningAlgorithm::Es256).await;
    let old = app.create_client("svc", "read", "read", &[]).await;
    other.token("svc", &old, "").await;
    app.registry.rotate_secret("svc", 0, &Actor::cli()).await.unwrap();
    let rotated = std::time::Instant::now();
    loop {
        match other.tokens.clone().issue_token(token_request("svc", &old, "")).await {
            Err(refused) => {
                assert_error(&refused, tonic::Code::Unauthenticated, "invalid_client");
                break;
            }
            Ok(_) => {
                let waited = rotated.elapsed();
                assert!(
                    waited < std::time::Duration::from_secs(1),
                    "the old secret still worked after {waited:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
}

/// Health follows the store as soon as a call finds it gone, not at the next
/// periodic ping (every 5 s).
#[tokio::test]
async fn health_turns_not_serving_as_soon_as_a_call_finds_the_store_gone() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let Some((app, proxy)) = TestApp::spawn_behind_proxy().await else {
        return;
    };
    let cold = app.create_client("cold", "read", "read", &[]).await;
    let mut health = HealthClient::new(app.channel.clone());
    let check = |service: &str| HealthCheckRequest { service: service.into() };
    assert_eq!(health.check(check("")).await.unwrap().into_inner().status(), ServingStatus::Serving);
    proxy.cut();
    let status = app.tokens.clone().issue_token(token_request("cold", &cold, "")).await.unwrap_err();
    assert_error(&status, tonic::Code::Unavailable, "temporarily_unavailable");
    let failed = std::time::Instant::now();
    for service in ["", "tokend.v1.TokenService"] {
        while health.check(check(service)).await.unwrap().into_inner().status() != ServingStatus::NotServing {
            let waited = failed.elapsed();
            assert!(waited < std::time::Duration::from_secs(1), "{service:?} still serving after {waited:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
