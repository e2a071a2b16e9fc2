//! Micro-benchmarks of the costs that bound issuance: signing, verifying,
//! checking a client's credentials cold (store + argon2) and cached, and a
//! rate-limited client's bucket.
//!
//! Run with `cargo bench -p tokend-bench`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tokend::{
    authority::{
        Actor, ClientDraft, Clock, Grant, KeyRing, KeySealer, RateLimits, Registry, SecretHasher,
        SigningAlgorithm, TokenCodec,
    },
    domain::{AudienceList, ClientId, ClientSecret, RateLimit, ScopeSet, TokenTtl},
    store::Store,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime")
}

async fn store(dir: &tempfile::TempDir) -> Store {
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn grant() -> Grant {
    Grant {
        client_id: ClientId::parse("orders-worker").unwrap(),
        registration: "bench".into(),
        scopes: ScopeSet::parse_delimited("orders.read orders.write").unwrap(),
        audiences: AudienceList::parse_each(["orders-api"]).unwrap(),
        ttl: TokenTtl::DEFAULT,
        bound_to: None,
        federated: None,
        claims: Default::default(),
        subject: None,
        act: None,
        not_after: None,
    }
}

fn tokens(c: &mut Criterion) {
    let runtime = runtime();
    for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
        let dir = tempfile::tempdir().unwrap();
        let sealer = KeySealer::from_bytes(&[7; 32]).unwrap();
        let codec = runtime.block_on(async {
            let keys = KeyRing::load_or_create(&store(&dir).await, algorithm, 0, &sealer).await.unwrap();
            TokenCodec::new(keys, "http://tokend.bench".into(), Clock::system())
        });
        let grant = grant();
        c.bench_function(&format!("mint/{algorithm}"), |b| {
            b.iter(|| codec.mint(&grant, 1_800_000_000).unwrap())
        });
        // A token never seen: the full check (header, key, signature, claims).
        c.bench_function(&format!("decode/{algorithm}/first"), |b| {
            b.iter_batched(
                || codec.mint(&grant, tokend_now()).unwrap().0,
                |token| codec.decode(&token).unwrap(),
                BatchSize::SmallInput,
            )
        });
        // The same token again, as when a resource server introspects a cached token.
        let (token, _) = codec.mint(&grant, tokend_now()).unwrap();
        c.bench_function(&format!("decode/{algorithm}/again"), |b| b.iter(|| codec.decode(&token).unwrap()));
    }
}

fn credentials(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (store, secret) = runtime.block_on(async {
        let store = store(&dir).await;
        let draft = ClientDraft {
            client_id: "orders-worker".into(),
            allowed_scopes: vec!["read".into()],
            ..Default::default()
        };
        let (_, secret) = Registry::new(store.clone(), SecretHasher::new(), Clock::system())
            .create(draft, &Actor::cli())
            .await
            .unwrap();
        (store, secret.expect("a secret client has a secret"))
    });
    let hasher = SecretHasher::new();
    let cold = || Registry::new(store.clone(), hasher.clone(), Clock::system());
    let id = ClientId::parse("orders-worker").unwrap();
    c.bench_function("authenticate/cold", |b| {
        b.to_async(&runtime)
            .iter(|| async { cold().authenticate(&id, &secret, None).await.unwrap().unwrap() })
    });
    let warm = cold();
    runtime.block_on(warm.authenticate(&id, &secret, None)).unwrap().unwrap();
    c.bench_function("authenticate/cached", |b| {
        b.to_async(&runtime).iter(|| async { warm.authenticate(&id, &secret, None).await.unwrap().unwrap() })
    });
    let wrong = ClientSecret::generate().1;
    c.bench_function("authenticate/wrong-secret", |b| {
        b.to_async(&runtime)
            .iter(|| async { assert!(warm.authenticate(&id, &wrong, None).await.unwrap().is_none()) })
    });
}

fn tokend_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// One request through a bucket that never runs dry, among 1,000 limited clients.
fn rate_limit(c: &mut Criterion) {
    let limits = RateLimits::default();
    let limit = RateLimit { per_second: 1_000_000_000, burst: 1_000_000_000 };
    let now = std::time::Instant::now();
    for i in 0..1000 {
        limits.take(&format!("client-{i}"), limit, now).unwrap();
    }
    c.bench_function("rate_limit/take", |b| b.iter(|| limits.take("client-500", limit, now)));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = tokens, credentials, rate_limit
}
criterion_main!(benches);
