//! A real tokend for the tests: in-process, on a fresh SQLite database, with
//! the two clients of the orders example.

use std::sync::Arc;

use tokend::{
    authority::{
        Actor, Authority, ClientDraft, DpopSettings, KeyPolicy, KeyRing, KeySealer, Settings,
        SigningAlgorithm, StatusListSettings,
    },
    domain::Audience,
    edge::server::{self, Listeners},
    edge::tls::Tls,
    store::Store,
};
use tokend_client::{TokenSource, Verifier};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

pub struct Server {
    pub channel: Channel,
    /// Where it answers, gRPC and HTTP alike.
    pub address: String,
    pub issuer: String,
    pub authority: Arc<Authority>,
    store: Store,
    sealer: Arc<KeySealer>,
    /// The secret of "orders-worker": may ask for `orders.read orders.write`
    /// (default `orders.read`) for the audience "orders".
    pub worker_secret: String,
    /// The secret of "orders-api": holds `tokend.introspect`.
    pub api_secret: String,
    _dir: tempfile::TempDir,
}

pub async fn server() -> Server {
    start(None, Settled::default()).await
}

/// A tokend speaking TLS with `tls`, whose certificate `ca_pem` signed.
pub async fn server_tls(tls: Tls, ca_pem: &str) -> Server {
    start(Some((tls, ca_pem)), Settled::default()).await
}

/// A tokend whose signing keys rotate and retire as `policy` says.
pub async fn server_rotating(policy: KeyPolicy) -> Server {
    start(None, Settled { key_policy: policy, ..Settled::default() }).await
}

/// A tokend that asks DPoP proofs for its nonces (`--dpop-nonce`).
pub async fn server_with_dpop_nonces() -> Server {
    let dpop = DpopSettings { nonces: true, ..DpopSettings::default() };
    start(None, Settled { dpop, ..Settled::default() }).await
}

/// A tokend whose status lists have a `ttl` of `ttl_seconds`, and whose
/// issuer is `issuer` (a proxy in front of it) when given.
pub async fn server_with_status_lists(ttl_seconds: i64, issuer: Option<String>) -> Server {
    let status_lists = StatusListSettings { ttl_seconds, ..StatusListSettings::default() };
    start(None, Settled { status_lists, issuer, ..Settled::default() }).await
}

/// What a test server is started with beyond the defaults.
#[derive(Default)]
struct Settled {
    key_policy: KeyPolicy,
    dpop: DpopSettings,
    status_lists: StatusListSettings,
    /// The issuer, when it is not the server's own address.
    issuer: Option<String>,
}

async fn start(tls: Option<(Tls, &str)>, settled: Settled) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let listeners = Listeners {
        main: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        http: None,
        tls: tls.as_ref().map(|(tls, _)| tls.clone()),
        metrics: None,
        proxies: None,
    };
    let address = listeners.base_url().unwrap();
    let issuer = settled.issuer.unwrap_or_else(|| address.clone());
    let sealer = Arc::new(KeySealer::load_or_create(&dir.path().join("t.kek")).unwrap());
    let settings = Settings {
        key_policy: settled.key_policy,
        dpop: settled.dpop,
        status_lists: settled.status_lists,
        ..Settings::new(
            issuer.clone(),
            Audience::parse("tokend").unwrap(),
            SigningAlgorithm::Es256,
            sealer.clone(),
        )
    };
    let authority = Arc::new(Authority::start(store.clone(), settings).await.unwrap());
    let worker = ClientDraft {
        client_id: "orders-worker".into(),
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        default_scopes: vec!["orders.read".into()],
        audiences: vec!["orders".into()],
        // Fixed claims, for resource servers to read from `Claims`.
        claims: serde_json::json!({ "tenant": "acme", "tier": 3 }).as_object().unwrap().clone(),
        ..Default::default()
    };
    let (_, worker_secret) = authority.registry().create(worker, &Actor::cli()).await.unwrap();
    let api = ClientDraft {
        client_id: "orders-api".into(),
        allowed_scopes: vec!["tokend.introspect".into()],
        ..Default::default()
    };
    let (_, api_secret) = authority.registry().create(api, &Actor::cli()).await.unwrap();
    tokio::spawn(server::serve(
        listeners,
        authority.clone(),
        tokend::edge::connections::ConnectionLimits::default(),
        std::future::pending(),
    ));
    let mut endpoint = Channel::from_shared(address.clone()).unwrap();
    if let Some((_, ca_pem)) = tls {
        let trust =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem)).domain_name("localhost");
        endpoint = endpoint.tls_config(trust).unwrap();
    }
    let channel = endpoint.connect().await.unwrap();
    Server {
        channel,
        address,
        issuer,
        authority,
        store,
        sealer,
        worker_secret: worker_secret.expect("a secret client").expose().to_owned(),
        api_secret: api_secret.expect("a secret client").expose().to_owned(),
        _dir: dir,
    }
}

impl Server {
    /// A source for "orders-worker", with its real secret.
    pub fn source(&self) -> TokenSource {
        TokenSource::new(self.channel.clone(), "orders-worker", &self.worker_secret)
    }

    /// A local verifier for the audience "orders".
    pub async fn verifier(&self) -> Verifier {
        Verifier::builder(&self.issuer, "orders").discover().await.unwrap()
    }

    /// Makes a new signing key the way `tokend keys rotate` does, and has the
    /// server pick it up now instead of at its next upkeep.
    pub async fn rotate_key(&self) -> String {
        let kid = KeyRing::rotate(
            &self.store,
            self.authority.clock(),
            SigningAlgorithm::Es256,
            0,
            &tokend::authority::KeyCustody::sealed(self.sealer.clone()),
            &Actor::cli(),
        )
        .await
        .unwrap();
        self.authority.maintain().await;
        kid
    }

    /// Signs `claims` with the server's current key under the `typ` given,
    /// for tokens tokend would never issue (expired, wrong type).
    pub async fn sign(&self, typ: &str, claims: serde_json::Value) -> String {
        let newest = self.store.keys().await.unwrap().remove(0);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(newest.kid.clone());
        let pem = self.sealer.open(&newest.kid, &newest.private_key).unwrap().pem;
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        // In the one form tokend signs and verifiers accept (low s).
        match tokend_common::ecdsa::jws_has_low_s(&token) {
            true => token,
            false => tokend_common::ecdsa::jws_twin(&token),
        }
    }
}

/// The decoded payload of a JWT, unverified.
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&payload).unwrap()
}

/// The `jti` of a JWT.
pub fn jti(token: &str) -> String {
    claims(token)["jti"].as_str().unwrap().to_owned()
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
