//! The core of tokend: authenticate clients, decide scopes and audiences, mint
//! and check tokens, manage clients. It knows nothing of gRPC or HTTP; the
//! adapters translate to and from the types here.
//!
//! - `authenticate/` decides who the caller is, for every kind of call, in
//!   one place: `credentials` parses what a caller presented, `assertions`
//!   checks signed JWTs.
//! - `tokens/`: the codec that mints and checks JWTs, the grants (issue,
//!   exchange) and their rate limits, introspection and revocation.
//! - `keys/`: the signing keys (ring, sealing, rotation).
//! - `secrets/`: whether a presented secret is the client's (argon2, the
//!   verified-secret cache, single flight, throttle, fair shares).
//! - `registry/`: client records, trusted issuers and the active-client cache.
//! - `dpop/`: the DPoP proof of a token request (RFC 9449), whose key the
//!   token is bound to.
//! - `status/`: the Token Status Lists tokens point into, so verifiers
//!   learn of revocations without asking.
//! - `txn/`: Transaction Tokens, minted at the edge of the trust domain by
//!   token exchange and carried through the call chain behind it.
//! - `audit`: the audit trail of every change, its live stream, the issuance log.

mod audit;
mod authenticate;
mod clock;
mod dpop;
mod error;
mod feed;
mod fleet;
mod keys;
mod paging;
mod registration;
mod registry;
mod secrets;
mod status;
mod tokens;
mod txn;
mod vitals;

use std::sync::Arc;

use crate::{
    domain::{Audience, SecretMaxAge},
    store::{Notice, Store},
};

pub use audit::{
    Actor, AuditEvent, AuditSettings, AuditTrail, DEFAULT_RETENTION_SECONDS, EventPage, EventQuery,
    EventType, IssuanceLog,
};
use authenticate::Assertions;
#[cfg(feature = "fuzzing")]
use authenticate::Credential;
pub use authenticate::{AssertionSettings, BodyCredentials, Caller, OutboundPolicy, Policy, Presented};
pub use clock::Clock;
use dpop::Dpop;
pub use dpop::{DpopPresented, DpopSettings, PROOF_ALGORITHMS};
pub use error::AuthError;
use error::BAD_CREDENTIALS;
use fleet::Fleet;
pub use keys::{
    Hsm, HsmSettings, INTROSPECTION_TYP, KeyCustody, KeyInfo, KeyListing, KeyPolicy, KeyRing, KeySealer,
    RsaKeySize, SigningAlgorithm, create_private,
};
pub use registration::{
    MetadataPolicy, REGISTER_SCOPE, REGISTRATION_PATH, RegistrationMode, RegistrationSettings,
};
pub use registry::{
    AuthDraft, ClientChanges, ClientDraft, ClientKeyAlgorithm, ClientKeyPair, ClientPage, IdentityDraft,
    KeyFileFormat, PrivateKeyFile, Registry,
};
pub use secrets::{CheckResult, FailureLimits, Secrets, ThrottleCounts};
use status::StatusLists;
pub use status::{PublishedList, STATUS_PATH, StatusListEntry, StatusListSettings, TokenStatus};
use tokens::Revocations;
pub use tokens::{
    ACCESS_TOKEN_TYPE, AccessClaims, Act, Confirmation, Exchange, Grant, Introspected, Introspection,
    IssuedToken, RateLimits, Subject, TOKEN_EXCHANGE, TokenCodec, TokenRequest,
};
pub use txn::{REQUESTER_CHAIN, TXN_TOKEN_TYPE, TxnClaims, TxnSettings};
pub use vitals::Vitals;

pub use tokend_common::wire::{ADMIN_SCOPE, INTROSPECT_SCOPE};

/// Parses and reconciles presented credentials as every call does, for the fuzz targets.
#[cfg(feature = "fuzzing")]
pub fn fuzz_credentials(authorization: Vec<&[u8]>, client_id: String, client_secret: String) {
    let body = BodyCredentials { client_id, client_secret, ..BodyCredentials::default() };
    let presented = Presented { authorization, body, ..Presented::default() };
    let _ = Credential::from_presented(presented);
}

/// What the authority needs to know about where it runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `iss` of every token, and the only issuer accepted back.
    pub issuer: String,
    /// The `aud` of tokens for clients that have no audiences of their own.
    pub default_audience: Audience,
    /// The algorithm new tokens are signed with.
    pub algorithm: SigningAlgorithm,
    /// When signing keys rotate and retire by themselves.
    pub key_policy: KeyPolicy,
    /// Where signing keys are kept: sealed under the key-encryption key,
    /// or in an HSM; and how long new RSA keys are.
    pub key_custody: KeyCustody,
    /// How long new secrets live when their client sets nothing; `None` for ever.
    pub secret_max_age: Option<SecretMaxAge>,
    /// Failed authentications past which cold checks are refused for a while.
    pub failure_limits: FailureLimits,
    /// How client assertions are checked.
    pub assertions: AssertionSettings,
    /// How long the audit trail is kept, and whether issuance is logged.
    pub audit: AuditSettings,
    /// How DPoP proofs are checked.
    pub dpop: DpopSettings,
    /// Whether tokens point into Token Status Lists, and their `ttl`.
    pub status_lists: StatusListSettings,
    /// The trust domain of Transaction Tokens, and how long they live.
    pub txn: TxnSettings,
    /// Who may register clients dynamically (RFC 7591), and what.
    pub registration: RegistrationSettings,
}

impl Settings {
    /// Settings with defaults for everything that has one.
    pub fn new(
        issuer: String,
        default_audience: Audience,
        algorithm: SigningAlgorithm,
        key_sealer: Arc<KeySealer>,
    ) -> Self {
        Self {
            txn: TxnSettings::for_issuer(&issuer),
            issuer,
            default_audience,
            algorithm,
            key_policy: KeyPolicy::default(),
            key_custody: KeyCustody::sealed(key_sealer),
            secret_max_age: None,
            failure_limits: FailureLimits::default(),
            assertions: AssertionSettings::default(),
            audit: AuditSettings::default(),
            dpop: DpopSettings::default(),
            status_lists: StatusListSettings::default(),
            registration: RegistrationSettings::default(),
        }
    }
}

/// What operators work with: the client registry (clients, secrets, trusted
/// issuers) and the audit trail, built one way for `serve` (inside
/// [`Authority::start`]), for every CLI command and for the tests.
pub struct Admin {
    pub registry: Registry,
    pub audit: AuditTrail,
    /// The secret check the registry's clients are authenticated with.
    pub secrets: Secrets,
}

impl Admin {
    /// The registry and audit trail on `store`, reading `clock`, as `settings` say.
    pub fn open(store: &Store, clock: &Clock, settings: AdminSettings) -> Self {
        let secrets = Secrets::new(store.clone(), clock.clone(), settings.failure_limits);
        let registry = Registry::new(store.clone(), clock.clone(), secrets.clone())
            .with_secret_max_age(settings.secret_max_age);
        Self { registry, secrets, audit: AuditTrail::new(store.clone(), clock.clone(), settings.audit) }
    }
}

/// The part of [`Settings`] the operator's parts need.
#[derive(Debug, Clone, Default)]
pub struct AdminSettings {
    pub secret_max_age: Option<SecretMaxAge>,
    pub failure_limits: FailureLimits,
    pub audit: AuditSettings,
}

/// The token authority: one per process, shared by every adapter.
pub struct Authority {
    store: Store,
    registry: Registry,
    secrets: Secrets,
    assertions: Assertions,
    tokens: TokenCodec,
    /// Shared with the follower of other instances' revocations.
    revocations: Arc<Revocations>,
    /// The status lists tokens point into.
    status_lists: StatusLists,
    rate_limits: RateLimits,
    /// The instances on this database: how many share each rate limit, and
    /// which one writes the fleet's throttling events.
    fleet: Arc<Fleet>,
    audit: AuditTrail,
    default_audience: Audience,
    algorithm: SigningAlgorithm,
    key_policy: KeyPolicy,
    key_custody: KeyCustody,
    /// Checks the DPoP proofs of token requests.
    dpop: Dpop,
    /// The trust domain of Transaction Tokens, and how long they live.
    txn: TxnSettings,
    /// Dynamic client registration's settings and per-address counts.
    registrations: registration::Registrations,
    clock: Clock,
    /// Drops cached clients as other instances announce changes; stopped with the authority.
    change_notices: Option<tokio::task::AbortHandle>,
    /// Woken when another instance (or the CLI) announces that the signing keys changed.
    key_changes: Arc<tokio::sync::Notify>,
}

impl Drop for Authority {
    fn drop(&mut self) {
        if let Some(task) = &self.change_notices {
            task.abort();
        }
    }
}

impl Authority {
    /// Loads (or on first start creates) the signing key and readies the registry.
    pub async fn start(store: Store, settings: Settings) -> Result<Self, AuthError> {
        let clock = Clock::system();
        let key_custody = settings.key_custody;
        let keys = KeyRing::load_or_create(&store, settings.algorithm, clock.now(), &key_custody).await?;
        store.record_key_schedule(&settings.key_policy.to_row(settings.algorithm, clock.now())).await?;
        let admin_settings = AdminSettings {
            secret_max_age: settings.secret_max_age,
            failure_limits: settings.failure_limits,
            audit: settings.audit,
        };
        let Admin { registry, audit, secrets } = Admin::open(&store, &clock, admin_settings);
        let key_changes = Arc::new(tokio::sync::Notify::new());
        let status_lists = StatusLists::new(settings.status_lists, store.clone(), &settings.issuer);
        let revocations = Arc::new(Revocations::load(store.clone(), clock.now()).await?);
        let fleet = Arc::new(Fleet::new(secrets.instance().to_owned()));
        fleet.join(&store, clock.now()).await?;
        let change_notices = store.change_notices().map(|mut notices| {
            let (registry, key_changes) = (registry.clone(), key_changes.clone());
            let (revoked, clock) = (revocations.clone(), clock.clone());
            let (fleet, store) = (fleet.clone(), store.clone());
            let status_changes = status_lists.changes().clone();
            let follow = async move {
                while let Some(notice) = notices.recv().await {
                    match notice {
                        Notice::Client(client_id) => {
                            registry.forget_cached(&client_id);
                            status_changes.mark();
                        }
                        Notice::Keys => key_changes.notify_one(),
                        Notice::Revoked { jti, expires_at } => {
                            revoked.remember(jti, expires_at, clock.now());
                            status_changes.mark();
                        }
                        Notice::Issuers => {
                            if let Err(err) = registry.reload_issuers().await {
                                tracing::warn!(error = %err, "could not read trusted issuers");
                            }
                        }
                        Notice::Fleet => {
                            if let Err(err) = fleet.recount(&store, clock.now()).await {
                                tracing::warn!(error = %err, "could not count the instances alive");
                            }
                        }
                    }
                }
            };
            tokio::spawn(follow).abort_handle()
        });
        let dpop =
            Dpop::new(settings.dpop, &settings.issuer, key_custody.sealer.derive("tokend dpop nonces"));
        Ok(Self {
            dpop,
            txn: settings.txn,
            registrations: registration::Registrations::new(settings.registration),
            assertions: Assertions::new(&settings.issuer, settings.assertions, store.clone(), clock.clone())?,
            revocations,
            rate_limits: RateLimits::new(fleet.clone()),
            fleet,
            status_lists,
            audit,
            registry,
            secrets,
            change_notices,
            key_changes,
            tokens: TokenCodec::new(keys, settings.issuer, clock.clone()),
            clock,
            default_audience: settings.default_audience,
            algorithm: settings.algorithm,
            key_policy: settings.key_policy,
            key_custody,
            store,
        })
    }

    /// The clock every part of the authority reads; tests move it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The issuer's identifier, the `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        self.tokens.issuer()
    }

    /// The client registry without an authorization check, for callers in this
    /// process that are trusted already (tests, benchmarks). Sharing it shares
    /// the caches, so changes made through it are seen by the server at once.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The secret check, for reading its counts (tests, benchmarks).
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The audit trail, for reading events; changes record their own.
    pub fn audit(&self) -> &AuditTrail {
        &self.audit
    }

    /// The signing keys, for publishing their public halves.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.tokens.keys()
    }

    /// Follows whether the store answers, as calls and health checks find it.
    pub fn readiness(&self) -> tokio::sync::watch::Receiver<bool> {
        self.store.readiness()
    }

    /// Asks the store whether it answers; the answer reaches [`Self::readiness`].
    pub async fn check_store(&self) {
        let _ = self.store.ping().await;
    }

    /// Periodic upkeep: picks up revocations, client changes and signing keys
    /// that other instances (or the CLI) recorded, and forgets expired
    /// revocations. Failures are logged; the next round retries.
    pub async fn maintain(&self) {
        if let Err(err) = self.revocations.sync(self.clock.now()).await {
            tracing::warn!(error = %err, "could not sync revocations");
        }
        if let Err(err) = self.registry.follow_changes(self.clock.now()).await {
            tracing::warn!(error = %err, "could not follow client changes");
        }
        if let Err(err) = self.fleet.beat(&self.store, self.clock.now()).await {
            tracing::warn!(error = %err, "could not note this instance's heartbeat");
        }
        match self.secrets.sync_failures(self.clock.now()).await {
            // Every instance sees throttling start and end; one writes it down.
            Ok(events) if events.is_empty() || !self.fleet.leads() => {}
            Ok(events) => {
                if let Err(err) = self.audit.record(&events).await {
                    tracing::warn!(error = %err, "could not record throttling in the audit trail");
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not share failed-authentication counts"),
        }
        if let Err(err) = self.audit.maintain().await {
            tracing::warn!(error = %err, "could not write or prune audit events");
        }
        if let Err(err) = self.registry.reload_issuers().await {
            tracing::warn!(error = %err, "could not read trusted issuers");
        }
        if let Err(err) = self.assertions.forget_expired(self.clock.now()).await {
            tracing::warn!(error = %err, "could not forget expired assertion ids");
        }
        if let Err(err) = self.status_lists.maintain(self.clock.now()).await {
            tracing::warn!(error = %err, "could not remove expired status lists");
        }
        self.dpop.forget_expired(self.clock.now());
        if let Err(err) = self.forget_unused_registrations().await {
            tracing::warn!(error = %err, "could not remove unused registrations");
        }
        let schedule = KeyRing::follow_schedule(
            &self.store,
            &self.clock,
            self.algorithm,
            &self.key_policy,
            &self.key_custody,
        );
        if let Err(err) = schedule.await {
            tracing::warn!(error = %err, "could not rotate or retire signing keys on schedule");
        }
        self.refresh_keys().await;
    }

    /// How many instances serve on this database, this one included, as
    /// this one last counted them.
    pub fn fleet_size(&self) -> u32 {
        self.fleet.size()
    }

    /// Takes this instance out of the fleet as it stops, so the others take
    /// over its share of every rate limit at once.
    pub async fn leave_fleet(&self) {
        if let Err(err) = self.fleet.leave(&self.store).await {
            tracing::warn!(error = %err, "could not leave the fleet; the others notice within {} s", fleet::ALIVE_FOR);
        }
    }

    /// Reads the signing keys again when keys were added or retired anywhere,
    /// or a pending key's time to sign has come.
    pub async fn refresh_keys(&self) {
        match self
            .tokens
            .keys()
            .refreshed(&self.store, self.algorithm, &self.key_custody, self.clock.now())
            .await
        {
            Ok(Some(keys)) => self.tokens.replace_keys(keys),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "could not refresh signing keys"),
        }
    }

    /// Completes when another instance or the CLI announces that the signing
    /// keys changed (PostgreSQL only; never on SQLite).
    pub async fn key_change_announced(&self) {
        self.key_changes.notified().await;
    }

    /// How long verifiers may cache the JWKS (`Cache-Control: max-age`).
    pub fn jwks_max_age(&self) -> u64 {
        self.key_policy.jwks_max_age()
    }

    /// The client registry, for a caller whose bearer token carries
    /// `tokend.admin`, and the caller as the audit trail names it.
    pub async fn admin(&self, presented: Presented<'_>) -> Result<(&Registry, Actor), AuthError> {
        let address = presented.peer.as_ref().map(|peer| peer.address);
        let caller = self.authenticate(presented, Policy::Admin).await?;
        Ok((&self.registry, Actor::admin(&caller.client_id, address)))
    }
}
