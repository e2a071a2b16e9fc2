//! The client registry: who the clients are, and whether a presented secret is theirs.

mod admission;
mod cache;
mod changes;
mod check_counts;
mod issuers;
mod manage;
mod rows;
mod single_flight;
mod throttle;

use std::{net::IpAddr, sync::Arc};

use crate::{
    authority::{AuthError, Clock, SecretHasher, tokens::random_tag},
    domain::{Client, ClientId, ClientSecret, SecretId, SecretMaxAge},
    store::{EventRow, SecretRow, Store},
};

use admission::Admissions;
use cache::{RegistryCache, SecretTag};
use changes::FeedPosition;
use check_counts::CheckCounts;
pub use check_counts::CheckResult;
use issuers::TrustedIssuers;
pub use manage::{AuthDraft, ClientChanges, ClientDraft, ClientPage, IdentityDraft};
use single_flight::{Checks, Turn};
use throttle::Throttle;
pub use throttle::{FailureLimits, ThrottleCounts};

/// How stale a secret's `last_used_at` may grow before a use is written down;
/// keeps the store out of the way of every token request.
const LAST_USED_RESOLUTION: i64 = 60;
/// A verified secret used this close to dropping out of the cache is renewed.
const RENEW_WITHIN_SECONDS: i64 = cache::TTL_SECONDS / 4;

/// How long a secret just found good may be trusted from memory: the cache's
/// lifetime, never past the secret's own expiry.
fn verified_until(row: &SecretRow, now: i64) -> i64 {
    row.expires_at.map_or(now + cache::TTL_SECONDS, |at| at.min(now + cache::TTL_SECONDS))
}

/// Clones share one cache, so every clone sees what any of them changed.
#[derive(Clone)]
pub struct Registry {
    store: Store,
    hasher: SecretHasher,
    clock: Clock,
    cache: Arc<RegistryCache>,
    feed: Arc<FeedPosition>,
    checks: Arc<Checks>,
    admissions: Arc<Admissions>,
    /// How long new secrets live when their client sets nothing (`--secret-max-age`).
    secret_max_age: Option<SecretMaxAge>,
    throttle: Arc<Throttle>,
    issuers: Arc<TrustedIssuers>,
    counts: Arc<CheckCounts>,
}

impl Registry {
    pub fn new(store: Store, hasher: SecretHasher, clock: Clock) -> Self {
        let feed = Arc::new(FeedPosition::new(clock.now()));
        Self {
            store,
            hasher,
            clock,
            cache: Arc::new(RegistryCache::new()),
            feed,
            checks: Arc::default(),
            admissions: Arc::default(),
            secret_max_age: None,
            throttle: Arc::new(Throttle::new(FailureLimits::default(), random_tag::<8>())),
            issuers: Arc::default(),
            counts: Arc::default(),
        }
    }

    /// Refuses cold checks past these failure counts (see `throttle`).
    pub fn with_failure_limits(mut self, limits: FailureLimits) -> Self {
        self.throttle = Arc::new(Throttle::new(limits, random_tag::<8>()));
        self
    }

    /// Shares this instance's failure counts with the others and reads
    /// theirs; returns the audit events of throttling started or ended.
    pub async fn sync_failures(&self, now: i64) -> Result<Vec<EventRow>, AuthError> {
        self.throttle.sync(&self.store, now).await
    }

    /// Gives new secrets of clients that set no max age of their own this one.
    pub fn with_secret_max_age(mut self, max_age: Option<SecretMaxAge>) -> Self {
        self.secret_max_age = max_age;
        self
    }

    /// The client whose id and secret these are; `None` when they are not.
    /// A secret verified in the last minute is recognised from memory;
    /// otherwise argon2 decides, once for all who present the same
    /// credentials at the same time, when they name a live secret of an
    /// active client (see `cold_check`); a secret of a shape no client can
    /// have costs nothing at all. Failures are never cached, so they cannot
    /// crowd out good entries. A cold check needs a place in the
    /// argon2 queue within the fair share of its client id and of `address`
    /// (see `admission`), or the caller is told to retry.
    pub async fn authenticate(
        &self,
        client_id: &ClientId,
        secret: &ClientSecret,
        address: Option<IpAddr>,
    ) -> Result<Option<Arc<Client>>, AuthError> {
        let client_id = client_id.as_str();
        // Not the shape of any secret tokend issues (a typo, a guess): no
        // secret can match it, so no store or argon2 work is spent on it.
        let Some(secret_id) = secret.claimed_id() else {
            self.counts.record(CheckResult::Malformed);
            return Ok(None);
        };
        let now = self.clock.now();
        let tag = self.cache.tag(secret);
        if let Some(until) = self.cache.verified_until(client_id, &tag, now)
            && let Some(client) = self.active_client(client_id).await?
        {
            if until - now <= RENEW_WITHIN_SECONDS {
                self.renew_in_background(client_id, &secret_id, tag);
            }
            self.counts.record(CheckResult::CacheHit);
            return Ok(Some(client));
        }
        loop {
            match self.checks.join(client_id, tag) {
                Turn::Lead(lead) => {
                    let outcome = self.cold_check(client_id, &secret_id, secret, tag, address, now).await?;
                    lead.finish(outcome.clone());
                    return Ok(outcome);
                }
                Turn::Wait(waiting) => {
                    if let Some(outcome) = single_flight::outcome(waiting).await {
                        self.counts.record(CheckResult::Shared);
                        return Ok(outcome);
                    }
                }
            }
        }
    }

    /// The check the caller leads. Client ids and secret ids are not secrets
    /// (they are in tokens, metrics and the console), so credentials naming a
    /// client or secret that does not exist, a secret of another client, an
    /// expired one or a disabled client are answered at once: the time this
    /// saves tells a guesser nothing it could not read elsewhere, and only
    /// guesses against a real client's real secret cost argon2, within what
    /// the throttle and the queue's fair shares admit for that client.
    async fn cold_check(
        &self,
        client_id: &str,
        secret_id: &SecretId,
        secret: &ClientSecret,
        tag: SecretTag,
        address: Option<IpAddr>,
        now: i64,
    ) -> Result<Option<Arc<Client>>, AuthError> {
        let Some((client, row)) = self.candidate(client_id, secret_id, now).await? else {
            self.counts.record(CheckResult::Unknown);
            return Ok(None);
        };
        if !self.throttle.admits(client_id, address, now) {
            self.counts.record(CheckResult::Busy);
            return Err(AuthError::Busy(
                "too many failed authentications for this client or from this address; retry in a few seconds"
                    .into(),
            ));
        }
        let _place = self
            .admissions
            .admit(client_id, address)
            .inspect_err(|_| self.counts.record(CheckResult::Busy))?;
        if !self.hasher.verify(secret, &row.secret_hash).await? {
            self.counts.record(CheckResult::Argon2Failed);
            self.throttle.record_failure(client_id, address, now);
            return Ok(None);
        }
        self.counts.record(CheckResult::Argon2Ok);
        self.throttle.record_success(client_id, address, now);
        self.cache.remember_verified(client_id, tag, verified_until(&row, now), now);
        self.note_use_in_background(row, now);
        Ok(Some(client))
    }

    /// Throttling started, ended and in force, per kind of subject.
    pub fn throttle_counts(&self) -> Vec<ThrottleCounts> {
        self.throttle.counts()
    }

    /// How credential checks ended since start, and how many argon2 jobs wait now.
    pub fn credential_counts(&self) -> (Vec<(CheckResult, u64)>, u64) {
        (self.counts.snapshot(), self.hasher.queue_depth())
    }

    /// Extends a verified secret that is in use and about to drop out of the
    /// cache, off the request path: the secret passed argon2 before, so
    /// reading that it is still the live secret of an active client is
    /// enough, and a client in steady use never waits on argon2 again. Runs
    /// as the single check of these credentials, so callers that miss the
    /// cache meanwhile wait for it rather than start argon2.
    fn renew_in_background(&self, client_id: &str, secret_id: &SecretId, tag: SecretTag) {
        let (registry, client_id, secret_id) = (self.clone(), client_id.to_owned(), secret_id.clone());
        tokio::spawn(async move {
            let Turn::Lead(lead) = registry.checks.join(&client_id, tag) else {
                return;
            };
            let now = registry.clock.now();
            match registry.candidate(&client_id, &secret_id, now).await {
                Ok(Some((client, row))) => {
                    registry.cache.remember_verified(&client_id, tag, verified_until(&row, now), now);
                    lead.finish(Some(client));
                }
                // Rotated away, expired, disabled or deleted: let the entry run out.
                Ok(None) => lead.finish(None),
                Err(err) => tracing::debug!(error = %err, "could not renew a cached credential"),
            }
        });
    }

    /// The registry's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// How many secrets argon2 has checked since start, for metrics and tests.
    pub fn argon2_checks(&self) -> u64 {
        self.hasher.verifications()
    }

    /// The client if it exists and is active; `None` otherwise.
    pub async fn active_client(&self, client_id: &str) -> Result<Option<Arc<Client>>, AuthError> {
        let now = self.clock.now();
        if let Some(client) = self.cache.client(client_id, now) {
            return Ok(Some(client));
        }
        let Ok(id) = ClientId::parse(client_id) else {
            return Ok(None);
        };
        match self.store.client(id.as_str()).await? {
            Some(row) if row.disabled_at.is_none() => {
                let client = Arc::new(Client::try_from(row)?);
                self.cache.remember_client(client.clone(), now);
                Ok(Some(client))
            }
            _ => Ok(None),
        }
    }

    /// The active client and the live secret the presented one claims to be.
    /// Both rows are fetched together, so a missing client costs no less time.
    async fn candidate(
        &self,
        client_id: &str,
        secret_id: &SecretId,
        now: i64,
    ) -> Result<Option<(Arc<Client>, SecretRow)>, AuthError> {
        let (client, row) =
            tokio::join!(self.active_client(client_id), self.store.secret(secret_id.as_str()));
        let (Some(client), Some(row)) = (client?, row?) else {
            return Ok(None);
        };
        let belongs = row.client_id == client.id.as_str();
        let live = row.expires_at.is_none_or(|at| at > now);
        Ok((belongs && live).then_some((client, row)))
    }

    /// Writes down when a secret was used, at most once a minute, off the
    /// request path: the write (a commit, with its fsync) would otherwise
    /// hold up the caller and everyone waiting on the same check. A failed
    /// write costs only the accuracy of `last_used_time`, so it fails no request.
    fn note_use_in_background(&self, row: SecretRow, now: i64) {
        if row.last_used_at.is_some_and(|at| now - at < LAST_USED_RESOLUTION) {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(err) = store.touch_secret(&row.secret_id, now).await {
                tracing::warn!(error = %err, "could not record a secret's last use");
            }
        });
    }

    /// A new secret for `client` and the row that stores its hash. It
    /// expires after the client's secret max age, or the server's.
    async fn new_secret(&self, client: &Client, now: i64) -> Result<(ClientSecret, SecretRow), AuthError> {
        let (secret_id, secret) = ClientSecret::generate();
        let max_age = client.secret_max_age.or(self.secret_max_age);
        let row = SecretRow {
            secret_id: secret_id.to_string(),
            client_id: client.id.to_string(),
            secret_hash: self.hasher.hash(&secret).await?,
            created_at: now,
            expires_at: max_age.map(|age| now + age.seconds()),
            last_used_at: None,
        };
        Ok((secret, row))
    }
}
