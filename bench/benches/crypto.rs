//! Micro-benchmarks of the costs that bound issuance: signing, verifying,
//! checking a client's credentials cold (store + argon2) and cached, and a
//! rate-limited client's bucket.
//!
//! Run with `cargo bench -p tokend-bench`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tokend::{
    authority::{
        Actor, Admin, AdminSettings, ClientDraft, Clock, FailureLimits, Grant, KeyCustody, KeyRing,
        KeySealer, RateLimits, SigningAlgorithm, StatusListEntry, TokenCodec, TokenStatus,
    },
    domain::{AudienceList, ClientClaims, ClientId, ClientSecret, RateLimit, ScopeSet, TokenTtl},
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
        cnf: None,
        federated: None,
        claims: Default::default(),
        subject: None,
        act: None,
        not_after: None,
        // Every token points into a status list, as with `--status-list on`.
        status: Some(TokenStatus {
            status_list: StatusListEntry {
                idx: 123_456,
                uri: "https://tokend.example/oauth/v2/status/42".into(),
            },
        }),
    }
}

/// About 1 KiB of claims, as a platform team might fix for a service.
const CLAIMS_1KIB: &str = r#"{"tenant":"acme-corporation-eu-west-1","environment":"production","cost_center":"cc-4711",
    "roles":["orders.reader","orders.writer","billing.viewer","inventory.admin"],
    "region":{"primary":"eu-west-1","fallback":"eu-central-1"},"tier":3,
    "features":{"beta":true,"canary":false,"limits":{"rps":500,"burst":1000}},
    "label_0":"value-0000-abcdefghij","label_1":"value-0001-abcdefghij","label_2":"value-0002-abcdefghij",
    "label_3":"value-0003-abcdefghij","label_4":"value-0004-abcdefghij","label_5":"value-0005-abcdefghij",
    "label_6":"value-0006-abcdefghij","label_7":"value-0007-abcdefghij","label_8":"value-0008-abcdefghij",
    "label_9":"value-0009-abcdefghij","label_10":"value-0010-abcdefghij","label_11":"value-0011-abcdefghij",
    "label_12":"value-0012-abcdefghij","label_13":"value-0013-abcdefghij","label_14":"value-0014-abcdefghij",
    "label_15":"value-0015-abcdefghij","label_16":"value-0016-abcdefghij","label_17":"value-0017-abcdefghij",
    "label_18":"value-0018-abcdefghij","label_19":"value-0019-abcdefghij","label_20":"value-0020-abcdefghij",
    "label_21":"value-0021-abcdefghij","label_22":"value-0022-abcdefghij"}"#;

fn tokens(c: &mut Criterion) {
    let runtime = runtime();
    for algorithm in [SigningAlgorithm::Es256, SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
        let dir = tempfile::tempdir().unwrap();
        let sealer = KeyCustody::sealed(std::sync::Arc::new(KeySealer::from_bytes(&[7; 32]).unwrap()));
        let codec = runtime.block_on(async {
            let keys = KeyRing::load_or_create(&store(&dir).await, algorithm, 0, &sealer).await.unwrap();
            TokenCodec::new(keys, "http://tokend.bench".into(), Clock::system())
        });
        let grant = grant();
        c.bench_function(&format!("mint/{algorithm}"), |b| {
            b.iter(|| codec.mint(&grant, 1_800_000_000).unwrap())
        });
        // Without the status claim, as with `--status-list off`.
        let without_status = Grant { status: None, ..grant.clone() };
        c.bench_function(&format!("mint/{algorithm}/no-status"), |b| {
            b.iter(|| codec.mint(&without_status, 1_800_000_000).unwrap())
        });
        // A client with 1 KiB of fixed claims, encoded once as tokend does when it loads the client.
        let with_claims = Grant { claims: ClientClaims::parse(CLAIMS_1KIB).unwrap(), ..grant.clone() };
        c.bench_function(&format!("mint/{algorithm}/claims-1KiB"), |b| {
            b.iter(|| codec.mint(&with_claims, 1_800_000_000).unwrap())
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
    let (admin, secret) = runtime.block_on(async {
        let store = store(&dir).await;
        // No failure limit: the wrong-secret case below measures argon2 on
        // every guess, where the default limit would refuse them after 50.
        let settings = AdminSettings {
            failure_limits: FailureLimits { per_client: 0, per_address: 0 },
            ..Default::default()
        };
        let admin = Admin::open(&store, &Clock::system(), settings);
        let draft = ClientDraft {
            client_id: "orders-worker".into(),
            allowed_scopes: vec!["read".into()],
            ..Default::default()
        };
        let (_, secret) = admin.registry.create(draft, &Actor::cli()).await.unwrap();
        (admin, secret.expect("a secret client has a secret"))
    });
    let Admin { registry, secrets, .. } = admin;
    let id = ClientId::parse("orders-worker").unwrap();
    let check = |secret| {
        let (registry, secrets, id) = (&registry, &secrets, &id);
        async move { secrets.check(registry, id, secret, None).await.unwrap() }
    };
    c.bench_function("authenticate/cold", |b| {
        b.to_async(&runtime).iter(|| async {
            registry.forget_cached(id.as_str());
            check(&secret).await.unwrap()
        })
    });
    runtime.block_on(check(&secret)).unwrap();
    c.bench_function("authenticate/cached", |b| {
        b.to_async(&runtime).iter(|| async { check(&secret).await.unwrap() })
    });
    let wrong = ClientSecret::generate_with_id(&secret.claimed_id().unwrap());
    c.bench_function("authenticate/wrong-secret", |b| {
        b.to_async(&runtime).iter(|| async { assert!(check(&wrong).await.is_none()) })
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
