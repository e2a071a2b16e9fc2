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

/// An API behind VerifyLayer that answers 200 to the calls it lets through.
async fn orders_api(
    server: &crate::server::Server,
) -> impl Service<Request<String>, Response = Response<String>, Error = std::convert::Infallible, Future: Send>
+ Clone
+ Send
+ 'static {
    let verifier = tokend_client::Verifier::builder(&server.issuer, "orders").discover().await.unwrap();
    let ok = service_fn(|_: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    });
    tokend_client::VerifyLayer::new(verifier).layer(ok)
}

const ORDERS: &str = "http://orders.example/v1/orders";

fn call(authorization: &str, proofs: &[String]) -> Request<String> {
    let mut request = Request::post(ORDERS).header("authorization", authorization);
    for proof in proofs {
        request = request.header("dpop", proof);
    }
    request.body(String::new()).unwrap()
}

/// The status of `request` at `api`, and its `WWW-Authenticate`.
async fn answer(
    api: impl Service<Request<String>, Response = Response<String>, Error = std::convert::Infallible>,
    request: Request<String>,
) -> (u16, String) {
    let response = api.oneshot(request).await.unwrap();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge.unwrap_or_default())
}

#[tokio::test]
async fn a_resource_server_takes_a_bound_token_only_with_a_proof_of_its_key() {
    let server = server().await;
    let stranger = DpopKey::generate().unwrap();
    let kept = DpopKey::from_pem(&pem_of_new_key(), jsonwebtoken::Algorithm::ES256).unwrap();
    let source = server.source().with_dpop(kept, &server.issuer);
    let api = orders_api(&server).await;
    let through = BearerLayer::new(source.clone(), "orders.read", ["orders"]).layer(api.clone());
    let request = Request::post(ORDERS).body(String::new()).unwrap();
    assert_eq!(through.oneshot(request).await.unwrap().status(), 200, "token and proof from the layers");

    let token = source.token("orders.read", &["orders"]).await.unwrap().access_token;
    let holder = source.dpop_key().unwrap();
    let dpop = format!("DPoP {token}");
    let refused = [
        (call(&format!("Bearer {token}"), &[]), "DPoP-bound"),
        (call(&dpop, &[]), "needs a DPoP proof"),
        (call(&dpop, &[stranger.proof("POST", ORDERS, Some(&token), None)]), "another key"),
        (
            call(&dpop, &[holder.proof("POST", "http://orders.example/v1/refunds", Some(&token), None)]),
            "another URL",
        ),
        (call(&dpop, &[holder.proof("GET", ORDERS, Some(&token), None)]), "another method"),
        (call(&dpop, &[holder.proof("POST", ORDERS, Some("another token"), None)]), "another token"),
    ];
    for (request, says) in refused {
        let (status, challenge) = answer(api.clone(), request).await;
        assert_eq!(status, 401, "{says}");
        assert!(challenge.contains(says), "{challenge:?} should say {says:?}");
    }
    let proof = holder.proof("POST", ORDERS, Some(&token), None);
    let (first, _) = answer(api.clone(), call(&dpop, std::slice::from_ref(&proof))).await;
    let (again, challenge) = answer(api.clone(), call(&dpop, &[proof])).await;
    assert_eq!((first, again), (200, 401));
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\"") && challenge.contains("used before"),
        "{challenge}"
    );
}

/// A P-256 private key in PEM, as a workload would keep one.
fn pem_of_new_key() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap().serialize_pem()
}

#[tokio::test]
async fn the_remote_verifier_checks_proofs_against_the_introspected_key() {
    let server = server().await;
    let source = server.source().with_dpop(DpopKey::generate().unwrap(), &server.issuer);
    let introspecting =
        tokend_client::TokenSource::new(server.channel.clone(), "orders-api", &server.api_secret);
    let remote = tokend_client::Verifier::builder(&server.issuer, "orders")
        .introspect(server.channel.clone(), introspecting);
    let ok = service_fn(|_: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    });
    let api = tokend_client::VerifyLayer::new(remote).layer(ok);
    let through = BearerLayer::new(source.clone(), "orders.read", ["orders"]).layer(api.clone());
    assert_eq!(
        through.oneshot(Request::post(ORDERS).body(String::new()).unwrap()).await.unwrap().status(),
        200
    );
    let token = source.token("orders.read", &["orders"]).await.unwrap().access_token;
    let (status, challenge) = answer(api, call(&format!("Bearer {token}"), &[])).await;
    assert_eq!(status, 401, "a copy of the token alone: {challenge}");
}
