//! What Token Status Lists cost: the size and encoding time of a list, and
//! what a resource server's `Verifier` spends per request on a token it has
//! seen, with its bit read and without (the signature check of a token not
//! seen is `decode/ES256/first` in the crypto benchmark).
//!
//! Run with `cargo bench -p tokend-bench --bench status_lists`.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tokend::{
    authority::{Actor, Authority, ClientDraft, KeySealer, Settings, SigningAlgorithm, StatusListSettings},
    domain::Audience,
    edge::{connections::ConnectionLimits, server},
    store::Store,
};
use tokend_client::{TokenSource, Verifier};
use tokend_common::status_list::{LIST_CAPACITY, StatusBits};

/// `capacity` statuses with `revoked` of them set at random places (a fixed
/// sequence, so every run measures the same list).
fn list(capacity: u64, revoked: u64) -> StatusBits {
    let mut bits = StatusBits::new(capacity);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..revoked {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bits.set(state % capacity);
    }
    bits
}

fn encoding(c: &mut Criterion) {
    for (name, capacity, revoked) in
        [("1Mi-100", LIST_CAPACITY, 100), ("1Mi-10000", LIST_CAPACITY, 10_000), ("10M-100", 10_000_000, 100)]
    {
        let bits = list(capacity, revoked);
        eprintln!("status list {name}: lst is {} bytes", bits.encode().len());
        c.bench_function(&format!("status_list/encode/{name}"), |b| b.iter(|| bits.encode()));
    }
}

/// A tokend in this process with status lists as `enabled` says, and a token
/// for the audience "orders" from it.
async fn tokend(dir: &tempfile::TempDir, enabled: bool) -> (String, String) {
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let listeners = server::Listeners {
        main: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        http: None,
        tls: None,
        metrics: None,
        proxies: None,
    };
    let issuer = listeners.base_url().unwrap();
    let sealer = Arc::new(KeySealer::from_bytes(&[9; 32]).unwrap());
    let settings = Settings {
        status_lists: StatusListSettings { enabled, ..StatusListSettings::default() },
        ..Settings::new(issuer.clone(), Audience::parse("tokend").unwrap(), SigningAlgorithm::Es256, sealer)
    };
    let authority = Arc::new(Authority::start(store, settings).await.unwrap());
    let draft = ClientDraft {
        client_id: "worker".into(),
        audiences: vec!["orders".into()],
        ..ClientDraft::default()
    };
    let (_, secret) = authority.registry().create(draft, &Actor::cli()).await.unwrap();
    tokio::spawn(server::serve(listeners, authority, ConnectionLimits::default(), std::future::pending()));
    let channel = tonic::transport::Channel::from_shared(issuer.clone()).unwrap().connect().await.unwrap();
    let source = TokenSource::new(channel, "worker", secret.unwrap().expose());
    (issuer, source.token("", &[]).await.unwrap().access_token)
}

fn verification(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (name, enabled) in [("without-status", false), ("with-status", true)] {
        let dir = tempfile::tempdir().unwrap();
        let (verifier, token) = runtime.block_on(async {
            let (issuer, token) = tokend(&dir, enabled).await;
            let verifier = Verifier::builder(&issuer, "orders").discover().await.unwrap();
            verifier.verify(&token).await.unwrap();
            (verifier, token)
        });
        // A token seen before: what every request after the first costs.
        let verified = std::sync::atomic::AtomicU64::new(0);
        c.bench_function(&format!("verify/again/{name}"), |b| {
            b.to_async(&runtime).iter(|| async {
                verified.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                verifier.verify(&token).await.unwrap()
            })
        });
        // However many verifications, one list fetch per ttl (60 s, longer than the run).
        let counts = verifier.status_list_counts();
        eprintln!(
            "verify/again/{name}: {} verifications, {} list fetches",
            verified.into_inner(),
            counts.fetched
        );
    }
}

criterion_group!(benches, encoding, verification);
criterion_main!(benches);
