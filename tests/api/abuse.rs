//! Floods against the argon2 queue: guesses against one client id, or from
//! one address, get only a fair share of it, and other clients' cold checks
//! still get through.

use tonic::{Code, Status};

use crate::helpers::*;

/// Sends a wrong secret (each one different, as a guesser would) for each of
/// `client_ids` at once; how many were refused as busy and how many as wrong.
async fn guesses(app: &TestApp, client_ids: Vec<String>) -> (usize, usize) {
    let calls = client_ids.into_iter().map(|id| {
        let mut tokens = app.tokens.clone();
        let wrong = tokend::domain::ClientSecret::generate().1.expose().to_owned();
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

#[tokio::test]
async fn a_flood_against_one_client_gets_two_checks_at_a_time_and_others_get_through() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_client("victim", "read", "read", &[]).await;
    let bystander = app.create_client("bystander", "read", "read", &[]).await;
    let before = app.registry.argon2_checks();

    let flood = guesses(&app, vec!["victim".to_owned(); 40]);
    let mut tokens = app.tokens.clone();
    let cold = tokens.issue_token(token_request("bystander", &bystander, ""));
    let ((busy, wrong), cold) = tokio::join!(flood, cold);
    cold.expect("a cold client is not held up by a flood against another");
    assert!(
        busy >= 20,
        "most of 40 simultaneous guesses are refused as busy, not queued: {busy} busy, {wrong} wrong"
    );
    assert!(
        app.registry.argon2_checks() - before <= 21,
        "the flood ran at most a few argon2 checks: {}",
        app.registry.argon2_checks() - before
    );
    let status = app.tokens.clone().issue_token(token_request("victim", "tokend_", "")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "invalid_client");
}

#[tokio::test]
async fn guesses_from_one_address_get_a_quarter_of_the_queue() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let ids: Vec<String> = (0..48).map(|i| format!("svc-{i:02}")).collect();
    for id in &ids {
        app.create_client(id, "read", "read", &[]).await;
    }
    let (busy, wrong) = guesses(&app, ids).await;
    assert!(busy >= 16, "48 guesses for 48 clients from one address: {busy} busy, {wrong} wrong");
}
