//! `GET /metrics`, scraped and parsed as Prometheus would: counters move by
//! exactly what the test did, labels carry nothing a caller made up, and
//! `--metrics-listen` moves the endpoint off the main port.

use tokend::contract::pb;
use tonic::Code;

use crate::support::{
    helpers::*,
    scrape::{get, scrape},
};

on_both_stores! {
    async fn each_protocol_counts_its_own_tokens(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let http = reqwest::Client::new();
        let body = serde_json::json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": secret});
        let connect = http.post(app.url("/tokend.v1.TokenService/IssueToken")).json(&body).send().await.unwrap();
        assert_eq!(connect.status(), 200);
        let token_idp = http.post(app.url("/token")).json(&body).send().await.unwrap();
        assert_eq!(token_idp.status(), 200);
        let wrong = serde_json::json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": "wrong"});
        assert_eq!(http.post(app.url("/tokend.v1.TokenService/IssueToken")).json(&wrong).send().await.unwrap().status(), 401);
        app.token("svc", &secret, "").await;

        let samples = scrape(&app.url("/metrics")).await;
        for protocol in ["grpc", "connect", "token_idp"] {
            let issued = format!(r#"tokend_tokens_issued_total{{client_id="svc",protocol="{protocol}",token_type="access_token"}}"#);
            assert_eq!(get(&samples, &issued), 1.0, "{protocol}");
        }
        assert_eq!(get(&samples, r#"tokend_token_requests_failed_total{protocol="connect",reason="invalid_client"}"#), 1.0);
    }

    async fn counters_move_by_exactly_what_callers_did(app) {
        let secret = app.create_client("svc", "read", "read", &[]).await;
        let token = app.token("svc", &secret, "").await.access_token;
        app.token("svc", &secret, "").await;
        app.token("svc", &secret, "").await;
        let http = reqwest::Client::new();
        for _ in 0..2 {
            let response = http.post(app.url("/oauth/v2/token")).basic_auth("svc", Some(&secret))
                .form(&[("grant_type", "client_credentials")]).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
        // A wrong secret under svc's secret id (an argon2 check that fails),
        // another client's secret (no argon2: it is not svc's), a secret whose
        // checksum is wrong (refused by its shape), and an id no client has.
        let others = app.create_client("other", "read", "", &[]).await;
        let last = if secret.ends_with('x') { 'y' } else { 'x' };
        let malformed = format!("{}{last}", &secret[..secret.len() - 1]);
        let guess = guess_at(&secret);
        for (id, presented) in [("svc", &guess), ("svc", &others), ("svc", &malformed), ("attacker-made-this-up", &malformed)] {
            let status = app.tokens.clone().issue_token(token_request(id, presented, "")).await.unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated);
        }
        for token in [token.as_str(), "not-a-token"] {
            let request = pb::IntrospectRequest { token: token.into(), ..Default::default() };
            app.tokens.clone().introspect(with_basic(request, "svc", &secret)).await.unwrap();
        }

        let samples = scrape(&app.url("/metrics")).await;
        assert_eq!(get(&samples, r#"tokend_tokens_issued_total{client_id="svc",protocol="grpc",token_type="access_token"}"#), 3.0);
        assert_eq!(get(&samples, r#"tokend_tokens_issued_total{client_id="svc",protocol="http",token_type="access_token"}"#), 2.0);
        assert_eq!(get(&samples, r#"tokend_token_requests_failed_total{protocol="grpc",reason="invalid_client"}"#), 4.0);
        assert_eq!(get(&samples, r#"tokend_introspections_total{active="true"}"#), 1.0);
        assert_eq!(get(&samples, r#"tokend_introspections_total{active="false"}"#), 1.0);
        assert_eq!(get(&samples, r#"tokend_request_duration_seconds_count{operation="IssueToken",outcome="OK"}"#), 3.0);
        assert_eq!(get(&samples, r#"tokend_request_duration_seconds_count{operation="IssueToken",outcome="Unauthenticated"}"#), 4.0);
        assert_eq!(get(&samples, r#"tokend_request_duration_seconds_count{operation="/oauth/v2/token",outcome="200"}"#), 2.0);
        assert_eq!(get(&samples, r#"tokend_credential_checks_total{result="argon2_ok"}"#), 1.0);
        assert_eq!(get(&samples, r#"tokend_credential_checks_total{result="argon2_failed"}"#), 1.0);
        assert_eq!(get(&samples, r#"tokend_credential_checks_total{result="malformed"}"#), 2.0);
        assert_eq!(get(&samples, r#"tokend_credential_checks_total{result="unknown"}"#), 1.0);
        assert_eq!(get(&samples, r#"tokend_credential_checks_total{result="cache_hit"}"#), 6.0);
        assert_eq!(get(&samples, r#"tokend_clients{state="registered"}"#), 2.0);
        assert_eq!(get(&samples, r#"tokend_clients{state="active"}"#), 2.0);
        assert_eq!(get(&samples, &format!(r#"tokend_build_info{{version="{}"}}"#, env!("CARGO_PKG_VERSION"))), 1.0);
        let kid = app.authority.keys().signing.kid.clone();
        assert!(get(&samples, &format!(r#"tokend_signing_key_age_seconds{{kid="{kid}"}}"#)) >= 0.0);
        assert!(samples.contains_key("tokend_argon2_queue_depth{}"));
        assert!(!samples.keys().any(|key| key.contains("attacker")), "an unknown client id is never a label");
        assert!(!samples.keys().any(|key| key.contains(&secret)), "nor a secret");
    }

    async fn the_soonest_loss_of_a_clients_last_secret_is_a_gauge(app) {
        let samples = scrape(&app.url("/metrics")).await;
        assert!(!samples.keys().any(|key| key.starts_with("tokend_secret_soonest_expiry")), "no secret expires yet");
        app.create_client("forever", "read", "", &[]).await;
        let draft = |id: &str, max_age: i64| tokend::authority::ClientDraft {
            client_id: id.into(),
            secret_max_age_seconds: max_age,
            ..Default::default()
        };
        let (soon, _) = app.registry.create(draft("soon", 7200), &Actor::cli()).await.unwrap();
        app.registry.create(draft("later", 14400), &Actor::cli()).await.unwrap();
        let samples = scrape(&app.url("/metrics")).await;
        let expected = soon.secrets[0].expires_at.unwrap() as f64;
        assert_eq!(get(&samples, "tokend_secret_soonest_expiry_timestamp_seconds{}"), expected);
    }

    async fn a_path_no_one_serves_is_not_a_label(app) {
        reqwest::get(app.url("/made/up/path")).await.unwrap();
        let samples = scrape(&app.url("/metrics")).await;
        assert_eq!(get(&samples, r#"tokend_request_duration_seconds_count{operation="unmatched",outcome="404"}"#), 1.0);
        assert!(!samples.keys().any(|key| key.contains("made/up")));
    }
}

/// With `--metrics-listen`, metrics answer on their own address and not on the main one.
#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (mut child, mut lines, main) = serve_in_child(&app, ["--metrics-listen", "127.0.0.1:0"]);
    let metrics =
        lines.next().unwrap().unwrap().trim_start_matches("tokend metrics listening on ").to_owned();
    let samples = scrape(&format!("http://{metrics}/metrics")).await;
    assert_eq!(get(&samples, r#"tokend_clients{state="registered"}"#), 0.0);
    let on_main = reqwest::get(format!("http://{main}/metrics")).await.unwrap();
    assert_eq!(on_main.status(), 404, "not on the main port");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Every metric the Grafana dashboard in `docs/` queries is one tokend exports.
#[tokio::test]
async fn the_dashboard_queries_only_metrics_that_exist() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = expiring_client(&app, "svc").await;
    let token = app.token("svc", &secret, "").await.access_token;
    // One of each labelled series: a family shows once it has one.
    app.tokens.clone().issue_token(token_request("svc", "wrong", "")).await.unwrap_err();
    let request = pb::IntrospectRequest { token, ..Default::default() };
    app.tokens.clone().introspect(with_basic(request, "svc", &secret)).await.unwrap();
    let text = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/grafana/tokend-dashboard.json")).unwrap();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            queried += assert_exported(&text, target["expr"].as_str().unwrap(), "the dashboard");
        }
    }
    assert!(queried >= 8, "the dashboard queries {queried} metrics");
}

/// Every metric the Prometheus alerting rules in `docs/` query is one tokend
/// exports, those that appear only with a setting or a state included: a
/// server with the issuance log on, a client whose secret expires, a failure.
#[tokio::test]
async fn the_alert_rules_query_only_metrics_that_exist() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = expiring_client(&app, "svc").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("issued.jsonl");
    let (mut child, _, address) =
        serve_in_child(&app, [std::ffi::OsStr::new("--audit-issuance"), log.as_os_str()]);
    let mut tokens = token_service_at(&address).await;
    tokens.issue_token(token_request("svc", &secret, "")).await.unwrap();
    tokens.issue_token(token_request("svc", "wrong", "")).await.unwrap_err();
    let text = reqwest::get(format!("http://{address}/metrics")).await.unwrap().text().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let rules = include_str!("../../docs/prometheus/tokend-alerts.yml");
    let queried = assert_exported(&text, rules, "the alert rules");
    assert!(queried >= 10, "the alert rules query {queried} metrics");
}

/// A client whose secret expires in two hours (so the soonest-expiry gauge
/// exists), allowed `read` by default; its secret.
async fn expiring_client(app: &TestApp, id: &str) -> String {
    let draft = tokend::authority::ClientDraft {
        client_id: id.into(),
        allowed_scopes: vec!["read".into()],
        default_scopes: vec!["read".into()],
        secret_max_age_seconds: 7200,
        ..Default::default()
    };
    let (_, secret) = app.registry.create(draft, &Actor::cli()).await.unwrap();
    secret.unwrap().expose().to_owned()
}

/// Asserts that every tokend metric `query` names is in the scraped `text`;
/// how many it names.
fn assert_exported(text: &str, query: &str, source: &str) -> usize {
    let names = regex::Regex::new(r"tokend_[a-z0-9_]+").unwrap();
    names
        .find_iter(query)
        .inspect(|name| {
            let family = name.as_str().trim_end_matches("_bucket").trim_end_matches("_total");
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{source} query {family}, which is not exported"
            );
        })
        .count()
}
