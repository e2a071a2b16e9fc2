//! Verifier: local checks against discovered keys, key rotation, the refetch
//! limit, scopes, and remote mode through Introspect.

use std::time::Duration;

use http::{HeaderMap, header::AUTHORIZATION};
use serde_json::json;
use tokend_client::{TokenSource, Verifier, VerifyError};

use crate::server::{jti, now, server, server_rotating};

#[tokio::test]
async fn a_token_from_tokend_verifies_locally() {
    let server = server().await;
    let token = server.source().token("orders.read orders.write", &[]).await.unwrap();
    let claims = server.verifier().await.verify(&token.access_token).await.unwrap();
    assert_eq!(claims.client_id, "orders-worker");
    assert_eq!(claims.iss, server.issuer);
    assert_eq!(claims.aud, ["orders"]);
    assert!(claims.has_scope("orders.write"));
    assert_eq!(claims.claim("tenant"), Some(&json!("acme")), "the client's fixed claims");
    assert_eq!(claims.claim("tier"), Some(&json!(3)));
    assert_eq!(claims.claim("nonexistent"), None);
}

#[tokio::test]
async fn the_high_s_twin_of_a_token_is_refused_as_tokend_refuses_it() {
    let server = server().await;
    let verifier = server.verifier().await;
    // Half of all ECDSA signatures have a high-s twin to try; one token's twin is as good as any.
    let token = server.source().token("", &[]).await.unwrap().access_token;
    let twin = tokend_common::ecdsa::jws_twin(&token);
    assert_eq!(verifier.verify(&twin).await.unwrap_err(), VerifyError::InvalidToken("bad signature"));
    assert!(verifier.verify(&token).await.is_ok(), "the token as issued");
}

#[tokio::test]
async fn a_token_for_another_audience_or_issuer_is_refused() {
    let server = server().await;
    let token = server.source().token("", &[]).await.unwrap().access_token;
    let billing = Verifier::builder(&server.issuer, "billing").discover().await.unwrap();
    assert_eq!(
        billing.verify(&token).await.unwrap_err(),
        VerifyError::InvalidToken("token is for another audience")
    );
    let other = server
        .sign("at+jwt", json!({"iss": "http://elsewhere", "sub": "s", "aud": "orders", "exp": now() + 60}))
        .await;
    let error = server.verifier().await.verify(&other).await.unwrap_err();
    assert_eq!(error, VerifyError::InvalidToken("token is from another issuer"));
}

#[tokio::test]
async fn expiry_is_checked_with_a_small_leeway() {
    let server = server().await;
    let verifier = server.verifier().await;
    let token = |exp: i64| {
        server.sign(
            "at+jwt",
            json!({"iss": server.issuer, "sub": "s", "aud": "orders", "exp": exp, "nbf": now()}),
        )
    };
    assert!(verifier.verify(&token(now() - 3).await).await.is_ok(), "3 s late is within the 10 s leeway");
    let late = verifier.verify(&token(now() - 30).await).await.unwrap_err();
    assert_eq!(late, VerifyError::InvalidToken("token expired"));
    let early = server
        .sign("at+jwt", json!({"iss": server.issuer, "sub": "s", "aud": "orders", "exp": now() + 600, "nbf": now() + 300}))
        .await;
    assert_eq!(verifier.verify(&early).await.unwrap_err(), VerifyError::InvalidToken("token not yet valid"));
}

#[tokio::test]
async fn only_access_tokens_are_accepted() {
    let server = server().await;
    let id_token_like = server
        .sign("JWT", json!({"iss": server.issuer, "sub": "s", "aud": "orders", "exp": now() + 60}))
        .await;
    let error = server.verifier().await.verify(&id_token_like).await.unwrap_err();
    assert_eq!(error, VerifyError::InvalidToken("not an access token (typ)"));
    let error = server.verifier().await.verify("not.a.jwt").await.unwrap_err();
    assert_eq!(error, VerifyError::InvalidToken("malformed token"));
}

#[tokio::test]
async fn a_token_signed_by_another_tokend_is_refused() {
    let ours = server().await;
    let theirs = server().await;
    let token = theirs.source().token("", &[]).await.unwrap().access_token;
    let error = ours.verifier().await.verify(&token).await.unwrap_err();
    assert_eq!(error, VerifyError::InvalidToken("unknown signing key"));
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_on_first_sight() {
    let server = server().await;
    let verifier = Verifier::builder(&server.issuer, "orders")
        .refetch_interval(Duration::ZERO)
        .discover()
        .await
        .unwrap();
    let before = server.source().token("", &[]).await.unwrap().access_token;
    verifier.verify(&before).await.unwrap();

    let kid = server.rotate_key().await;
    let after = server.source().token("orders.write", &[]).await.unwrap().access_token;
    assert_eq!(jsonwebtoken::decode_header(&after).unwrap().kid.as_deref(), Some(kid.as_str()));
    assert!(verifier.verify(&after).await.is_ok(), "the new key was fetched when a token named it");
    assert!(verifier.verify(&before).await.is_ok(), "the old key still verifies");
}

/// In real time: keys rotating every 6 s and signing 2 s after they are
/// published, checked by a verifier that trusts a fetched key set for as long
/// as the JWKS's max-age says and fetches no sooner when a token names an
/// unknown key, as a caching JWKS client does. Every token verifies.
#[tokio::test]
async fn keys_rotating_on_schedule_never_outrun_a_verifier_that_caches_the_key_set() {
    let policy = tokend::authority::KeyPolicy::new(Some(6), Some(2), None).unwrap();
    let server = server_rotating(policy).await;
    let max_age = Duration::from_secs(policy.jwks_max_age());
    let verifier = Verifier::builder(&server.issuer, "orders")
        .key_max_age(max_age)
        .refetch_interval(max_age)
        .discover()
        .await
        .unwrap();
    let mut tokens =
        tokend::contract::pb::token_service_client::TokenServiceClient::new(server.channel.clone());
    let mut kids = std::collections::HashSet::new();
    let until = std::time::Instant::now() + Duration::from_secs(22);
    while std::time::Instant::now() < until {
        let request = tokend::contract::pb::IssueTokenRequest {
            grant_type: "client_credentials".into(),
            client_id: "orders-worker".into(),
            client_secret: server.worker_secret.clone(),
            ..Default::default()
        };
        let token = tokens.issue_token(request).await.unwrap().into_inner().access_token;
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        if let Err(err) = verifier.verify(&token).await {
            panic!("a token signed by {kid} was refused: {err:?}");
        }
        kids.insert(kid);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(kids.len() >= 2, "the keys rotated while tokens were issued: {kids:?}");
}

#[tokio::test]
async fn unknown_keys_cause_no_fetch_within_the_refetch_interval() {
    let server = server().await;
    let verifier = Verifier::builder(&server.issuer, "orders")
        .refetch_interval(Duration::from_secs(3600))
        .discover()
        .await
        .unwrap();
    server.rotate_key().await;
    let signed_by_new_key = server.source().token("", &[]).await.unwrap().access_token;
    for _ in 0..100 {
        let error = verifier.verify(&signed_by_new_key).await.unwrap_err();
        assert_eq!(error, VerifyError::InvalidToken("unknown signing key"), "keys were not fetched again");
    }
}

#[tokio::test]
async fn a_token_without_a_required_scope_is_insufficient() {
    let server = server().await;
    let token = server.source().token("orders.read", &[]).await.unwrap().access_token;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    let verifier = server.verifier().await;
    assert!(verifier.authorize(&headers, &["orders.read".into()]).await.is_ok());
    let error = verifier.authorize(&headers, &["orders.write".into()]).await.unwrap_err();
    assert_eq!(error, VerifyError::InsufficientScope { required: "orders.write".into() });
    let error = verifier.authorize(&HeaderMap::new(), &[]).await.unwrap_err();
    assert_eq!(error, VerifyError::MissingToken);
}

#[tokio::test]
async fn discovery_refuses_metadata_that_names_another_issuer() {
    let server = server().await;
    let aliased = server.issuer.replace("127.0.0.1", "localhost");
    let error = Verifier::builder(aliased, "orders").discover().await.err().unwrap();
    assert!(
        matches!(error, VerifyError::Unavailable(ref reason) if reason.contains("names issuer")),
        "{error}"
    );
}

#[tokio::test]
async fn remote_mode_refuses_a_revoked_token_as_the_status_list_does() {
    let server = server().await;
    let api = TokenSource::new(server.channel.clone(), "orders-api", &server.api_secret);
    let remote = Verifier::builder(&server.issuer, "orders").introspect(server.channel.clone(), api);
    let token = server.source().token("", &[]).await.unwrap().access_token;
    let claims = remote.verify(&token).await.unwrap();
    assert_eq!((claims.client_id.as_str(), claims.scope.as_str()), ("orders-worker", "orders.read"));
    assert_eq!(claims.claim("tier"), Some(&json!(3)), "fixed claims come through introspection too");

    let mut tokens = tokend_client::pb::token_service_client::TokenServiceClient::new(server.channel.clone());
    // The worker revokes its own token with its credentials: the token is for
    // orders, not for tokend, so it cannot serve as a bearer at tokend.
    let mut revoke = tonic::Request::new(tokend_client::pb::RevokeRequest {
        token: token.clone(),
        token_type_hint: String::new(),
    });
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("orders-worker:{}", server.worker_secret),
    );
    revoke.metadata_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
    tokens.revoke(revoke).await.unwrap();

    assert_eq!(remote.verify(&token).await.unwrap_err(), VerifyError::InvalidToken("token is not active"));
    assert_eq!(
        server.verifier().await.verify(&token).await.unwrap_err(),
        VerifyError::InvalidToken("token revoked"),
        "a local verifier learns of it from the token's status list"
    );
    assert_eq!(claims.jti, jti(&token));
}
