//! Client assertions (RFC 7521 §4.2, RFC 7523 §2.2–3): a JWT the client
//! signed with its own key (`private_key_jwt`), or a token a trusted
//! platform issued to a workload that one of the client's federated
//! identities names (workload identity federation). Every check is made in
//! memory against keys parsed once. A `private_key_jwt` assertion's `jti`
//! is recorded so it is accepted once across every instance (a store
//! write); a platform's token is meant to be presented many times within
//! its life, so its verification is remembered by its hash until it expires.
//!
//! - `jwt` reads an assertion and checks its signature;
//! - `published_keys` and `fetch` get keys from a `jwks_uri` or discovery,
//!   `outbound` keeps those fetches off addresses they may not reach;
//! - `used_ids` records `jti`s, many requests' in one commit.

mod fetch;
mod jwt;
mod outbound;
mod published_keys;
mod used_ids;

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use rustls::pki_types::CertificateDer;
use serde_json::{Map, Value};
use tokend_common::expiring::Expiring;

use super::credentials::AssertionKind;
use crate::authority::{AuthError, BAD_CREDENTIALS, Clock, Registry, tokens::Federated};
use crate::{
    domain::{AuthMethod, Client, ClientId, IssuerKeys, TrustedIssuer},
    store::{AssertionId, Store},
};
use fetch::Fetcher;
use jwt::Unverified;
pub use outbound::OutboundPolicy;
use outbound::Reach;
use published_keys::{KeyLocation, PublishedKeys};
use used_ids::UsedIds;

/// How far in the future an assertion's `iat` or `nbf` may lie, for clocks
/// that run a little ahead.
const LEEWAY_SECONDS: i64 = 30;
/// The longest `jti` recorded.
const MAX_JTI_LEN: usize = 256;
/// The explicit `typ` of a client assertion (draft-ietf-oauth-rfc7523bis).
pub const CLIENT_ASSERTION_TYP: &str = "client-authentication+jwt";
/// What a client is told of an assertion for another audience: the rule is
/// public and the mistake common (the token endpoint's URL), so it is named.
const WRONG_AUDIENCE: &str =
    "the assertion's aud must be this server's issuer identifier, alone (draft-ietf-oauth-rfc7523bis)";
/// The same of an assertion without the explicit type this server requires.
const UNTYPED: &str = "the assertion's typ must be client-authentication+jwt";
/// How long a software statement without `exp` is good for, from its `iat`.
const MAX_STATEMENT_AGE_SECONDS: i64 = 365 * 24 * 3600;
/// How many verified platform tokens are remembered.
const VERIFIED_CAPACITY: usize = 10_000;

/// How assertions are checked.
#[derive(Debug, Clone)]
pub struct AssertionSettings {
    /// How far away an assertion's `exp` may be (`--max-assertion-lifetime`).
    pub max_lifetime_seconds: i64,
    /// The same for a JWT bearer grant's assertion (`--max-grant-assertion-lifetime`).
    pub max_grant_lifetime_seconds: i64,
    /// Whether `private_key_jwt` assertions must carry the `typ`
    /// [`CLIENT_ASSERTION_TYP`] (`--require-explicit-assertion-typ`).
    pub require_explicit_typ: bool,
    /// CA certificates trusted when fetching keys, beside the public web's.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Which addresses those fetches may reach (`--outbound-allow`, `--outbound-deny-private`).
    pub outbound: OutboundPolicy,
}

impl Default for AssertionSettings {
    fn default() -> Self {
        Self {
            max_lifetime_seconds: 300,
            max_grant_lifetime_seconds: 3600,
            require_explicit_typ: false,
            extra_roots: Vec::new(),
            outbound: OutboundPolicy::default(),
        }
    }
}

/// Checks client assertions.
pub struct Assertions {
    /// The `aud` a client's own assertion must name, alone: the issuer.
    issuer: String,
    /// The `aud` values a platform's token may name when its trusted issuer
    /// sets none: the issuer and its token endpoint.
    audiences: Vec<String>,
    require_explicit_typ: bool,
    max_lifetime: i64,
    max_grant_lifetime: i64,
    keys: PublishedKeys,
    store: Store,
    used_ids: UsedIds,
    /// Platform tokens already verified, by the SHA-256 of their text.
    verified: Expiring<[u8; 32], Arc<VerifiedToken>>,
}

/// What a verified platform token says.
struct VerifiedToken {
    issuer: String,
    subject: String,
    claims: Map<String, Value>,
}

/// The client an assertion proves, and the workload when it came from a platform.
pub struct Proven {
    pub client: Arc<Client>,
    pub federated: Option<Federated>,
}

impl Assertions {
    pub fn new(
        issuer: &str,
        settings: AssertionSettings,
        store: Store,
        clock: Clock,
    ) -> Result<Self, AuthError> {
        let fetcher = Fetcher::new(&settings.extra_roots, settings.outbound).map_err(AuthError::internal)?;
        let token_endpoint = format!("{}{}", issuer.trim_end_matches('/'), tokend_common::wire::TOKEN_PATH);
        Ok(Self {
            issuer: issuer.to_owned(),
            audiences: vec![issuer.to_owned(), token_endpoint],
            require_explicit_typ: settings.require_explicit_typ,
            max_lifetime: settings.max_lifetime_seconds,
            max_grant_lifetime: settings.max_grant_lifetime_seconds,
            keys: PublishedKeys::new(fetcher, clock),
            used_ids: UsedIds::start(store.clone()),
            store,
            verified: Expiring::new(VERIFIED_CAPACITY),
        })
    }

    /// The client an assertion proves: a platform's token when its `iss` is
    /// a trusted issuer (for the client `claimed` names, which one of its
    /// federated identities must match), else the client's own assertion
    /// (`private_key_jwt`, or a JWT bearer grant's). Every refusal is the
    /// same `invalid_client` (`invalid_grant` for a grant); the log says
    /// which check failed.
    pub async fn authenticate(
        &self,
        registry: &Registry,
        claimed: Option<&ClientId>,
        token: &str,
        kind: AssertionKind,
        now: i64,
    ) -> Result<Proven, AuthError> {
        self.prove(registry, claimed, token, kind, now).await.map_err(|refused| match refused {
            Refused::Error(error) => error,
            Refused::Because(client_id, why) => refusal(kind, &client_id, &why),
            Refused::Told(client_id, told) => told_refusal(kind, &client_id, told),
        })
    }

    /// [`Self::authenticate`], with each refusal's reason kept for its answer.
    async fn prove(
        &self,
        registry: &Registry,
        claimed: Option<&ClientId>,
        token: &str,
        kind: AssertionKind,
        now: i64,
    ) -> Result<Proven, Refused> {
        let claimed_id = claimed.map_or("", ClientId::as_str);
        let because = |why: &str| Refused::Because(claimed_id.to_owned(), why.to_owned());
        let hash: [u8; 32] = digest(&SHA256, token.as_bytes()).as_ref().try_into().expect("32 bytes");
        if let Some(verified) = self.verified.get(&hash, now) {
            return self.federated_client(registry, claimed, &verified).await;
        }
        let assertion = Unverified::read(token).map_err(|why| because(&why))?;
        let issuer = match assertion.string("iss") {
            Some(iss) => registry.trusted_issuer(iss).await.map_err(Refused::Error)?,
            None => None,
        };
        match (issuer, kind) {
            (Some(issuer), _) => {
                let (verified, expires_at) =
                    self.verify_platform_token(&issuer, &assertion, now).await.map_err(because)?;
                let verified = Arc::new(verified);
                let proven = self.federated_client(registry, claimed, &verified).await?;
                if issuer.single_use {
                    self.use_once(&issuer.issuer, &assertion, expires_at)
                        .await
                        .map_err(Refused::Error)?
                        .map_err(because)?;
                } else {
                    self.verified.insert(hash, verified, expires_at, now);
                }
                Ok(proven)
            }
            (None, AssertionKind::JwtSpiffe) => Err(because("a JWT-SVID not from a trusted issuer")),
            (None, AssertionKind::JwtBearer) => {
                let client = self.private_key_jwt(registry, claimed, &assertion, now).await?;
                Ok(Proven { client, federated: None })
            }
            (None, AssertionKind::Grant) => {
                let rules = OwnAssertion {
                    max_lifetime: self.max_grant_lifetime,
                    jti_required: false,
                    typed: false,
                    // Whether it may use the grant is the grant rules' to say, once the key is proven.
                    eligible: |client| client.auth.jwks.is_some() || client.auth.jwks_uri.is_some(),
                    not_eligible: "no active client with registered keys has this id",
                };
                let client = self.own_assertion(registry, &assertion, now, rules).await?;
                Ok(Proven { client, federated: None })
            }
        }
    }

    /// Checks a platform's token against its issuer: audience, lifetime,
    /// signature. What it says, and until when that may be remembered.
    async fn verify_platform_token(
        &self,
        issuer: &TrustedIssuer,
        assertion: &Unverified<'_>,
        now: i64,
    ) -> Result<(VerifiedToken, i64), &'static str> {
        let accepted = match issuer.audiences.is_empty() {
            true => self.audiences.clone(),
            false => issuer.audiences.to_strings(),
        };
        if !assertion.has_audience(&accepted) {
            return Err("aud is not one this issuer's tokens may carry");
        }
        let expires_at = assertion.time("exp").ok_or("exp is missing")?;
        if expires_at <= now {
            return Err("it has expired");
        }
        let max_age = issuer.max_assertion_lifetime;
        match assertion.time("iat") {
            Some(iat) if iat > now + LEEWAY_SECONDS => return Err("iat is in the future"),
            Some(iat) if now - iat > max_age => {
                return Err("it is older than the issuer's longest assertion lifetime");
            }
            None if expires_at > now + max_age => {
                return Err("without iat, exp is further away than the issuer's longest assertion lifetime");
            }
            _ => {}
        }
        if assertion.time("nbf").is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
            return Err("nbf is in the future");
        }
        let subject =
            assertion.string("sub").filter(|sub| !sub.is_empty()).ok_or("sub is missing")?.to_owned();
        if !self.issuer_verifies(issuer, assertion).await {
            return Err("no key of the issuer verifies the signature");
        }
        let verified =
            VerifiedToken { issuer: issuer.issuer.clone(), subject, claims: assertion.claims.clone() };
        Ok((verified, expires_at))
    }

    /// Whether one of `issuer`'s keys, inline or published, verifies the signature.
    async fn issuer_verifies(&self, issuer: &TrustedIssuer, assertion: &Unverified<'_>) -> bool {
        match &issuer.keys {
            IssuerKeys::Inline(keys) => assertion.verifies_with(keys),
            IssuerKeys::Uri(uri) => {
                self.published_verifies(KeyLocation::Jwks(uri.clone(), Reach::Operator), assertion).await
            }
            IssuerKeys::Discovery(at) => {
                self.published_verifies(KeyLocation::Discovery(at.clone()), assertion).await
            }
        }
    }

    /// The claims of a software statement (RFC 7591 §2.3): a JWT a trusted
    /// issuer signed, not expired. `unapproved_software_statement` when its
    /// issuer is not trusted; `invalid_software_statement` for the rest,
    /// with the reason logged.
    pub async fn software_statement(
        &self,
        registry: &Registry,
        token: &str,
        now: i64,
    ) -> Result<Map<String, Value>, AuthError> {
        let invalid = |why: &str| {
            tracing::info!(reason = why, "software statement refused");
            AuthError::InvalidSoftwareStatement("the software statement is not valid".into())
        };
        let statement = Unverified::read(token).map_err(|why| invalid(&why))?;
        let issuer = match statement.string("iss") {
            Some(iss) => registry.trusted_issuer(iss).await?,
            None => None,
        };
        let Some(issuer) = issuer else {
            return Err(AuthError::UnapprovedSoftwareStatement(
                "the software statement's issuer is not a trusted issuer".into(),
            ));
        };
        // A statement is good until its exp, or for a year from its iat
        // without one: never forever.
        match (statement.time("exp"), statement.time("iat")) {
            (Some(exp), _) if exp <= now => return Err(invalid("it has expired")),
            (None, Some(iat)) if iat + MAX_STATEMENT_AGE_SECONDS <= now => {
                return Err(invalid("it has no exp and its iat is over a year old"));
            }
            (None, None) => {
                return Err(invalid("it says neither when it expires (exp) nor when it was made (iat)"));
            }
            _ => {}
        }
        if statement.time("nbf").is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
            return Err(invalid("nbf is in the future"));
        }
        if !self.issuer_verifies(&issuer, &statement).await {
            return Err(invalid("no key of the issuer verifies the signature"));
        }
        Ok(statement.claims)
    }

    /// The client `claimed` names, if one of its federated identities is
    /// the workload `verified` speaks for, and its issuer is still trusted.
    async fn federated_client(
        &self,
        registry: &Registry,
        claimed: Option<&ClientId>,
        verified: &VerifiedToken,
    ) -> Result<Proven, Refused> {
        let Some(claimed) = claimed else {
            return Err(Refused::Error(AuthError::InvalidRequest(
                "client_id is required with a platform's token".into(),
            )));
        };
        let because = |why: &str| Refused::Because(claimed.as_str().to_owned(), why.to_owned());
        if registry.trusted_issuer(&verified.issuer).await.map_err(Refused::Error)?.is_none() {
            return Err(because("the issuer is no longer trusted"));
        }
        let client = registry
            .active_client(claimed)
            .await
            .map_err(Refused::Error)?
            .ok_or_else(|| because("no active client has this id"))?;
        let identities = &client.auth.federated;
        if !identities
            .iter()
            .any(|identity| identity.matches(&verified.issuer, &verified.subject, &verified.claims))
        {
            return Err(because("no federated identity of the client matches the token"));
        }
        let federated = Federated { iss: verified.issuer.clone(), sub: verified.subject.clone() };
        Ok(Proven { client, federated: Some(federated) })
    }

    /// The client a `private_key_jwt` assertion proves, when `claimed` (the
    /// request's `client_id`, if sent) agrees.
    async fn private_key_jwt(
        &self,
        registry: &Registry,
        claimed: Option<&ClientId>,
        assertion: &Unverified<'_>,
        now: i64,
    ) -> Result<Arc<Client>, Refused> {
        if let (Some(claimed), Some(subject)) = (claimed, assertion.string("sub"))
            && claimed.as_str() != subject
        {
            return Err(Refused::Because(
                claimed.as_str().to_owned(),
                "client_id is not the assertion's sub".into(),
            ));
        }
        let rules = OwnAssertion {
            max_lifetime: self.max_lifetime,
            jti_required: true,
            typed: true,
            eligible: |client| client.auth.methods.contains(AuthMethod::PrivateKeyJwt),
            not_eligible: "no active client with private_key_jwt has this id",
        };
        self.own_assertion(registry, assertion, now, rules).await
    }

    /// The client an assertion of its own proves (`iss` = `sub` = its id),
    /// under `rules`: the claims, a registered or published key, the `jti`.
    async fn own_assertion(
        &self,
        registry: &Registry,
        assertion: &Unverified<'_>,
        now: i64,
        rules: OwnAssertion,
    ) -> Result<Arc<Client>, Refused> {
        let (Some(issuer), Some(subject)) = (assertion.string("iss"), assertion.string("sub")) else {
            return Err(Refused::Because(String::new(), "iss or sub is missing".into()));
        };
        if issuer != subject {
            return Err(Refused::Because(subject.to_owned(), "iss and sub differ".into()));
        }
        // draft-ietf-oauth-rfc7523bis: the issuer alone, so an assertion made
        // for another server (or a URL of this one's) is never accepted here.
        if !assertion.audience_is_only(&self.issuer) {
            return Err(Refused::Told(subject.to_owned(), WRONG_AUDIENCE));
        }
        if rules.typed && self.require_explicit_typ && !assertion.is_typed(CLIENT_ASSERTION_TYP) {
            return Err(Refused::Told(subject.to_owned(), UNTYPED));
        }
        let unknown = || Refused::Because(subject.to_owned(), rules.not_eligible.into());
        let subject_id = ClientId::parse(subject).map_err(|_| unknown())?;
        let client = registry
            .active_client(&subject_id)
            .await
            .map_err(Refused::Error)?
            .filter(|client| (rules.eligible)(client))
            .ok_or_else(unknown)?;
        let because = |why: &str| Refused::Because(subject.to_owned(), why.to_owned());
        let expires_at = check_lifetime(rules.max_lifetime, assertion, now).map_err(because)?;
        if !self.verifies(&client, assertion).await {
            return Err(because("no registered key verifies the signature"));
        }
        if rules.jti_required || assertion.string("jti").is_some() {
            self.use_once(subject, assertion, expires_at).await.map_err(Refused::Error)?.map_err(because)?;
        }
        Ok(client)
    }

    /// Records the assertion's `jti` under `issuer`; why it is refused when
    /// it has none (or one too long) or was used before.
    async fn use_once(
        &self,
        issuer: &str,
        assertion: &Unverified<'_>,
        expires_at: i64,
    ) -> Result<Result<(), &'static str>, AuthError> {
        let jti = assertion.string("jti").filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN);
        let Some(jti) = jti else {
            return Ok(Err("jti is missing or too long"));
        };
        let id = AssertionId { issuer: issuer.to_owned(), jti: jti.to_owned(), expires_at };
        Ok(match self.used_ids.record(id).await? {
            true => Ok(()),
            false => Err("its jti was used before (a replay)"),
        })
    }

    /// Whether one of the client's keys, registered or published, verifies
    /// the assertion. Published keys are fetched again for a `kid` not seen yet.
    async fn verifies(&self, client: &Client, assertion: &Unverified<'_>) -> bool {
        if let Some(keys) = &client.auth.jwks {
            return assertion.verifies_with(keys);
        }
        let Some(uri) = &client.auth.jwks_uri else {
            return false;
        };
        // Software that registered itself is trusted with the public web only.
        let reach = match client.registered_dynamically {
            true => Reach::Registrant,
            false => Reach::Operator,
        };
        self.published_verifies(KeyLocation::Jwks(uri.clone(), reach), assertion).await
    }

    /// Whether a key published at `location` verifies the assertion.
    async fn published_verifies(&self, location: KeyLocation, assertion: &Unverified<'_>) -> bool {
        let keys = self.keys.keys(&location, assertion.kid.as_deref()).await;
        keys.is_some_and(|keys| assertion.verifies_with(&keys))
    }

    /// Forgets the recorded ids of expired assertions.
    pub async fn forget_expired(&self, now: i64) -> Result<(), AuthError> {
        Ok(self.store.forget_assertion_ids(now).await?)
    }
}

/// The client an assertion names as itself (RFC 7523 §3: `iss` and `sub`
/// both its client id), unverified: whom the audit trail counts a refusal
/// against when the request carried no `client_id`.
pub fn named_client(token: &str) -> Option<ClientId> {
    let assertion = Unverified::read(token).ok()?;
    let (issuer, subject) = (assertion.string("iss")?, assertion.string("sub")?);
    (issuer == subject).then(|| ClientId::parse(subject).ok()).flatten()
}

/// The answer to every refused assertion, with the reason logged: as
/// client authentication `invalid_client`, as a grant `invalid_grant` (RFC
/// 7523 §3.1).
/// A refusal whose reason the client is told, as `kind` is answered.
fn told_refusal(kind: AssertionKind, client_id: &str, told: &'static str) -> AuthError {
    tracing::info!(client_id, reason = told, "client assertion refused");
    match kind {
        AssertionKind::Grant => AuthError::InvalidGrant(told.into()),
        AssertionKind::JwtBearer | AssertionKind::JwtSpiffe => {
            AuthError::InvalidClient { message: told, by_header: false }
        }
    }
}

fn refusal(kind: AssertionKind, client_id: &str, why: &str) -> AuthError {
    match kind {
        AssertionKind::Grant => {
            tracing::info!(client_id, reason = why, "JWT bearer grant refused");
            AuthError::InvalidGrant(
                "the assertion is not valid for a client registered for this grant".into(),
            )
        }
        AssertionKind::JwtBearer | AssertionKind::JwtSpiffe => {
            tracing::info!(client_id, reason = why, "client assertion refused");
            AuthError::InvalidClient { message: BAD_CREDENTIALS, by_header: false }
        }
    }
}

/// What an assertion a client signs as itself must meet, as client
/// authentication (`private_key_jwt`) or as a grant.
struct OwnAssertion {
    /// The longest time from `iat` (or now) to `exp`.
    max_lifetime: i64,
    /// Whether a `jti` is required; one present is used once either way.
    jti_required: bool,
    /// Whether it is client authentication, which `--require-explicit-assertion-typ` types.
    typed: bool,
    /// Whether the client it names may present it this way.
    eligible: fn(&Client) -> bool,
    /// Why, when it may not.
    not_eligible: &'static str,
}

/// Why an assertion was refused: an error to answer as it is (the store
/// failed, a field is missing), or a check that failed (for the log, with the
/// client it named), which every caller is answered alike for.
enum Refused {
    Error(AuthError),
    Because(String, String),
    /// A rule broken that the client is told of (it reveals nothing of
    /// the client named, checked before the client is looked up).
    Told(String, &'static str),
}

/// Checks `exp`, `iat` and `nbf`, and that the lifetime is at most
/// `max_lifetime`; the assertion's `exp` when they pass.
fn check_lifetime(max_lifetime: i64, assertion: &Unverified<'_>, now: i64) -> Result<i64, &'static str> {
    let expires_at = assertion.time("exp").ok_or("exp is missing")?;
    if expires_at <= now {
        return Err("it has expired");
    }
    let future = |name| assertion.time(name).is_some_and(|at| at > now + LEEWAY_SECONDS);
    if future("iat") || future("nbf") {
        return Err("iat or nbf is in the future");
    }
    // The leeway is for clock skew only (iat a little ahead): the
    // lifetime, from iat (or from now without one) to exp, is never longer.
    let issued_at = assertion.time("iat").unwrap_or(now);
    if expires_at - issued_at > max_lifetime {
        return Err("exp is further from iat (or now) than the longest assertion lifetime");
    }
    Ok(expires_at)
}
