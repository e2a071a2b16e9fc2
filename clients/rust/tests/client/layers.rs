//! BearerLayer and VerifyLayer around real services: a tonic health service
//! for gRPC, an axum route for HTTP.

use axum::{Extension, Router, routing::get};
use tokend_client::{BearerLayer, Claims, VerifyLayer};
use tonic::{
    Code,
    transport::{Channel, server::TcpIncoming},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tower::Layer;

use crate::server::{Server, server};

/// A health service that answers only callers whose token has `required`; its address.
async fn guarded_grpc(server: &Server, required: &[&str]) -> String {
    let (_, health) = tonic_health::server::health_reporter();
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = incoming.local_addr().unwrap();
    let guard = VerifyLayer::new(server.verifier().await).require_scopes(required.iter().copied());
    let service = tonic::transport::Server::builder().layer(guard).add_service(health);
    tokio::spawn(service.serve_with_incoming(incoming));
    format!("http://{address}")
}

async fn health(address: &str, bearer: Option<BearerLayer>) -> Result<(), tonic::Status> {
    let channel = Channel::from_shared(address.to_owned()).unwrap().connect().await.unwrap();
    let request = || HealthCheckRequest::default();
    match bearer {
        Some(layer) => HealthClient::new(layer.layer(channel)).check(request()).await.map(drop),
        None => HealthClient::new(channel).check(request()).await.map(drop),
    }
}

#[tokio::test]
async fn grpc_calls_with_a_token_from_the_bearer_layer_get_through() {
    let server = server().await;
    let api = guarded_grpc(&server, &["orders.read"]).await;
    health(&api, Some(BearerLayer::new(server.source(), "orders.read", ["orders"]))).await.unwrap();
}

#[tokio::test]
async fn grpc_calls_without_a_token_or_scope_are_refused() {
    let server = server().await;
    let api = guarded_grpc(&server, &["orders.write"]).await;
    let missing = health(&api, None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    let read_only = BearerLayer::new(server.source(), "orders.read", ["orders"]);
    let denied = health(&api, Some(read_only)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("orders.write"), "{}", denied.message());
}

#[tokio::test]
async fn a_bearer_layer_that_cannot_get_a_token_fails_the_call_with_the_reason() {
    let server = server().await;
    let api = guarded_grpc(&server, &[]).await;
    let wrong = tokend_client::TokenSource::new(server.channel.clone(), "orders-worker", "wrong-secret");
    let status = health(&api, Some(BearerLayer::new(wrong, "", ["orders"]))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("could not get an access token"), "{}", status.message());
}

/// An axum route behind the layer that answers with the caller's client_id.
async fn guarded_http(server: &Server, required: &[&str]) -> String {
    let guard = VerifyLayer::new(server.verifier().await).require_scopes(required.iter().copied());
    let app = Router::new()
        .route("/orders", get(|Extension(claims): Extension<Claims>| async move { claims.client_id }))
        .layer(guard);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/orders")
}

#[tokio::test]
async fn http_callers_get_200_401_or_403_with_a_challenge() {
    let server = server().await;
    let url = guarded_http(&server, &["orders.write"]).await;
    let http = reqwest::Client::new();
    let source = server.source();

    let missing = http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");

    let forged = http.get(&url).bearer_auth("e30.e30.e30").send().await.unwrap();
    assert_eq!(forged.status(), 401);
    assert!(forged.headers()["www-authenticate"].to_str().unwrap().contains(r#"error="invalid_token""#));

    let read = source.token("orders.read", &[]).await.unwrap().access_token;
    let denied = http.get(&url).bearer_auth(read).send().await.unwrap();
    assert_eq!(denied.status(), 403);
    assert_eq!(
        denied.headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope", scope="orders.write""#
    );

    let write = source.token("orders.write", &[]).await.unwrap().access_token;
    let allowed = http.get(&url).bearer_auth(write).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.text().await.unwrap(), "orders-worker");
}
