//! TLS on the listeners: secret clients over gRPC and HTTPS, a client
//! certificate accepted at the handshake, a certificate renewed on disk
//! served without a restart, and a broken renewal that keeps serving.

use std::{sync::Arc, time::Duration};

use oauth2::{AuthType, ClientId, ClientSecret, TokenResponse, TokenUrl, basic::BasicClient};
use rcgen::{CertificateParams, KeyPair};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::support::helpers::*;

/// The certificate the server presents to a new connection.
async fn presented_certificate(app: &TestApp, ca_pem: &str) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls(ca_pem, None)));
    let stream = TcpStream::connect(app.issuer().trim_start_matches("https://")).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, stream).await.expect("the TLS handshake succeeds");
    tls.get_ref().1.peer_certificates().expect("the server presents a certificate")[0].to_vec()
}

on_both_stores! {
    async fn secret_clients_get_tokens_over_grpc_and_https(backend: Backend) {
        let pki = TestPki::new();
        pki.write_server_certificate("server");
        let Some(app) = TestApp::spawn_tls(backend, &pki, "server").await else {
            return;
        };
        assert!(app.issuer().starts_with("https://127.0.0.1:"), "{}", app.issuer());
        let secret = app.create_client("orders-worker", "read", "read", &[]).await;
        assert_eq!(app.token("orders-worker", &secret, "").await.scope, "read", "gRPC over TLS");

        let https =
            reqwest::Client::builder().use_preconfigured_tls(client_tls(&pki.ca_pem(), None)).build().unwrap();
        let token = BasicClient::new(ClientId::new("orders-worker".into()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_token_uri(TokenUrl::new(app.url("/oauth/v2/token")).unwrap())
            .set_auth_type(AuthType::BasicAuth)
            .exchange_client_credentials()
            .request_async(&https)
            .await
            .expect("the oauth2 crate gets a token over https");
        assert_eq!(claims(token.access_token().secret())["iss"], app.issuer());

        let plaintext = app.url("/oauth/v2/keys").replace("https://", "http://");
        assert!(reqwest::get(plaintext).await.is_err(), "the port speaks TLS only");
    }
}

#[tokio::test]
async fn a_client_certificate_is_taken_at_the_handshake_without_being_required() {
    let pki = TestPki::new();
    pki.write_server_certificate("server");
    let app = TestApp::spawn_tls(Backend::Sqlite, &pki, "server").await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    let key = KeyPair::generate().unwrap();
    let self_signed =
        CertificateParams::new(vec!["svc.example".to_owned()]).unwrap().self_signed(&key).unwrap();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pki.ca_pem()))
        .domain_name("localhost")
        .identity(Identity::from_pem(self_signed.pem(), key.serialize_pem()));
    let channel = Channel::from_shared(app.issuer().to_owned())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut tokens = tokend::contract::pb::token_service_client::TokenServiceClient::new(channel);
    let issued =
        tokens.issue_token(token_request("svc", &secret, "")).await.expect("a token over mutual TLS");
    assert_eq!(issued.into_inner().scope, "read");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_broken_one_is_not() {
    let pki = TestPki::new();
    let first = pki.write_server_certificate("server");
    let app = TestApp::spawn_tls(Backend::Sqlite, &pki, "server").await.unwrap();
    let secret = app.create_client("svc", "read", "read", &[]).await;
    app.token("svc", &secret, "").await;
    assert_eq!(presented_certificate(&app, &pki.ca_pem()).await, first);

    let renewed = pki.write_server_certificate("server");
    let waiting = std::time::Instant::now();
    while presented_certificate(&app, &pki.ca_pem()).await != renewed {
        assert!(waiting.elapsed() < Duration::from_secs(10), "the renewed certificate was not picked up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.token("svc", &secret, "").await;

    // Past one check of the files (every 2 s) each: an expired certificate,
    // one not yet valid and a broken file are all refused.
    for (years, what) in [((2020, 2021), "expired"), ((2090, 2091), "not yet valid")] {
        pki.write_server_certificate_valid("server", Some(years));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            presented_certificate(&app, &pki.ca_pem()).await,
            renewed,
            "{what}: still the last good one"
        );
    }
    std::fs::write(&pki.files("server").cert, "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(presented_certificate(&app, &pki.ca_pem()).await, renewed, "still the last good certificate");
    let mended = pki.write_server_certificate("server");
    let waiting = std::time::Instant::now();
    while presented_certificate(&app, &pki.ca_pem()).await != mended {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "a good certificate after a broken one was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
