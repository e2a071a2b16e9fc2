//! The cached, single-flight token source.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::pb::{
    ExchangeTokenRequest, IssueTokenRequest, IssueTokenResponse, token_service_client::TokenServiceClient,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use tokend_common::wire::{ACCESS_TOKEN_TYPE, DPOP_HEADER};

use crate::{
    DpopKey, TokenError,
    credentials::{Credentials, PrivateKey},
};

/// A source's DPoP key, where its proofs say they go, and the last nonce tokend gave.
struct DpopClient {
    key: Arc<DpopKey>,
    /// The URL tokend is reached at, without a trailing `/`.
    origin: String,
    nonce: Mutex<Option<String>>,
}

/// How long one fetch keeps asking again while tokend answers UNAVAILABLE
/// (a restart storm takes as long as the argon2 checks of every client) or
/// says when to retry.
const RETRY_BUDGET: Duration = Duration::from_secs(10);
/// Backoff between UNAVAILABLE answers: from 50 ms, doubling, at most 1 s, jittered.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// An access token and when to stop using it. Its `Debug` leaves the token out.
#[derive(Clone)]
pub struct Token {
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to the source's DPoP key.
    pub token_type: String,
    pub scope: String,
    /// A margin before the real expiry, so the token is never sent stale.
    pub use_until: Instant,
    /// From here on, callers still get this token while a fresh one is
    /// fetched in the background.
    pub refresh_from: Instant,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"…")
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("use_until", &self.use_until)
            .field("refresh_from", &self.refresh_from)
            .finish()
    }
}

/// A TLS client identity in PEM: the certificate (chain, leaf first) and
/// key the client presents, and the CA that signed tokend's certificate.
/// Its `Debug` leaves the key out.
#[derive(Clone)]
pub struct TlsIdentity {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// What a cached token is for: its scope and audience, and for an exchange
/// the token it was exchanged for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    scope: String,
    audience: Vec<String>,
    subject_token: Option<String>,
}

/// Slots kept at most before those whose tokens ran out are dropped: each
/// exchanged token has a slot of its own.
const MAX_SLOTS: usize = 1024;

/// One slot per key: the async lock makes concurrent callers on an empty
/// slot wait for the one fetch instead of starting their own.
#[derive(Default)]
struct Slot {
    token: tokio::sync::Mutex<Option<Token>>,
    refreshing: AtomicBool,
}

/// Fetches and caches tokens for one client. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct TokenSource {
    client: TokenServiceClient<Channel>,
    client_id: String,
    credentials: Credentials,
    /// With a DPoP key, every token request carries a proof and tokens are bound to the key.
    dpop: Option<Arc<DpopClient>>,
    refresh_ahead: Option<Duration>,
    slots: Arc<Mutex<HashMap<Key, Arc<Slot>>>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl TokenSource {
    pub fn new(channel: Channel, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::with_credentials(channel, client_id.into(), Credentials::Secret(client_secret.into()))
    }

    fn with_credentials(channel: Channel, client_id: String, credentials: Credentials) -> Self {
        Self {
            client: TokenServiceClient::new(channel),
            client_id,
            credentials,
            dpop: None,
            refresh_ahead: None,
            slots: Arc::default(),
        }
    }

    /// Gets tokens bound to `key` (RFC 9449): each token request carries a
    /// fresh proof of it for `origin`, the URL the channel reaches tokend at
    /// (`http://tokend:50051`, or `https://…` over TLS; behind a proxy, the
    /// issuer's). A nonce tokend asks for (`use_dpop_nonce`) is sent from
    /// then on, after one retry.
    pub fn with_dpop(mut self, key: DpopKey, origin: impl Into<String>) -> Self {
        let origin = origin.into().trim_end_matches('/').to_owned();
        self.dpop = Some(Arc::new(DpopClient { key: Arc::new(key), origin, nonce: Mutex::default() }));
        self
    }

    /// The DPoP key tokens are bound to, if the source has one.
    pub fn dpop_key(&self) -> Option<&Arc<DpopKey>> {
        self.dpop.as_ref().map(|dpop| &dpop.key)
    }

    /// For a client registered with `private_key_jwt`: every fetch signs a
    /// new assertion with `key` (a fresh `jti`, a minute's life) for
    /// `audience`, tokend's issuer. No secret exists for such a client.
    pub fn with_private_key(
        channel: Channel,
        client_id: impl Into<String>,
        key: &PrivateKey,
        audience: impl Into<String>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let credentials = Credentials::private_key(key, audience.into())?;
        Ok(Self::with_credentials(channel, client_id.into(), credentials))
    }

    /// For a workload that proves itself with a token its platform issues
    /// (a Kubernetes projected service-account token, a GitHub Actions OIDC
    /// token, a SPIFFE JWT-SVID) and that a client's federated identity
    /// accepts: every fetch reads the token again from `path`, as platforms
    /// rewrite it before it expires.
    pub fn with_assertion_file(
        channel: Channel,
        client_id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        Self::with_credentials(channel, client_id.into(), Credentials::AssertionFile(path.into()))
    }

    /// For a client that authenticates with its TLS certificate alone
    /// (`tls_client_auth` or `self_signed_tls_client_auth`): connects to
    /// tokend at `uri` (`https://…`) trusting `tls.ca_pem` and presenting
    /// `tls`'s certificate, and asks for tokens naming `client_id` with no
    /// secret. Tokens of a client registered for bound tokens are bound to
    /// that certificate, so only calls made with it are accepted.
    pub fn with_certificate(
        uri: &str,
        tls: &TlsIdentity,
        client_id: impl Into<String>,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&tls.ca_pem))
            .identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem));
        // Connects on first use, so a tokend that is not up yet is not an error here.
        let channel = Channel::from_shared(uri.to_owned())?.tls_config(config)?.connect_lazy();
        Ok(Self::new(channel, client_id, ""))
    }

    /// Starts background refreshes this long before a token's `use_until`
    /// (by default, as long again as the safety margin before expiry).
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = Some(ahead);
        self
    }

    /// A token for `scope` (space-delimited; empty for the client's defaults)
    /// and `audience` (empty for the client's), from the cache while it is fresh.
    pub async fn token(&self, scope: &str, audience: &[&str]) -> Result<Token, TokenError> {
        self.cached(Key { scope: scope.to_owned(), audience: strings(audience), subject_token: None }).await
    }

    /// A token exchanged (RFC 8693) for `subject_token`, for `audience` and
    /// `scope` (empty keeps the subject token's): narrower, when the subject
    /// token is this client's own; acting for its client, when this client's
    /// registration names the audience in `token_exchange_audiences`. Cached
    /// like [`Self::token`], per subject token, audience and scope.
    pub async fn exchange(
        &self,
        subject_token: &str,
        audience: &[&str],
        scope: &str,
    ) -> Result<Token, TokenError> {
        let subject_token = Some(subject_token.to_owned());
        self.cached(Key { scope: scope.to_owned(), audience: strings(audience), subject_token }).await
    }

    /// The token for `key`, from its slot while fresh, else fetched once for all who ask.
    async fn cached(&self, key: Key) -> Result<Token, TokenError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if slots.len() >= MAX_SLOTS && !slots.contains_key(&key) {
                let now = Instant::now();
                slots.retain(|_, slot| {
                    slot.token
                        .try_lock()
                        .map_or(true, |token| token.as_ref().is_some_and(|t| t.use_until > now))
                });
            }
            slots.entry(key.clone()).or_default().clone()
        };
        let mut cached = slot.token.lock().await;
        let now = Instant::now();
        if let Some(token) = cached.as_ref().filter(|token| token.use_until > now) {
            if token.refresh_from <= now && !slot.refreshing.swap(true, Ordering::AcqRel) {
                self.refresh_in_background(key, slot.clone());
            }
            return Ok(token.clone());
        }
        let token = self.fetch(&key).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Fetches a fresh token for `slot` without holding up any caller; on
    /// failure the cached token stays until it runs out.
    fn refresh_in_background(&self, key: Key, slot: Arc<Slot>) {
        let source = self.clone();
        tokio::spawn(async move {
            if let Ok(token) = source.fetch(&key).await {
                *slot.token.lock().await = Some(token);
            }
            slot.refreshing.store(false, Ordering::Release);
        });
    }

    /// Asks tokend once (twice when it answers with the DPoP nonce to use).
    async fn ask(&self, key: &Key) -> Result<IssueTokenResponse, TokenError> {
        match self.ask_once(key).await {
            Err(error) if error.oauth_error.as_deref() == Some("use_dpop_nonce") && self.dpop.is_some() => {
                if let (Some(dpop), Some(nonce)) = (&self.dpop, error.dpop_nonce.clone()) {
                    *dpop.nonce.lock().unwrap_or_else(PoisonError::into_inner) = Some(nonce);
                }
                self.ask_once(key).await
            }
            answered => answered,
        }
    }

    /// `message` as a request, with a DPoP proof for `method` when the source has a key.
    fn request<T>(&self, message: T, method: &str) -> Result<tonic::Request<T>, TokenError> {
        let mut request = tonic::Request::new(message);
        if let Some(dpop) = &self.dpop {
            let nonce = dpop.nonce.lock().unwrap_or_else(PoisonError::into_inner).clone();
            let url = format!("{}/tokend.v1.TokenService/{method}", dpop.origin);
            let proof = dpop.key.proof("POST", &url, None, nonce.as_deref());
            request
                .metadata_mut()
                .insert(DPOP_HEADER, proof.parse().map_err(|_| TokenError::local("a DPoP proof is ASCII"))?);
        }
        Ok(request)
    }

    /// Asks tokend once: IssueToken, or ExchangeToken for a subject token.
    async fn ask_once(&self, key: &Key) -> Result<IssueTokenResponse, TokenError> {
        let mut request = IssueTokenRequest {
            grant_type: "client_credentials".into(),
            scope: key.scope.clone(),
            audience: key.audience.clone(),
            ..IssueTokenRequest::default()
        };
        self.credentials.fill(&self.client_id, &mut request)?;
        let Some(subject_token) = &key.subject_token else {
            let request = self.request(request, "IssueToken")?;
            return Ok(self.client.clone().issue_token(request).await?.into_inner());
        };
        let exchange = ExchangeTokenRequest {
            client_id: request.client_id,
            client_secret: request.client_secret,
            client_assertion_type: request.client_assertion_type,
            client_assertion: request.client_assertion,
            subject_token: subject_token.clone(),
            subject_token_type: ACCESS_TOKEN_TYPE.into(),
            scope: request.scope,
            audience: request.audience,
            ..ExchangeTokenRequest::default()
        };
        let exchange = self.request(exchange, "ExchangeToken")?;
        let answer = self.client.clone().exchange_token(exchange).await?.into_inner();
        Ok(IssueTokenResponse {
            access_token: answer.access_token,
            token_type: answer.token_type,
            expires_in: answer.expires_in,
            scope: answer.scope,
        })
    }

    async fn fetch(&self, key: &Key) -> Result<Token, TokenError> {
        let mut backoff = FIRST_BACKOFF;
        let started = Instant::now();
        loop {
            let asked = Instant::now();
            match self.ask(key).await {
                Ok(response) => {
                    let lifetime = Duration::from_secs(response.expires_in.max(0) as u64);
                    // Stop a tenth of the lifetime early, at most a minute.
                    let margin = (lifetime / 10).min(Duration::from_secs(60));
                    let use_until = asked + lifetime - margin;
                    let ahead = self.refresh_ahead.unwrap_or(margin).min(lifetime - margin);
                    return Ok(Token {
                        access_token: response.access_token,
                        token_type: response.token_type,
                        scope: response.scope,
                        use_until,
                        refresh_from: use_until - ahead,
                    });
                }
                Err(error) => {
                    // Over the rate limit: exactly as long as tokend said;
                    // otherwise the next step of the backoff.
                    let wait = error.retry_after.unwrap_or_else(|| jittered(backoff));
                    if !error.is_retryable() || started.elapsed() + wait > RETRY_BUDGET {
                        return Err(error);
                    }
                    tokio::time::sleep(wait).await;
                    if error.retry_after.is_none() {
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// Between half and all of `backoff`, so many clients do not retry in step.
fn jittered(backoff: Duration) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    backoff / 2 + backoff.mul_f64(f64::from(nanos % 1000) / 2000.0)
}
