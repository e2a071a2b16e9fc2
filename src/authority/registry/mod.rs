//! The client registry: who the clients are (records, their secrets' rows,
//! trusted issuers) and a cache of the active ones. Whether a presented
//! secret is a client's is the job of `secrets`, which reads clients here.

mod cache;
mod changes;
mod client_keys;
mod issuers;
mod key_pair;
mod manage;
mod rows;

use std::sync::Arc;

use crate::{
    authority::{
        AuthError, Clock,
        secrets::{ActiveClients, Secrets},
    },
    domain::{Client, ClientId, ClientSecret, SecretMaxAge},
    store::{SecretRow, Store},
};

use cache::ClientCache;
use changes::FeedPosition;
use issuers::TrustedIssuers;
pub use key_pair::{ClientKeyAlgorithm, ClientKeyPair, KeyFileFormat, PrivateKeyFile};
pub use manage::{AuthDraft, ClientChanges, ClientDraft, ClientPage, IdentityDraft};

/// Clones share one cache, so every clone sees what any of them changed.
#[derive(Clone)]
pub struct Registry {
    store: Store,
    clock: Clock,
    /// Hashes new secrets, and forgets the verified ones of a changed client.
    secrets: Secrets,
    cache: Arc<ClientCache>,
    feed: Arc<FeedPosition>,
    /// How long new secrets live when their client sets nothing (`--secret-max-age`).
    secret_max_age: Option<SecretMaxAge>,
    issuers: Arc<TrustedIssuers>,
}

impl ActiveClients for Registry {
    async fn active_client(&self, client_id: &ClientId) -> Result<Option<Arc<Client>>, AuthError> {
        Registry::active_client(self, client_id).await
    }
}

impl Registry {
    pub fn new(store: Store, clock: Clock, secrets: Secrets) -> Self {
        let feed = Arc::new(FeedPosition::new(clock.now()));
        Self {
            store,
            clock,
            secrets,
            cache: Arc::new(ClientCache::new()),
            feed,
            secret_max_age: None,
            issuers: Arc::default(),
        }
    }

    /// Gives new secrets of clients that set no max age of their own this one.
    pub fn with_secret_max_age(mut self, max_age: Option<SecretMaxAge>) -> Self {
        self.secret_max_age = max_age;
        self
    }

    /// The registry's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The client if it exists and is active; `None` otherwise.
    pub async fn active_client(&self, client_id: &ClientId) -> Result<Option<Arc<Client>>, AuthError> {
        let now = self.clock.now();
        if let Some(client) = self.cache.get(client_id.as_str(), now) {
            return Ok(Some(client));
        }
        match self.store.client(client_id).await? {
            Some(row) if row.disabled_at.is_none() => {
                let client = Arc::new(Client::try_from(row)?);
                self.cache.remember(client.clone(), now);
                Ok(Some(client))
            }
            _ => Ok(None),
        }
    }

    /// Whether `name` is the id of an active client.
    pub async fn is_active(&self, name: &str) -> Result<bool, AuthError> {
        match ClientId::parse(name) {
            Ok(client_id) => Ok(self.active_client(&client_id).await?.is_some()),
            Err(_) => Ok(false),
        }
    }

    /// Whether `name` is the id of a registered client, active or not: a
    /// subject stated for someone else may not be one (RFC 9700 §4.15).
    pub async fn names_a_client(&self, name: &str) -> Result<bool, AuthError> {
        let Ok(client_id) = ClientId::parse(name) else {
            return Ok(false);
        };
        if self.cache.get(name, self.clock.now()).is_some() {
            return Ok(true);
        }
        Ok(self.store.client(&client_id).await?.is_some())
    }

    /// Forgets what is known of a client in memory, here and by the secret
    /// check, after this process or another changed it.
    pub fn forget_cached(&self, client_id: &str) {
        self.cache.forget(client_id);
        self.secrets.forget(client_id);
    }

    /// A new secret for `client` and the row that stores its hash. It
    /// expires after the client's secret max age, or the server's.
    async fn new_secret(&self, client: &Client, now: i64) -> Result<(ClientSecret, SecretRow), AuthError> {
        let (secret_id, secret) = ClientSecret::generate();
        let max_age = client.secret_max_age.or(self.secret_max_age);
        let row = SecretRow {
            secret_id: secret_id.to_string(),
            client_id: client.id.to_string(),
            secret_hash: self.secrets.hash(&secret).await?,
            created_at: now,
            expires_at: max_age.map(|age| now + age.seconds()),
            last_used_at: None,
        };
        Ok((secret, row))
    }
}
