//! TokenSource: caching, single flight, background refresh, errors.

use tokend::authority::Actor;
use tokend_client::TokenSource;

use crate::server::{jti, server};

#[tokio::test]
async fn a_fresh_token_is_served_from_the_cache() {
    let server = server().await;
    let source = server.source();
    let first = source.token("", &[]).await.unwrap();
    let second = source.token("", &[]).await.unwrap();
    assert_eq!(jti(&first.access_token), jti(&second.access_token));
    assert_eq!(first.scope, "orders.read");
}

#[tokio::test]
async fn a_thousand_callers_on_an_empty_cache_share_one_call() {
    let server = server().await;
    let source = server.source();
    let callers: Vec<_> = (0..1000)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token("orders.write", &[]).await.unwrap().access_token })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for caller in callers {
        ids.insert(jti(&caller.await.unwrap()));
    }
    assert_eq!(ids.len(), 1, "one token was issued for all of them");
}

#[tokio::test]
async fn each_scope_gets_its_own_token() {
    let server = server().await;
    let source = server.source();
    let read = source.token("orders.read", &[]).await.unwrap();
    let write = source.token("orders.write", &[]).await.unwrap();
    assert_eq!((read.scope.as_str(), write.scope.as_str()), ("orders.read", "orders.write"));
    assert_ne!(jti(&read.access_token), jti(&write.access_token));
}

#[tokio::test]
async fn a_wrong_secret_surfaces_invalid_client_and_is_not_retried() {
    let server = server().await;
    let source = TokenSource::new(server.channel.clone(), "orders-worker", "wrong");
    let error = source.token("", &[]).await.unwrap_err();
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_scope_outside_the_clients_is_invalid_scope() {
    let server = server().await;
    let source = server.source();
    let error = source.token("tokend.admin", &[]).await.unwrap_err();
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn a_token_near_its_end_is_refreshed_in_the_background() {
    let server = server().await;
    // Tokens live an hour; asking for refreshes 59 minutes ahead puts every
    // token in its refresh window at once.
    let source = server.source().refresh_ahead(std::time::Duration::from_secs(59 * 60));
    let first = source.token("", &[]).await.unwrap();
    let served_while_refreshing = source.token("", &[]).await.unwrap();
    assert_eq!(jti(&first.access_token), jti(&served_while_refreshing.access_token));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let current = source.token("", &[]).await.unwrap();
        if jti(&current.access_token) != jti(&first.access_token) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refreshed token within 5 s");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn debug_output_shows_neither_token_nor_secret() {
    let server = server().await;
    let source = server.source();
    let token = source.token("", &[]).await.unwrap();
    let shown = format!("{token:?} {source:?}");
    assert!(shown.contains("orders.read") && shown.contains("orders-worker"), "{shown}");
    assert!(!shown.contains(&token.access_token) && !shown.contains(&server.worker_secret), "{shown}");
}

#[tokio::test]
async fn a_rate_limited_fetch_waits_as_long_as_tokend_says_and_then_succeeds() {
    let server = server().await;
    let metered = tokend::authority::ClientDraft {
        client_id: "metered".into(),
        allowed_scopes: vec!["a".into(), "b".into()],
        rate_limit_per_second: 2,
        rate_limit_burst: 1,
        ..Default::default()
    };
    let (_, secret) = server.authority.registry().create(metered, &Actor::cli()).await.unwrap();
    let source = TokenSource::new(server.channel.clone(), "metered", secret.unwrap().expose());
    source.token("a", &[]).await.unwrap();
    let started = std::time::Instant::now();
    // Another scope is another fetch, past the burst of one: RESOURCE_EXHAUSTED
    // with a RetryInfo of about half a second, then a token.
    let token = source.token("b", &[]).await.expect("the retry after the delay succeeds");
    assert_eq!(token.scope, "b");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "{:?}", started.elapsed());
}

#[tokio::test]
async fn exchanged_tokens_are_narrower_and_cached_per_subject_audience_and_scope() {
    let server = server().await;
    let source = server.source();
    let wide = source.token("orders.read orders.write", &[]).await.unwrap().access_token;
    let narrow = source.exchange(&wide, &["orders"], "orders.read").await.unwrap();
    assert_eq!(narrow.scope, "orders.read");
    let claims = server.verifier().await.verify(&narrow.access_token).await.unwrap();
    assert_eq!((claims.sub.as_str(), claims.aud.as_slice()), ("orders-worker", &["orders".to_owned()][..]));
    assert_ne!(jti(&narrow.access_token), jti(&wide));

    let again = source.exchange(&wide, &["orders"], "orders.read").await.unwrap();
    assert_eq!(jti(&again.access_token), jti(&narrow.access_token), "served from the cache");
    let other_scope = source.exchange(&wide, &["orders"], "orders.write").await.unwrap();
    assert_ne!(jti(&other_scope.access_token), jti(&narrow.access_token));
    assert_eq!(other_scope.scope, "orders.write");

    let refused = source.exchange(&wide, &["orders"], "orders.admin").await.unwrap_err();
    assert_eq!(refused.oauth_error.as_deref(), Some("invalid_scope"), "{refused:?}");
}
