//! What a Transaction Token costs: tokend minting one by token exchange
//! (the call an edge makes once per request, over gRPC in this process),
//! and a hop's `TxnVerifier` checking one it has not seen (signature,
//! `typ`, `aud`, `exp`) and one it has (a transaction calling it again).
//!
//! Run with `cargo bench -p tokend-bench --bench txn_tokens`.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use tokend::{
    authority::{Actor, Authority, ClientDraft, KeySealer, Settings, SigningAlgorithm},
    contract::pb,
    domain::Audience,
    edge::{connections::ConnectionLimits, server},
    store::Store,
};
use tokend_client::{TokenSource, TxnVerifier};
use tonic::transport::Channel;

const TXN_TOKEN: &str = "urn:ietf:params:oauth:token-type:txn_token";

/// A tokend in this process with a worker and an edge (a requester): its
/// issuer, a channel to it, the edge's secret and a worker's access token.
async fn tokend(dir: &tempfile::TempDir, algorithm: SigningAlgorithm) -> (String, Channel, String, String) {
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listeners = server::Listeners { main, http: None, tls: None, metrics: None, proxies: None };
    let issuer = listeners.base_url().unwrap();
    let sealer = Arc::new(KeySealer::from_bytes(&[9; 32]).unwrap());
    let settings = Settings::new(issuer.clone(), Audience::parse("tokend").unwrap(), algorithm, sealer);
    let authority = Arc::new(Authority::start(store, settings).await.unwrap());
    let register = |id: &str, requester: bool| ClientDraft {
        client_id: id.into(),
        allowed_scopes: vec!["orders.read".into()],
        default_scopes: vec!["orders.read".into()],
        txn_token_requester: requester,
        ..ClientDraft::default()
    };
    let (_, worker) = authority.registry().create(register("worker", false), &Actor::cli()).await.unwrap();
    let (_, edge) = authority.registry().create(register("edge", true), &Actor::cli()).await.unwrap();
    tokio::spawn(server::serve(listeners, authority, ConnectionLimits::default(), std::future::pending()));
    let channel = Channel::from_shared(issuer.clone()).unwrap().connect().await.unwrap();
    let token =
        TokenSource::new(channel.clone(), "worker", worker.unwrap().expose()).token("", &[]).await.unwrap();
    (issuer, channel, edge.unwrap().expose().to_owned(), token.access_token)
}

fn txn_tokens(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (name, algorithm) in [
        ("ES256", SigningAlgorithm::Es256),
        ("EdDSA", SigningAlgorithm::EdDsa),
        ("RS256", SigningAlgorithm::Rs256),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (issuer, channel, edge_secret, access_token) = runtime.block_on(tokend(&dir, algorithm));
        let request = pb::ExchangeTokenRequest {
            client_id: "edge".into(),
            client_secret: edge_secret,
            subject_token: access_token,
            subject_token_type: "urn:ietf:params:oauth:token-type:access_token".into(),
            requested_token_type: TXN_TOKEN.into(),
            audience: vec![issuer.clone()],
            scope: "orders.read".into(),
            request_details: r#"{"action":"list"}"#.into(),
            ..Default::default()
        };
        let tokens = pb::token_service_client::TokenServiceClient::new(channel);
        let exchange = || {
            let mut tokens = tokens.clone();
            let request = request.clone();
            async move { tokens.exchange_token(request).await.unwrap().into_inner().access_token }
        };
        c.bench_function(&format!("txn/exchange/{name}"), |b| b.to_async(&runtime).iter(exchange));
        // Tokens a hop has not seen: distinct ones, a verifier of its own for every thousand.
        let fresh: Vec<String> = runtime.block_on(async { futures_of(&exchange, 1000).await });
        let token = fresh[0].clone();
        c.bench_function(&format!("txn/verify/first/{name}"), |b| {
            b.to_async(&runtime).iter_custom(|iterations| {
                let (issuer, fresh) = (issuer.clone(), fresh.clone());
                async move {
                    let mut spent = Duration::ZERO;
                    let mut left = iterations as usize;
                    while left > 0 {
                        let verifier = TxnVerifier::discover(&issuer, &issuer).await.unwrap();
                        let batch = left.min(fresh.len());
                        let started = Instant::now();
                        for token in &fresh[..batch] {
                            verifier.verify(token).await.unwrap();
                        }
                        spent += started.elapsed();
                        left -= batch;
                    }
                    spent
                }
            })
        });
        let verifier = runtime.block_on(TxnVerifier::discover(&issuer, &issuer)).unwrap();
        c.bench_function(&format!("txn/verify/again/{name}"), |b| {
            b.to_async(&runtime).iter(|| verifier.verify(&token))
        });
    }
}

/// `count` results of `make`, one after another.
async fn futures_of<F: Future<Output = String>>(make: &impl Fn() -> F, count: usize) -> Vec<String> {
    let mut made = Vec::with_capacity(count);
    for _ in 0..count {
        made.push(make().await);
    }
    made
}

criterion_group!(benches, txn_tokens);
criterion_main!(benches);
