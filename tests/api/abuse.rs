//! Floods against the argon2 queue: guesses against one client id, or from
//! one address, get only a fair share of it, and other clients' cold checks
//! still get through.

use tokend::authority::{EventQuery, SigningAlgorithm};
use tonic::{Code, Status};

use crate::support::helpers::*;

/// Sends a wrong secret under the id of the real one (each different, as a
/// guesser would) for each of `targets` (client id and secret) at once; how
/// many were refused as busy and how many as wrong.
async fn guesses(app: &TestApp, targets: Vec<(String, String)>) -> (usize, usize) {
    let calls = targets.into_iter().map(|(id, secret)| {
        let mut tokens = app.tokens.clone();
        let wrong = guess_at(&secret);
        async move { tokens.issue_token(token_request(&id, &wrong, "")).await }
    });
    let refusals: Vec<Status> = futures_join_all(calls)
        .await
        .into_iter()
        .map(|answer| answer.expect_err("a guess is refused"))
        .collect();
    let busy = refusals.iter().filter(|status| status.code() == Code::Unavailable).count();
    let wrong = refusals.iter().filter(|status| status.code() == Code::Unauthenticated).count();
    assert_eq!(busy + wrong, refusals.len(), "refused as busy or as wrong, nothing else: {refusals:?}");
    (busy, wrong)
}

/// Sends `count` guesses at `secret`'s client one after another; how many
/// were refused as busy and how many as wrong.
async fn one_by_one(app: &TestApp, secret: &str, count: usize) -> (usize, usize) {
    let (mut busy, mut wrong) = (0, 0);
    for _ in 0..count {
        let status =
            app.tokens.clone().issue_token(token_request("victim", &guess_at(secret), "")).await.unwrap_err();
        match status.code() {
            Code::Unavailable => busy += 1,
            Code::Unauthenticated => wrong += 1,
            _ => panic!("refused as busy or as wrong, nothing else: {status:?}"),
        }
    }
    (busy, wrong)
}

on_both_stores! {
    async fn failed_guesses_throttle_cold_checks_on_every_instance_but_never_a_cached_secret(app) {
        let secret = app.create_client("victim", "read", "read", &[]).await;
        app.token("victim", &secret, "").await;
        let other = app.second_instance(SigningAlgorithm::Es256).await;

        // The default limit: 50 failed checks of one client id in five minutes.
        for _ in 0..50 {
            let guess = guess_at(&secret);
            let status = app.tokens.clone().issue_token(token_request("victim", &guess, "")).await.unwrap_err();
            assert_error(&status, Code::Unauthenticated, "invalid_client");
        }
        // Past it only a trickle of cold checks runs: one a second from where
        // the client succeeded lately (this address), so of five quick guesses
        // most are refused unchecked (two at most run, should a second turn).
        let checks = app.authority.secrets().argon2_checks();
        let (busy, wrong) = one_by_one(&app, &secret, 5).await;
        assert!(busy >= 3, "{busy} busy, {wrong} wrong");
        assert_eq!(app.authority.secrets().argon2_checks() - checks, wrong as u64);
        app.token("victim", &secret, "").await;

        // The other instance learns the count at its upkeep; its trickle lets
        // the right secret in, and refuses most guesses after it unchecked.
        app.authority.maintain().await;
        other.authority.maintain().await;
        other.token("victim", &secret, "").await;
        let checks = other.authority.secrets().argon2_checks();
        let (busy, other_wrong) = one_by_one(&other, &secret, 5).await;
        assert!(busy >= 3, "{busy} busy, {other_wrong} wrong");
        assert_eq!(other.authority.secrets().argon2_checks() - checks, other_wrong as u64, "a throttled check runs no argon2");
        let failed_checks = 50 + wrong + other_wrong;
        let bystander = app.create_client("bystander", "read", "read", &[]).await;
        other.token("bystander", &bystander, "").await;
        let samples = crate::support::scrape::scrape(&app.url("/metrics")).await;
        assert_eq!(crate::support::scrape::get(&samples, r#"tokend_throttling_started_total{kind="client"}"#), 1.0);
        assert_eq!(crate::support::scrape::get(&samples, r#"tokend_throttled{kind="client"}"#), 1.0);

        // Once the window has passed, it lifts by itself. The instances keep
        // their upkeep (and so their heartbeats) every 5 s meanwhile.
        for _ in 0..72 {
            for instance in [&app, &other] {
                instance.authority.clock().advance(5);
                instance.authority.maintain().await;
            }
        }
        other.token("victim", &secret, "").await;
        let samples = crate::support::scrape::scrape(&app.url("/metrics")).await;
        assert_eq!(crate::support::scrape::get(&samples, r#"tokend_throttling_ended_total{kind="client"}"#), 1.0);
        assert_eq!(crate::support::scrape::get(&samples, r#"tokend_throttled{kind="client"}"#), 0.0);

        // Both instances decided it; one wrote each start and end for the fleet.
        let throttling = EventQuery {
            client_id: "victim".into(),
            types: vec!["throttling_started".into(), "throttling_ended".into()],
            since: 0,
        };
        let events = app.authority.audit().list(&throttling, 0, "").await.unwrap().events;
        let kinds: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
        assert_eq!(kinds, ["throttling_ended", "throttling_started"]);
        assert!(events.iter().all(|event| event.actor == "tokend" && event.details.contains("\"kind\":\"client\"")));
        // And the failures themselves, an event for each minute they fell in.
        let failed = EventQuery { client_id: "victim".into(), types: vec!["client_authentication_failed".into()], since: 0 };
        let events = app.authority.audit().list(&failed, 0, "").await.unwrap().events;
        let count = |details: &str| serde_json::from_str::<serde_json::Value>(details).unwrap()["count"].as_i64().unwrap();
        assert!((1..=3).contains(&events.len()), "{events:?}");
        assert_eq!(events.iter().map(|event| count(&event.details)).sum::<i64>(), failed_checks as i64);
    }

    async fn a_public_client_id_is_not_enough_to_lock_its_client_out(app) {
        // The attack: a guess every 4 s from eight rotating addresses, at
        // either of two instances; the client calls every 90 s from its own
        // address, retrying UNAVAILABLE once a second for up to 10 s, first
        // at one instance, then (as after a restart) at the other.
        let secret = app.create_client("victim", "read", "read", &[]).await;
        let other = app.second_instance(SigningAlgorithm::Es256).await;
        let mut attackers = Vec::new();
        for last in 2..10 {
            for instance in [&app, &other] {
                let endpoint = tonic::transport::Channel::from_shared(instance.issuer().to_owned()).unwrap();
                let channel = endpoint.local_address(Some([127, 0, 0, last].into())).connect().await.unwrap();
                attackers.push(tokend::contract::pb::token_service_client::TokenServiceClient::new(channel));
            }
        }
        let (mut calls, mut served, mut retrying) = (0, 0, None::<u32>);
        for second in 0..1440u32 {
            if second % 4 == 0 {
                let attacker = &mut attackers[(second / 4) as usize % 16];
                let guess = token_request("victim", &guess_at(&secret), "");
                let status = attacker.issue_token(guess).await.unwrap_err();
                assert!(matches!(status.code(), Code::Unauthenticated | Code::Unavailable), "{status:?}");
            }
            if second % 90 == 0 {
                calls += 1;
                retrying = Some(0);
            }
            if let Some(tries) = retrying {
                let instance = if second < 720 { &app } else { &other };
                match instance.tokens.clone().issue_token(token_request("victim", &secret, "")).await {
                    Ok(_) => (served, retrying) = (served + 1, None),
                    Err(status) if status.code() == Code::Unavailable && tries < 10 => retrying = Some(tries + 1),
                    Err(status) => {
                        eprintln!("call {calls} failed: {status:?}");
                        retrying = None;
                    }
                }
            }
            if second % 5 == 0 {
                app.authority.maintain().await;
                other.authority.maintain().await;
            }
            app.authority.clock().advance(1);
            other.authority.clock().advance(1);
        }
        assert!(served * 100 >= calls * 95, "{served} of {calls} calls served within their retries");
        let mut attacker_checks = 0.0;
        for instance in [&app, &other] {
            let samples = crate::support::scrape::scrape(&instance.url("/metrics")).await;
            attacker_checks += crate::support::scrape::get(&samples, r#"tokend_credential_checks_total{result="argon2_failed"}"#);
        }
        // At most the limit of 50, then the trickle: one check in 5 s per
        // instance from addresses the client never succeeded from.
        let bound = 50.0 + 2.0 * 1440.0 / 5.0;
        assert!(attacker_checks <= bound, "{attacker_checks} argon2 checks spent on 360 guesses (bound {bound})");
    }
}

#[tokio::test]
async fn a_flood_against_one_client_gets_two_checks_at_a_time_and_others_get_through() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let victim = app.create_client("victim", "read", "read", &[]).await;
    let bystander = app.create_client("bystander", "read", "read", &[]).await;
    let before = app.authority.secrets().argon2_checks();

    let flood = guesses(&app, vec![("victim".to_owned(), victim); 40]);
    let mut tokens = app.tokens.clone();
    let cold = tokens.issue_token(token_request("bystander", &bystander, ""));
    let ((busy, wrong), cold) = tokio::join!(flood, cold);
    cold.expect("a cold client is not held up by a flood against another");
    assert!(
        busy >= 20,
        "most of 40 simultaneous guesses are refused as busy, not queued: {busy} busy, {wrong} wrong"
    );
    assert!(
        app.authority.secrets().argon2_checks() - before <= 21,
        "the flood ran at most a few argon2 checks: {}",
        app.authority.secrets().argon2_checks() - before
    );
    let status = app.tokens.clone().issue_token(token_request("victim", "tokend_", "")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");
}

#[tokio::test]
async fn guesses_from_one_address_get_a_quarter_of_the_queue() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut targets = Vec::new();
    for id in (0..48).map(|i| format!("svc-{i:02}")) {
        let secret = app.create_client(&id, "read", "read", &[]).await;
        targets.push((id, secret));
    }
    let (busy, wrong) = guesses(&app, targets).await;
    assert!(busy >= 16, "48 guesses for 48 clients from one address: {busy} busy, {wrong} wrong");
}

/// Registers `id` through ClientAdmin with a rate limit; its secret.
async fn rate_limited_client(app: &TestApp, id: &str, per_second: u32, burst: u32) -> String {
    let admin = app.admin_token().await;
    let request = tokend::contract::pb::CreateClientRequest {
        client_id: id.into(),
        allowed_scopes: vec!["read".into()],
        default_scopes: vec!["read".into()],
        rate_limit_per_second: per_second,
        rate_limit_burst: burst,
        ..Default::default()
    };
    let created = app.admin.clone().create_client(with_bearer(request, &admin)).await.unwrap().into_inner();
    assert_eq!(created.client.unwrap().rate_limit_per_second, per_second);
    created.client_secret
}

#[tokio::test]
async fn a_client_over_its_rate_limit_is_told_when_to_come_back_in_every_protocol() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = rate_limited_client(&app, "metered", 2, 2).await;
    let unlimited = app.create_client("free", "read", "read", &[]).await;
    for _ in 0..2 {
        app.token("metered", &secret, "").await;
    }
    let status = app.tokens.clone().issue_token(token_request("metered", &secret, "")).await.unwrap_err();
    assert_error(&status, Code::ResourceExhausted, "too_many_requests");
    let delay = tonic_types::StatusExt::get_error_details(&status)
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a RetryInfo with the delay");
    assert!(delay > std::time::Duration::ZERO && delay <= std::time::Duration::from_millis(500), "{delay:?}");

    let http = reqwest::Client::new();
    let answer = http
        .post(app.url("/oauth/v2/token"))
        .basic_auth("metered", Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    assert_eq!(answer.headers()["retry-after"], "1");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    let answer = http
        .post(app.url("/token"))
        .json(&serde_json::json!({"grantType": "client_credentials", "clientId": "metered", "clientSecret": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        (body["isSuccess"].clone(), body["error"]["code"].clone()),
        (false.into(), "too_many_requests".into())
    );

    for _ in 0..5 {
        app.token("free", &unlimited, "").await;
    }
    app.authority.clock().advance(1);
    app.token("metered", &secret, "").await;
}

#[tokio::test]
async fn a_secret_past_its_max_age_is_refused_like_a_wrong_one() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let admin = app.admin_token().await;
    let request = tokend::contract::pb::CreateClientRequest {
        client_id: "short-lived".into(),
        allowed_scopes: vec!["read".into()],
        secret_max_age_seconds: 3600,
        ..Default::default()
    };
    let created = app.admin.clone().create_client(with_bearer(request, &admin)).await.unwrap().into_inner();
    let client = created.client.unwrap();
    assert_eq!(client.secret_max_age_seconds, 3600);
    let secret_info = &client.secrets[0];
    let expires = secret_info.expire_time.as_ref().expect("the secret expires").seconds;
    assert_eq!(expires - secret_info.create_time.as_ref().unwrap().seconds, 3600);

    app.token("short-lived", &created.client_secret, "").await;
    app.authority.clock().advance(3600);
    let status = app
        .tokens
        .clone()
        .issue_token(token_request("short-lived", &created.client_secret, ""))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");
    assert_eq!(status.message(), "client authentication failed");
}
