//! A real tokend, in-process on a scratch SQLite database, with one client
//! ("orders-worker") and the means to sign what tokend itself never would.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use tokend::{
    authority::{Actor, Authority, ClientDraft, KeyCustody, KeyRing, KeySealer, Settings, SigningAlgorithm},
    domain::Audience,
    edge::{
        connections::ConnectionLimits,
        server::{self, Listeners},
    },
    store::Store,
};
use tokend_client::TokenSource;
use tonic::transport::Channel;

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

pub const CLIENT_ID: &str = "orders-worker";

pub struct Tokend {
    pub issuer: String,
    pub channel: Channel,
    pub secret: String,
    authority: Arc<Authority>,
    store: Store,
    sealer: Arc<KeySealer>,
    _dir: tempfile::TempDir,
}

impl Tokend {
    pub async fn start() -> Result<Tokend, Failure> {
        let dir = tempfile::tempdir()?;
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("tokend.db").display())).await?;
        store.migrate().await?;
        let main = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let listeners = Listeners { main, http: None, tls: None, metrics: None, proxies: None };
        let issuer = listeners.base_url()?;
        let sealer = Arc::new(KeySealer::load_or_create(&dir.path().join("tokend.kek"))?);
        let audience = Audience::parse("tokend")?;
        let settings = Settings::new(issuer.clone(), audience, SigningAlgorithm::Es256, sealer.clone());
        let authority = Arc::new(Authority::start(store.clone(), settings).await?);
        let worker = ClientDraft {
            client_id: CLIENT_ID.into(),
            allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
            default_scopes: vec!["orders.read".into()],
            audiences: vec!["orders".into(), "billing".into()],
            ..Default::default()
        };
        let (_, secret) = authority.registry().create(worker, &Actor::cli()).await?;
        let secret = secret.ok_or("the client has a secret")?.expose().to_owned();
        tokio::spawn(server::serve(
            listeners,
            authority.clone(),
            ConnectionLimits::default(),
            std::future::pending(),
        ));
        let channel = Channel::from_shared(issuer.clone())?.connect().await?;
        Ok(Tokend { issuer, channel, secret, authority, store, sealer, _dir: dir })
    }

    /// A new source for the client: a fresh token, signed by the current key.
    pub fn source(&self) -> TokenSource {
        TokenSource::new(self.channel.clone(), CLIENT_ID, &self.secret)
    }

    /// Signs `claims` with the current key under `header` (whose `kid` is
    /// filled in unless set), in the low-s form tokend signs.
    pub async fn sign(&self, header: Header, claims: &Value) -> Result<String, Failure> {
        self.sign_payload(header, &serde_json::to_string(claims)?).await
    }

    /// Signs the JSON text `payload` as it is, even one no encoder would
    /// write (a member named twice), like [`Tokend::sign`].
    pub async fn sign_payload(&self, mut header: Header, payload: &str) -> Result<String, Failure> {
        let newest = self.store.keys().await?.remove(0);
        header.kid.get_or_insert(newest.kid.clone());
        let pem = self.sealer.open(&newest.kid, &newest.private_key)?.pem;
        let key = EncodingKey::from_ec_pem(pem.as_bytes())?;
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, header.alg)?;
        let token = format!("{signed}.{signature}");
        Ok(match tokend_common::ecdsa::jws_has_low_s(&token) {
            true => token,
            false => tokend_common::ecdsa::jws_twin(&token),
        })
    }

    /// The current key's public half as PEM: the "secret" of an HS256 forgery.
    pub async fn public_key_pem(&self) -> Result<String, Failure> {
        let newest = self.store.keys().await?.remove(0);
        let pem = self.sealer.open(&newest.kid, &newest.private_key)?.pem;
        Ok(rcgen::KeyPair::from_pem(&pem)?.public_key_pem())
    }

    /// A new signing key, as `tokend keys rotate` makes it, taken up now.
    pub async fn rotate_key(&self) -> Result<(), Failure> {
        let custody = KeyCustody::sealed(self.sealer.clone());
        let clock = self.authority.clock();
        KeyRing::rotate(&self.store, clock, SigningAlgorithm::Es256, 0, &custody, &Actor::cli()).await?;
        self.authority.maintain().await;
        Ok(())
    }

    /// Revokes `token` as its client would (RFC 7009).
    pub async fn revoke(&self, token: &str) -> Result<(), Failure> {
        let answer = reqwest::Client::new()
            .post(format!("{}/oauth/v2/revoke", self.issuer))
            .basic_auth(CLIENT_ID, Some(&self.secret))
            .form(&[("token", token)])
            .send()
            .await?;
        answer.error_for_status()?;
        Ok(())
    }
}

/// The payload of a JWT, decoded without verification.
pub fn payload(token: &str) -> Result<Value, Failure> {
    let part = token.split('.').nth(1).ok_or("a JWT has a payload")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part)?)?)
}

/// An ES256 header of `typ`.
pub fn header(typ: &str) -> Header {
    Header { typ: Some(typ.to_owned()), ..Header::new(Algorithm::ES256) }
}
