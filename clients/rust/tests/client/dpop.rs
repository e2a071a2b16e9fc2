//! DPoP for callers (RFC 9449): a TokenSource with a key gets tokens bound to
//! it from a real tokend, and BearerLayer presents them with a fresh proof
//! of the key for each call, naming the call's method, URL and token.

use std::sync::{Arc, Mutex};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{Request, Response};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use tokend_client::{BearerLayer, DpopKey};
use tower::{Layer, Service, ServiceExt, service_fn};

use crate::server::{claims, server, server_with_dpop_nonces};

fn payload(jwt: &str) -> serde_json::Value {
    claims(jwt)
}

fn header(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_source_with_a_key_gets_tokens_bound_to_it() {
    let server = server().await;
    let key = DpopKey::generate().unwrap();
    let thumbprint = key.thumbprint().to_owned();
    let source = server.source().with_dpop(key, &server.issuer);
    let token = source.token("orders.read", &["orders"]).await.unwrap();
    assert_eq!(token.token_type, "DPoP");
    assert_eq!(payload(&token.access_token)["cnf"]["jkt"], thumbprint.as_str());
    let again = source.token("orders.read", &["orders"]).await.unwrap();
    assert_eq!(again.access_token, token.access_token, "cached per key as before");

    let plain = server.source().token("orders.read", &["orders"]).await.unwrap();
    assert_eq!(plain.token_type, "Bearer");
}

#[tokio::test]
async fn the_bearer_layer_sends_a_bound_token_with_a_proof_for_each_call() {
    let server = server().await;
    let source = server.source().with_dpop(DpopKey::generate().unwrap(), &server.issuer);
    let seen: Arc<Mutex<Vec<http::HeaderMap>>> = Arc::default();
    let recorder = {
        let seen = seen.clone();
        service_fn(move |request: Request<String>| {
            seen.lock().unwrap().push(request.headers().clone());
            async { Ok::<_, std::convert::Infallible>(Response::new(String::new())) }
        })
    };
    let mut orders = BearerLayer::new(source.clone(), "orders.read", ["orders"]).layer(recorder);
    for _ in 0..2 {
        let request = Request::post("http://orders.example/v1/orders?page=2").body(String::new()).unwrap();
        orders.ready().await.unwrap().call(request).await.unwrap();
    }
    let token = source.token("orders.read", &["orders"]).await.unwrap().access_token;
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0]["authorization"], format!("DPoP {token}"));
    let proofs: Vec<&str> = seen.iter().map(|headers| headers["dpop"].to_str().unwrap()).collect();
    assert_ne!(proofs[0], proofs[1], "a fresh proof for every call");
    let proof = payload(proofs[0]);
    assert_eq!(
        (proof["htm"].as_str(), proof["htu"].as_str()),
        (Some("POST"), Some("http://orders.example/v1/orders"))
    );
    let ath = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()));
    assert_eq!(proof["ath"], ath.as_str(), "bound to the token it presents");
    let jwk: Jwk = serde_json::from_value(header(proofs[0])["jwk"].clone()).unwrap();
    assert_eq!(
        jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
        payload(&token)["cnf"]["jkt"].as_str().unwrap()
    );
    assert_eq!(header(proofs[0])["typ"], "dpop+jwt");
}

#[tokio::test]
async fn a_grpc_call_needs_the_origin_its_proof_names() {
    let server = server().await;
    let source = server.source().with_dpop(DpopKey::generate().unwrap(), &server.issuer);
    let recorder = service_fn(|request: Request<String>| {
        let htu = payload(request.headers()["dpop"].to_str().unwrap())["htu"].as_str().unwrap().to_owned();
        async move { Ok::<_, std::convert::Infallible>(Response::new(htu)) }
    });
    let layer = BearerLayer::new(source, "orders.read", ["orders"]);
    let path_only = || Request::post("/orders.v1.Orders/Place").body(String::new()).unwrap();
    let refused = layer.clone().layer(recorder).oneshot(path_only()).await.unwrap_err();
    assert!(refused.to_string().contains("BearerLayer::origin"), "{refused}");
    let answered = layer.origin("http://orders:8080").layer(recorder).oneshot(path_only()).await.unwrap();
    assert_eq!(answered.into_body(), "http://orders:8080/orders.v1.Orders/Place");
}

#[tokio::test]
async fn a_source_asked_for_a_nonce_retries_once_with_it_and_keeps_it() {
    let server = server_with_dpop_nonces().await;
    let source = server.source().with_dpop(DpopKey::generate().unwrap(), &server.issuer);
    let token = source.token("orders.read", &["orders"]).await.unwrap();
    assert_eq!(token.token_type, "DPoP");
    let other_scope = source.token("orders.write", &["orders"]).await.unwrap();
    assert_eq!(other_scope.token_type, "DPoP", "the kept nonce serves the next request");
}
