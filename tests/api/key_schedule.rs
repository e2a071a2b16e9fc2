//! Signing keys that rotate and retire on a schedule: published before they
//! sign, retired once their tokens are gone, made once per period by a fleet.

use std::time::Duration;

use tokend::authority::{EventQuery, KeyPolicy};

use crate::support::helpers::*;

/// Rotate every 60 s, sign 10 s after publishing.
fn every_minute() -> KeyPolicy {
    KeyPolicy::new(Some(60), Some(10), None).unwrap()
}

async fn scheduled(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, Launch { key_policy: every_minute(), ..Launch::default() }).await
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: serde_json::Value =
        reqwest::get(app.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
}

async fn key_events(app: &TestApp, kind: &str) -> Vec<tokend::authority::AuditEvent> {
    let query = EventQuery { client_id: String::new(), types: vec![kind.into()], since: 0 };
    app.authority.audit().list(&query, 0, "").await.unwrap().events
}

async fn a_key_is_published_before_it_signs_and_retired_after_its_tokens(app: TestApp) {
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let first = app.token("svc", &secret, "").await.access_token;
    let first_kid = header(&first)["kid"].as_str().unwrap().to_owned();
    let jwks = reqwest::get(app.url("/oauth/v2/keys")).await.unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=10", "never longer than a new key waits");

    app.authority.clock().advance(61);
    app.authority.maintain().await;
    let published = published_kids(&app).await;
    assert_eq!(published.len(), 2, "the next key is published at once");
    let next_kid = published.iter().find(|kid| **kid != first_kid).unwrap().clone();
    let still = app.token("svc", &secret, "").await.access_token;
    assert_eq!(header(&still)["kid"], first_kid.as_str(), "and does not sign before its delay");
    let rotated = key_events(&app, "key_rotated").await;
    assert_eq!(
        (rotated.len(), rotated[0].actor.as_str(), rotated[0].target.as_str()),
        (1, "tokend", next_kid.as_str())
    );

    app.authority.clock().advance(11);
    app.authority.maintain().await;
    let signed_by_next = app.token("svc", &secret, "").await.access_token;
    assert_eq!(header(&signed_by_next)["kid"], next_kid.as_str(), "it signs once its delay is over");
    let ask = pb_introspect(&first);
    let answer = app.tokens.clone().introspect(with_basic(ask, "svc", &secret)).await.unwrap().into_inner();
    assert!(answer.active, "tokens of the superseded key still verify");

    // A day and the leeway after it was superseded, the first key goes; the
    // jump also makes a third key, while the second stays for its tokens.
    app.authority.clock().advance(KeyPolicy::MIN_RETIRE_AFTER);
    app.authority.maintain().await;
    let published = published_kids(&app).await;
    assert_eq!(published.len(), 2, "{published:?}");
    assert!(!published.contains(&first_kid) && published.contains(&next_kid));
    let retired = key_events(&app, "key_retired").await;
    assert_eq!(
        (retired.len(), retired[0].actor.as_str(), retired[0].target.as_str()),
        (1, "tokend", first_kid.as_str())
    );
    assert!(retired[0].details.contains("\"scheduled\":true"));
}

fn pb_introspect(token: &str) -> tokend::contract::pb::IntrospectRequest {
    tokend::contract::pb::IntrospectRequest {
        token: token.to_owned(),
        token_type_hint: String::new(),
        signed_response: false,
    }
}

#[tokio::test]
async fn sqlite_a_key_is_published_before_it_signs_and_retired_after_its_tokens() {
    a_key_is_published_before_it_signs_and_retired_after_its_tokens(
        scheduled(Backend::Sqlite).await.unwrap(),
    )
    .await;
}

#[tokio::test]
async fn postgres_a_key_is_published_before_it_signs_and_retired_after_its_tokens() {
    if let Some(app) = scheduled(Backend::Postgres).await {
        a_key_is_published_before_it_signs_and_retired_after_its_tokens(app).await;
    }
}

#[tokio::test]
async fn three_instances_on_postgres_rotate_once_per_period_and_all_publish_at_once() {
    let Some(first) = scheduled(Backend::Postgres).await else {
        return;
    };
    let launch = || Launch { key_policy: every_minute(), ..Launch::default() };
    let (second, third) = tokio::join!(first.another_instance(launch()), first.another_instance(launch()));
    let fleet = [&first, &second, &third];
    for period in 1..=3 {
        for app in fleet {
            app.authority.clock().advance(61);
        }
        tokio::join!(first.authority.maintain(), second.authority.maintain(), third.authority.maintain());
        let rotated = key_events(&first, "key_rotated").await;
        assert_eq!(rotated.len(), period, "one key per period for the fleet: {rotated:?}");
    }
    let new_kid = key_events(&first, "key_rotated").await[0].target.clone();
    // The others are told by PostgreSQL, not left to their next upkeep.
    for app in fleet {
        let mut published = published_kids(app).await;
        for _ in 0..20 {
            if published.contains(&new_kid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            published = published_kids(app).await;
        }
        assert!(published.contains(&new_kid), "{} publishes the new key within a second", app.issuer());
    }
}

#[tokio::test]
async fn a_period_no_longer_than_the_activation_delay_is_refused_at_start() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let output = tokend_command(&app)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--key-rotation-period",
            "10s",
            "--key-activation-delay",
            "10s",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("must be longer than --key-activation-delay"), "{said}");
}

#[tokio::test]
async fn keys_list_says_when_the_next_rotation_and_each_retirement_are_due() {
    let app = scheduled(Backend::Sqlite).await.unwrap();
    app.authority.clock().advance(61);
    app.authority.maintain().await;
    let listed = tokend_command(&app).args(["keys", "list", "--json"]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!((keys[0]["state"].as_str(), keys[1]["state"].as_str()), (Some("pending"), Some("signing")));
    let next = listed["next_rotation_time"].as_str().expect("the recorded schedule gives the next rotation");
    assert!(next.ends_with('Z') && next.contains('T'), "RFC 3339: {next}");
    assert!(keys[0]["retire_time"].is_null(), "the newest key is nobody's predecessor");
    assert!(keys[1]["retire_time"].as_str().is_some_and(|at| at.ends_with('Z')), "{listed}");

    let table = tokend_command(&app).args(["keys", "list"]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let row = table.lines().nth(1).expect("a row per key");
    assert_eq!(
        row.split_whitespace().filter(|field| field.ends_with('Z') && field.contains('T')).count(),
        2,
        "created and active from, in RFC 3339: {row}"
    );
}

#[tokio::test]
async fn sqlite_of_many_instances_finding_a_rotation_due_at_once_exactly_one_makes_the_key() {
    one_key_of_many_attempts(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_of_many_instances_finding_a_rotation_due_at_once_exactly_one_makes_the_key() {
    one_key_of_many_attempts(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_instances_started_together_make_one_first_key() {
    one_first_key_of_many(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_instances_started_together_make_one_first_key() {
    one_first_key_of_many(Backend::Postgres).await;
}

/// Sixteen first keys of an algorithm not yet used, offered at once, as
/// instances started together on an empty database would: one is stored.
async fn one_first_key_of_many(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let store = tokend::store::Store::connect(app.database_url()).await.unwrap();
    let now = app.authority.clock().now();
    let made = sixteen_at_once(&store, "PS256", now, now, |store, key| async move {
        store.insert_first_key(&key).await.unwrap()
    })
    .await;
    assert_eq!(made, 1);
    let stored = store.keys().await.unwrap();
    assert_eq!(stored.iter().filter(|key| key.algorithm == "PS256").count(), 1);
}

/// Sixteen conditional inserts at once, as sixteen instances finding the
/// rotation due would make; without PostgreSQL's advisory lock several land.
async fn one_key_of_many_attempts(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let store = tokend::store::Store::connect(app.database_url()).await.unwrap();
    let now = app.authority.clock().now();
    let made = sixteen_at_once(&store, "ES256", now + 1, now + 10, move |store, key| async move {
        store.insert_key_if_none_since(&key, now, &[]).await.unwrap()
    })
    .await;
    assert_eq!(made, 1);
}

/// Offers sixteen keys of `algorithm` at once through `insert`; how many it stored.
async fn sixteen_at_once<F, Fut>(
    store: &tokend::store::Store,
    algorithm: &str,
    created_at: i64,
    active_from: i64,
    insert: F,
) -> usize
where
    F: Fn(tokend::store::Store, tokend::store::KeyRow) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let attempts = (0..16).map(|n| {
        let key = tokend::store::KeyRow {
            kid: format!("candidate-{n}"),
            algorithm: algorithm.into(),
            private_key: "sealed elsewhere".into(),
            created_at,
            active_from,
            public_jwk: None,
        };
        insert(store.clone(), key)
    });
    futures_join_all(attempts).await.into_iter().filter(|made| *made).count()
}
