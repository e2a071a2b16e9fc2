//! A fleet of three instances on one PostgreSQL database: every kind of
//! change made on one (or by the CLI) reaches the others within 100 ms,
//! through LISTEN/NOTIFY rather than the 5 s upkeep. Each test measures the
//! delay from the change's commit to the moment the last other instance acts
//! on it, and asserts the bound. A client's rate limit holds for the fleet
//! as a whole, and is split again as instances leave and join.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use serde_json::Value;
use tokend::{contract::pb, domain::ClientId};

use crate::support::helpers::*;

/// How soon every instance must act on a change another made.
const BOUND: Duration = Duration::from_millis(100);

/// Three instances on one fresh PostgreSQL database; `None` without PostgreSQL.
async fn fleet() -> Option<[TestApp; 3]> {
    let first = TestApp::spawn(Backend::Postgres).await?;
    let second = first.another_instance(Launch::default()).await;
    let third = first.another_instance(Launch::default()).await;
    Some([first, second, third])
}

/// How long after now `seen` holds for every one of `instances`, polled
/// every millisecond; fails the test past a second.
async fn spread<'a, F, Fut>(instances: &'a [TestApp], seen: F) -> Duration
where
    F: Fn(&'a TestApp) -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    for instance in instances {
        while !seen(instance).await {
            assert!(started.elapsed() < Duration::from_secs(1), "an instance never saw the change");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    started.elapsed()
}

fn assert_within_bound(what: &str, delay: Duration) {
    println!("{what}: every instance acted on it after {delay:?}");
    assert!(delay < BOUND, "{what} took {delay:?} to reach every instance");
}

async fn active(instance: &TestApp, token: &str, introspector: &str) -> bool {
    let request = pb::IntrospectRequest { token: token.into(), ..Default::default() };
    let answer = instance.tokens.clone().introspect(with_bearer(request, introspector)).await.unwrap();
    answer.into_inner().active
}

async fn published_kids(instance: &TestApp) -> Vec<String> {
    let jwks: Value = reqwest::get(instance.url("/oauth/v2/keys")).await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn revocations_by_the_client_and_by_an_admin_reach_every_instance_within_100_ms() {
    let Some([first, second, third]) = fleet().await else { return };
    let others = [second, third];
    let secret = first.create_client("orders", "orders.read", "orders.read", &[]).await;
    let admin = first.admin_token().await;
    let inspector_secret =
        first.create_client("inspector", "tokend.introspect", "tokend.introspect", &[]).await;
    let inspector = first.token("inspector", &inspector_secret, "").await.access_token;
    let own = first.token("orders", &secret, "").await.access_token;
    for instance in &others {
        assert!(active(instance, &own, &inspector).await, "active everywhere first");
    }

    // RFC 7009: the client revokes its own token at the first instance.
    let response = reqwest::Client::new()
        .post(first.url("/oauth/v2/revoke"))
        .basic_auth("orders", Some(&secret))
        .form(&[("token", own.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let delay = spread(&others, |instance| async { !active(instance, &own, &inspector).await }).await;
    assert_within_bound("a client's own revocation", delay);

    // An administrator revokes another client's token over gRPC.
    let other = first.token("orders", &secret, "").await.access_token;
    let request = pb::RevokeRequest { token: other.clone(), token_type_hint: String::new() };
    first.tokens.clone().revoke(with_bearer(request, &admin)).await.unwrap();
    let delay = spread(&others, |instance| async { !active(instance, &other, &inspector).await }).await;
    assert_within_bound("an admin's revocation", delay);
}

#[tokio::test]
async fn a_signing_key_rotated_or_retired_by_the_cli_reaches_every_instance_within_100_ms() {
    let Some(fleet) = fleet().await else { return };
    let rotated = tokend_command(&fleet[0])
        .args(["keys", "rotate", "--activate-after", "300", "--json"])
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let kid = serde_json::from_slice::<Value>(&rotated.stdout).unwrap()["kid"].as_str().unwrap().to_owned();
    let delay = spread(&fleet, |instance| async { published_kids(instance).await.contains(&kid) }).await;
    assert_within_bound("a key rotation", delay);

    let retired = tokend_command(&fleet[0]).args(["keys", "retire", "--kid", &kid]).output().unwrap();
    assert!(retired.status.success(), "{}", String::from_utf8_lossy(&retired.stderr));
    let delay = spread(&fleet, |instance| async { !published_kids(instance).await.contains(&kid) }).await;
    assert_within_bound("a key retirement", delay);
}

#[tokio::test]
async fn trusted_issuers_added_or_removed_reach_every_instance_within_100_ms() {
    let Some([first, second, third]) = fleet().await else { return };
    let others = [second, third];
    let admin = first.admin_token().await;
    const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
    let jwks =
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    let trust =
        pb::CreateTrustedIssuerRequest { issuer: ISSUER.into(), jwks: jwks.into(), ..Default::default() };
    first.admin.clone().create_trusted_issuer(with_bearer(trust, &admin)).await.unwrap();
    let trusted = |instance: &TestApp| {
        let registry = instance.registry.clone();
        async move { registry.trusted_issuer(ISSUER).await.unwrap().is_some() }
    };
    let delay = spread(&others, &trusted).await;
    assert_within_bound("a trusted issuer added", delay);

    let remove = pb::DeleteTrustedIssuerRequest { issuer: ISSUER.into() };
    first.admin.clone().delete_trusted_issuer(with_bearer(remove, &admin)).await.unwrap();
    let delay = spread(&others, |instance| {
        let trusted = trusted(instance);
        async move { !trusted.await }
    })
    .await;
    assert_within_bound("a trusted issuer removed", delay);
}

#[tokio::test]
async fn a_clients_rate_limit_changed_on_one_instance_reaches_every_instance_within_100_ms() {
    let Some([first, second, third]) = fleet().await else { return };
    let others = [second, third];
    first.create_client("orders", "orders.read", "orders.read", &[]).await;
    let id = ClientId::parse("orders").unwrap();
    let limit = |instance: &TestApp| {
        let (registry, id) = (instance.registry.clone(), id.clone());
        async move { registry.active_client(&id).await.unwrap().unwrap().rate_limit.map(|limit| limit.per_second) }
    };
    for instance in &others {
        assert_eq!(limit(instance).await, None, "cached everywhere, unlimited");
    }
    let admin = first.admin_token().await;
    let client = pb::Client { client_id: "orders".into(), rate_limit_per_second: 7, ..Default::default() };
    let mask = prost_types::FieldMask { paths: vec!["rate_limit_per_second".into()] };
    let request = pb::UpdateClientRequest { client: Some(client), update_mask: Some(mask) };
    first.admin.clone().update_client(with_bearer(request, &admin)).await.unwrap();
    let delay = spread(&others, |instance| {
        let limit = limit(instance);
        async move { limit.await == Some(7) }
    })
    .await;
    assert_within_bound("a rate limit changed", delay);
}

/// Token requests of `id` made round-robin over `instances`, `count` in
/// all, as fast as they come back: how many were granted.
async fn granted_round_robin(instances: &[&TestApp], id: &str, secret: &str, count: usize) -> usize {
    let mut granted = 0;
    for turn in 0..count {
        let mut tokens = instances[turn % instances.len()].tokens.clone();
        if tokens.issue_token(token_request(id, secret, "")).await.is_ok() {
            granted += 1;
        }
    }
    granted
}

/// Waits until each of `instances` counts `size` instances alive, and says how long that took.
async fn counted(instances: &[&TestApp], size: u32) -> Duration {
    let started = Instant::now();
    for instance in instances {
        while instance.authority.fleet_size() != size {
            assert!(started.elapsed() < Duration::from_secs(1), "the fleet was never counted as {size}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn one_rate_limit_holds_for_the_fleet_and_is_split_again_as_instances_leave_and_join() {
    let Some([first, second, third]) = fleet().await else { return };
    // A burst of 30 and one more a second: a quick round of requests shows the burst.
    let draft = tokend::authority::ClientDraft {
        client_id: "batch".into(),
        allowed_scopes: vec!["reports.read".into()],
        rate_limit_per_second: 1,
        rate_limit_burst: 30,
        ..Default::default()
    };
    let (_, secret) = first.registry.create(draft, &Actor::cli()).await.unwrap();
    let secret = secret.unwrap().expose().to_owned();
    counted(&[&first, &second, &third], 3).await;
    let granted = granted_round_robin(&[&first, &second, &third], "batch", &secret, 60).await;
    assert!((27..=33).contains(&granted), "three instances granted {granted} of a burst of 30");

    third.authority.leave_fleet().await;
    let delay = counted(&[&first, &second], 2).await;
    assert_within_bound("an instance leaving", delay);
    let granted = granted_round_robin(&[&first, &second], "batch", &secret, 60).await;
    assert!((27..=33).contains(&granted), "two instances granted {granted} of a burst of 30");

    let fourth = first.another_instance(Launch::default()).await;
    let delay = counted(&[&first, &second, &fourth], 3).await;
    assert_within_bound("an instance joining", delay);
    let granted = granted_round_robin(&[&first, &second, &fourth], "batch", &secret, 60).await;
    assert!((27..=33).contains(&granted), "three instances again granted {granted} of a burst of 30");
}

#[tokio::test]
async fn an_instance_killed_under_load_loses_nothing_acknowledged_and_the_rest_split_its_share() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let secret = app.create_client("steady", "reports.read", "reports.read", &[]).await;
    let issuer = ["--issuer", app.issuer()];
    let (mut survivor, _, survivor_address) = serve_in_child(&app, issuer);
    let (mut doomed, _, doomed_address) = serve_in_child(&app, issuer);
    counted(&[&app], 3).await;

    // Acknowledged by the instance about to die: a token, then its revocation.
    let mut at_doomed = token_service_at(&doomed_address).await;
    let revoked =
        at_doomed.issue_token(token_request("steady", &secret, "")).await.unwrap().into_inner().access_token;
    let response = reqwest::Client::new()
        .post(format!("http://{doomed_address}/oauth/v2/revoke"))
        .basic_auth("steady", Some(&secret))
        .form(&[("token", revoked.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Warm clients of the survivors keep asking while one instance dies and another starts.
    let mut survivors = [app.tokens.clone(), token_service_at(&survivor_address).await];
    for tokens in &mut survivors {
        tokens.issue_token(token_request("steady", &secret, "")).await.unwrap();
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let load = {
        let (secret, stopped) = (secret.clone(), stopped.clone());
        tokio::spawn(async move {
            let (mut served, mut failed) = (0, Vec::new());
            for turn in 0.. {
                if *stopped.borrow() {
                    break;
                }
                match survivors[turn % 2].issue_token(token_request("steady", &secret, "")).await {
                    Ok(_) => served += 1,
                    Err(status) => failed.push(status),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (served, failed)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let (mut newcomer, _, newcomer_address) = serve_in_child(&app, issuer);
    let killed_at = Instant::now();
    // The newcomer is counted at once, the dead one until its heartbeat is 15 s old.
    for size in [4, 3] {
        while app.authority.fleet_size() != size {
            assert!(killed_at.elapsed() < Duration::from_secs(25), "the fleet never counted {size}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let resplit = killed_at.elapsed();
    stop.send(true).unwrap();
    let (served, failed) = load.await.unwrap();
    println!("the fleet counted three again {resplit:?} after the kill; {served} requests served meanwhile");
    assert!(failed.is_empty(), "warm clients of the survivors saw failures: {failed:?}");
    assert!(served > 100, "the load kept running: {served}");

    let inspector_secret =
        app.create_client("inspector", "tokend.introspect", "tokend.introspect", &[]).await;
    for address in [&survivor_address, &newcomer_address] {
        let mut tokens = token_service_at(address).await;
        let request = pb::IntrospectRequest { token: revoked.clone(), ..Default::default() };
        let seen = tokens
            .introspect(with_basic(request, "inspector", &inspector_secret))
            .await
            .unwrap()
            .into_inner();
        assert!(!seen.active, "the dead instance's acknowledged revocation holds at {address}");
    }
    for child in [&mut survivor, &mut newcomer] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
