//! The secret check: whether a presented client secret is the client's, at
//! the least cost the answer allows. Everything between the form and argon2
//! lives here: the verified-secret cache, one check for many identical
//! callers (`single_flight`), the throttle and the queue's fair shares
//! (`admission`), the argon2 pool (`hasher`) and the counts for metrics.
//! Client records come from the registry, through [`ActiveClients`].

mod admission;
mod check_counts;
mod hasher;
mod single_flight;
mod throttle;
mod verified;

use std::{future::Future, net::IpAddr, sync::Arc};

use crate::{
    authority::{AuthError, Clock, tokens::random_tag},
    domain::{Client, ClientId, ClientSecret, SecretId},
    store::{EventRow, SecretRow, Store},
};

use admission::Admissions;
use check_counts::CheckCounts;
pub use check_counts::CheckResult;
use hasher::SecretHasher;
use single_flight::{Checks, Turn};
use throttle::Throttle;
pub use throttle::{FailureLimits, ThrottleCounts};
use verified::{SecretTag, VerifiedSecrets};

/// How stale a secret's `last_used_at` may grow before a use is written down;
/// keeps the store out of the way of every token request.
const LAST_USED_RESOLUTION: i64 = 60;
/// A verified secret used this close to dropping out of the cache is renewed.
const RENEW_WITHIN_SECONDS: i64 = verified::TTL_SECONDS / 4;

/// Where the secret check finds the client a secret claims to belong to:
/// the registry, with its cache of active clients.
pub trait ActiveClients: Clone + Send + Sync + 'static {
    /// The client if it exists and is active; `None` otherwise.
    fn active_client(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<Option<Arc<Client>>, AuthError>> + Send;
}

/// How long a secret just found good may be trusted from memory: the cache's
/// lifetime, never past the secret's own expiry.
fn verified_until(row: &SecretRow, now: i64) -> i64 {
    row.expires_at.map_or(now + verified::TTL_SECONDS, |at| at.min(now + verified::TTL_SECONDS))
}

/// One per process; clones share everything, so a secret verified through
/// one is known to all and a client forgotten through one is forgotten by all.
#[derive(Clone)]
pub struct Secrets {
    store: Store,
    clock: Clock,
    hasher: SecretHasher,
    verified: Arc<VerifiedSecrets>,
    checks: Arc<Checks>,
    admissions: Arc<Admissions>,
    throttle: Arc<Throttle>,
    counts: Arc<CheckCounts>,
}

impl Secrets {
    /// Cold checks are refused past `limits` (see `throttle`).
    pub fn new(store: Store, clock: Clock, limits: FailureLimits) -> Self {
        Self {
            store,
            clock,
            hasher: SecretHasher::new(),
            verified: Arc::new(VerifiedSecrets::new()),
            checks: Arc::default(),
            admissions: Arc::default(),
            throttle: Arc::new(Throttle::new(limits, random_tag::<8>())),
            counts: Arc::default(),
        }
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
    pub async fn check(
        &self,
        clients: &impl ActiveClients,
        client_id: &ClientId,
        secret: &ClientSecret,
        address: Option<IpAddr>,
    ) -> Result<Option<Arc<Client>>, AuthError> {
        // Not the shape of any secret tokend issues (a typo, a guess): no
        // secret can match it, so no store or argon2 work is spent on it.
        let Some(secret_id) = secret.claimed_id() else {
            self.counts.record(CheckResult::Malformed);
            return Ok(None);
        };
        let now = self.clock.now();
        let tag = self.verified.tag(secret);
        if let Some(until) = self.verified.verified_until(client_id.as_str(), &tag, now)
            && let Some(client) = clients.active_client(client_id).await?
        {
            if until - now <= RENEW_WITHIN_SECONDS {
                self.renew_in_background(clients, client_id, &secret_id, tag);
            }
            self.counts.record(CheckResult::CacheHit);
            return Ok(Some(client));
        }
        loop {
            match self.checks.join(client_id.as_str(), tag) {
                Turn::Lead(lead) => {
                    let outcome =
                        self.cold_check(clients, client_id, &secret_id, secret, tag, address).await?;
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
        clients: &impl ActiveClients,
        client_id: &ClientId,
        secret_id: &SecretId,
        secret: &ClientSecret,
        tag: SecretTag,
        address: Option<IpAddr>,
    ) -> Result<Option<Arc<Client>>, AuthError> {
        let now = self.clock.now();
        let Some((client, row)) = self.candidate(clients, client_id, secret_id, now).await? else {
            self.counts.record(CheckResult::Unknown);
            return Ok(None);
        };
        let client_id = client_id.as_str();
        if !self.throttle.admits(client_id, address, &tag, now) {
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
        self.throttle.record_success(client_id, address, tag, now);
        self.verified.remember(client_id, tag, verified_until(&row, now), now);
        self.note_use_in_background(row, now);
        Ok(Some(client))
    }

    /// Extends a verified secret that is in use and about to drop out of the
    /// cache, off the request path: the secret passed argon2 before, so
    /// reading that it is still the live secret of an active client is
    /// enough, and a client in steady use never waits on argon2 again. Runs
    /// as the single check of these credentials, so callers that miss the
    /// cache meanwhile wait for it rather than start argon2.
    fn renew_in_background(
        &self,
        clients: &impl ActiveClients,
        client_id: &ClientId,
        secret_id: &SecretId,
        tag: SecretTag,
    ) {
        let (secrets, clients) = (self.clone(), clients.clone());
        let (client_id, secret_id) = (client_id.clone(), secret_id.clone());
        tokio::spawn(async move {
            let Turn::Lead(lead) = secrets.checks.join(client_id.as_str(), tag) else {
                return;
            };
            let now = secrets.clock.now();
            match secrets.candidate(&clients, &client_id, &secret_id, now).await {
                Ok(Some((client, row))) => {
                    secrets.verified.remember(client_id.as_str(), tag, verified_until(&row, now), now);
                    lead.finish(Some(client));
                }
                // Rotated away, expired, disabled or deleted: let the entry run out.
                Ok(None) => lead.finish(None),
                Err(err) => tracing::debug!(error = %err, "could not renew a cached credential"),
            }
        });
    }

    /// The active client and the live secret the presented one claims to be.
    /// Both rows are fetched together, so a missing client costs no less time.
    async fn candidate(
        &self,
        clients: &impl ActiveClients,
        client_id: &ClientId,
        secret_id: &SecretId,
        now: i64,
    ) -> Result<Option<(Arc<Client>, SecretRow)>, AuthError> {
        let (client, row) =
            tokio::join!(clients.active_client(client_id), self.store.secret(secret_id.as_str()));
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

    /// The argon2id hash of a new secret, for storing.
    pub async fn hash(&self, secret: &ClientSecret) -> Result<String, AuthError> {
        self.hasher.hash(secret).await
    }

    /// The id that names this instance among those on one database.
    pub fn instance(&self) -> &str {
        self.throttle.instance()
    }

    /// Whether `secret` is the one `phc` is the argon2id hash of, for
    /// secrets other than a client's (registration access tokens).
    pub async fn verify(&self, secret: &ClientSecret, phc: &str) -> Result<bool, AuthError> {
        self.hasher.verify(secret, phc).await
    }

    /// Drops every verified secret of a client, after it (or one of its
    /// secrets) changed here or in another instance.
    pub fn forget(&self, client_id: &str) {
        self.verified.forget(client_id);
    }

    /// Shares this instance's failure counts with the others and reads
    /// theirs; returns the audit events of throttling started or ended.
    pub async fn sync_failures(&self, now: i64) -> Result<Vec<EventRow>, AuthError> {
        self.throttle.sync(&self.store, now).await
    }

    /// Throttling started, ended and in force, per kind of subject.
    pub fn throttle_counts(&self) -> Vec<ThrottleCounts> {
        self.throttle.counts()
    }

    /// How credential checks ended since start, and how many argon2 jobs wait now.
    pub fn credential_counts(&self) -> (Vec<(CheckResult, u64)>, u64) {
        (self.counts.snapshot(), self.hasher.queue_depth())
    }

    /// How many secrets argon2 has checked since start, for metrics and tests.
    pub fn argon2_checks(&self) -> u64 {
        self.hasher.verifications()
    }
}
