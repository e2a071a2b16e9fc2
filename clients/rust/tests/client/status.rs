//! The verifier reads Token Status Lists: a revoked token, and every token of
//! a disabled client, is refused within the list's `ttl` without a single
//! introspection, at one list fetch per `ttl`; a tampered list is not
//! believed; a list that cannot be fetched serves until its `exp`, then its
//! tokens are refused (or, if the builder says so, accepted).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::Uri, response::IntoResponse};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tokend::authority::{Actor, ClientChanges};
use tokend_client::{
    Verifier, VerifyError,
    pb::{IssueTokenRequest, RevokeRequest, token_service_client::TokenServiceClient},
};
use tokend_common::status_list::{LIST_CAPACITY, StatusBits};

use crate::server::{Server, server_with_status_lists};

/// A fresh token of "orders-worker" (not a cached one).
async fn issue(server: &Server) -> String {
    let request = IssueTokenRequest {
        grant_type: "client_credentials".into(),
        client_id: "orders-worker".into(),
        client_secret: server.worker_secret.clone(),
        ..Default::default()
    };
    let client = TokenServiceClient::new(server.channel.clone());
    client.clone().issue_token(request).await.unwrap().into_inner().access_token
}

async fn revoke(server: &Server, token: &str) {
    let mut request =
        tonic::Request::new(RevokeRequest { token: token.into(), token_type_hint: String::new() });
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("orders-worker:{}", server.worker_secret));
    request.metadata_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
    TokenServiceClient::new(server.channel.clone()).revoke(request).await.unwrap();
}

/// A count from the server's `/metrics`, summed over every series whose
/// name and labels start with `series`.
async fn metric(server: &Server, series: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.address)).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with(series))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Lists fetched from the server over HTTP.
async fn list_fetches(server: &Server) -> f64 {
    metric(server, r#"tokend_request_duration_seconds_count{operation="/oauth/v2/status/{list}""#).await
}

/// Verifies `token` until `refused` says yes, for at most `within`; the time it took.
async fn refused_within(verifier: &Verifier, token: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        match verifier.verify(token).await {
            Err(VerifyError::InvalidToken("token revoked")) => return started.elapsed(),
            Ok(_) => assert!(started.elapsed() < within, "still accepted after {within:?}"),
            Err(other) => panic!("refused for another reason: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_and_a_disabled_clients_tokens_are_refused_within_one_ttl_without_introspection() {
    let server = server_with_status_lists(2, None).await;
    let verifier = server.verifier().await;
    let [revoked, kept] = [issue(&server).await, issue(&server).await];
    for token in [&revoked, &kept] {
        verifier.verify(token).await.expect("valid at first");
    }
    revoke(&server, &revoked).await;
    let took = refused_within(&verifier, &revoked, Duration::from_secs(4)).await;
    assert!(took <= Duration::from_millis(2500), "refused {took:?} after revocation; the ttl is 2 s");
    verifier.verify(&kept).await.expect("the other token stays valid");

    let disable = ClientChanges { active: Some(false), ..Default::default() };
    server.authority.registry().update("orders-worker", disable, &Actor::cli()).await.unwrap();
    // The server builds its lists again within min(5 s, ttl); the verifier fetches once a ttl.
    refused_within(&verifier, &kept, Duration::from_secs(6)).await;
    assert_eq!(metric(&server, "tokend_introspections_total").await, 0.0, "no introspection at all");
    assert!(verifier.status_list_counts().fetched >= 2);
}

#[tokio::test]
async fn a_busy_verifier_fetches_each_list_once_a_ttl() {
    let server = server_with_status_lists(60, None).await;
    let verifier = server.verifier().await;
    let mut tokens = Vec::new();
    for _ in 0..8 {
        tokens.push(issue(&server).await);
    }
    let verifications = (0..4000).map(|n| {
        let (verifier, token) = (verifier.clone(), tokens[n % tokens.len()].clone());
        tokio::spawn(async move { verifier.verify(&token).await.map(drop) })
    });
    for verification in verifications.collect::<Vec<_>>() {
        verification.await.unwrap().expect("valid");
    }
    assert_eq!(verifier.status_list_counts().fetched, 1);
    assert_eq!(list_fetches(&server).await, 1.0, "the server saw one list fetch");
}

#[tokio::test]
async fn over_a_channel_the_lists_come_through_get_status_list() {
    let server = server_with_status_lists(1, None).await;
    let verifier = Verifier::builder(&server.issuer, "orders")
        .status_lists_over(server.channel.clone())
        .discover()
        .await
        .unwrap();
    let token = issue(&server).await;
    verifier.verify(&token).await.expect("valid");
    revoke(&server, &token).await;
    refused_within(&verifier, &token, Duration::from_secs(3)).await;
    assert_eq!(list_fetches(&server).await, 0.0, "nothing over HTTP");
    assert!(
        metric(&server, r#"tokend_request_duration_seconds_count{operation="GetStatusList""#).await >= 2.0
    );
}

/// What the proxy in front of tokend does to the status lists it passes.
const PASS: u8 = 0;
const TAMPER: u8 = 1;
const REFUSE: u8 = 2;

/// An HTTP proxy in front of tokend's HTTP endpoints that can tamper with
/// the status lists it passes, or refuse them.
struct Proxy {
    url: String,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    /// Bound now (so tokend can be told its URL as its issuer), forwarding
    /// once `start` names the server.
    async fn bind() -> (Proxy, tokio::net::TcpListener) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (Proxy { url, mode: Arc::default() }, listener)
    }

    fn start(&self, listener: tokio::net::TcpListener, upstream: String) {
        let state = (upstream, self.mode.clone());
        let app = Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

async fn forward(State((upstream, mode)): State<(String, Arc<AtomicU8>)>, uri: Uri) -> impl IntoResponse {
    let is_list = uri.path().starts_with("/oauth/v2/status/");
    if is_list && mode.load(Ordering::SeqCst) == REFUSE {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    let answer = reqwest::get(format!("{upstream}{uri}")).await.unwrap();
    let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let mut body = answer.text().await.unwrap();
    if is_list && mode.load(Ordering::SeqCst) == TAMPER {
        // The same list, signature and all, saying every token is valid.
        let mut parts: Vec<String> = body.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["status_list"]["lst"] = StatusBits::new(LIST_CAPACITY).encode().into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        body = parts.join(".");
    }
    (status, body)
}

#[tokio::test]
async fn a_tampered_list_is_not_believed() {
    let (proxy, listener) = Proxy::bind().await;
    let server = server_with_status_lists(60, Some(proxy.url.clone())).await;
    proxy.start(listener, server.address.clone());
    let token = issue(&server).await;
    revoke(&server, &token).await;
    proxy.set(TAMPER);
    let verifier = Verifier::builder(&proxy.url, "orders").discover().await.unwrap();
    let refused = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(refused, VerifyError::Unavailable(_)), "{refused:?}");
    assert_eq!(verifier.status_list_counts().failed, 1);
    assert_eq!(verifier.status_list_counts().refused_unknown, 1);
}

#[tokio::test]
async fn an_unreachable_list_serves_until_its_exp_then_fails_closed_or_open_as_chosen() {
    let (proxy, listener) = Proxy::bind().await;
    // ttl 1 s: each list token is valid for 10 s.
    let server = server_with_status_lists(1, Some(proxy.url.clone())).await;
    proxy.start(listener, server.address.clone());
    let builder = || {
        Verifier::builder(&proxy.url, "orders")
            .leeway(Duration::ZERO)
            .refetch_interval(Duration::from_millis(200))
    };
    let closed = builder().discover().await.unwrap();
    let open = builder().accept_tokens_when_status_lists_are_unreachable().discover().await.unwrap();
    let token = issue(&server).await;
    for verifier in [&closed, &open] {
        verifier.verify(&token).await.expect("valid");
    }
    proxy.set(REFUSE);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for verifier in [&closed, &open] {
        verifier.verify(&token).await.expect("the last good copy serves until its exp");
        assert!(verifier.status_list_counts().failed >= 1);
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let refused = closed.verify(&token).await.unwrap_err();
    assert!(matches!(refused, VerifyError::Unavailable(_)), "fail closed: {refused:?}");
    assert_eq!(closed.status_list_counts().refused_unknown, 1);
    open.verify(&token).await.expect("fail open, as chosen");
    assert_eq!(open.status_list_counts().accepted_unknown, 1);

    proxy.set(PASS);
    tokio::time::sleep(Duration::from_millis(300)).await;
    closed.verify(&token).await.expect("valid again once the list can be fetched");
}
