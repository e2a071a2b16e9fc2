//! Client assertions (RFC 7521 §4.2, RFC 7523 §2.2–3): a JWT the client
//! signed with its own key (`private_key_jwt`). Every check is made in
//! memory against keys parsed once; only the `jti`, recorded so an
//! assertion is accepted once across every instance, costs a store write.
//!
//! - `jwt` reads an assertion and checks its signature;
//! - `published_keys` and `fetch` get keys from a `jwks_uri`.

mod fetch;
mod jwt;
mod published_keys;

use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use super::{AuthError, BAD_CREDENTIALS, Registry};
use crate::{
    domain::{AuthMethod, Client, ClientId},
    store::Store,
};
use fetch::Fetcher;
use jwt::Unverified;
use published_keys::{KeyLocation, PublishedKeys};

/// How far in the future an assertion's `iat` or `nbf` may lie, for clocks
/// that run a little ahead.
const LEEWAY_SECONDS: i64 = 30;
/// The longest `jti` recorded.
const MAX_JTI_LEN: usize = 256;

/// How assertions are checked.
#[derive(Debug, Clone)]
pub struct AssertionSettings {
    /// How far away an assertion's `exp` may be (`--max-assertion-lifetime`).
    pub max_lifetime_seconds: i64,
    /// CA certificates trusted when fetching keys, beside the public web's.
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Default for AssertionSettings {
    fn default() -> Self {
        Self { max_lifetime_seconds: 300, extra_roots: Vec::new() }
    }
}

/// Checks client assertions.
pub struct Assertions {
    /// The `aud` values an assertion may name: the issuer and its token endpoint.
    audiences: Vec<String>,
    max_lifetime: i64,
    keys: PublishedKeys,
    store: Store,
}

impl Assertions {
    pub fn new(issuer: &str, settings: AssertionSettings, store: Store) -> Result<Self, AuthError> {
        let fetcher = Fetcher::new(&settings.extra_roots).map_err(AuthError::internal)?;
        let token_endpoint = format!("{}{}", issuer.trim_end_matches('/'), tokend_common::wire::TOKEN_PATH);
        Ok(Self {
            audiences: vec![issuer.to_owned(), token_endpoint],
            max_lifetime: settings.max_lifetime_seconds,
            keys: PublishedKeys::new(fetcher),
            store,
        })
    }

    /// The client a `private_key_jwt` assertion proves, when `claimed` (the
    /// request's `client_id`, if sent) agrees. Every refusal is the same
    /// `invalid_client`; the log says which check failed.
    pub async fn private_key_jwt(
        &self,
        registry: &Registry,
        claimed: Option<&ClientId>,
        token: &str,
        now: i64,
    ) -> Result<Arc<Client>, AuthError> {
        let refuse = |client_id: &str, why: &str| {
            tracing::info!(client_id, reason = why, "client assertion refused");
            AuthError::InvalidClient { message: BAD_CREDENTIALS, by_header: false }
        };
        let claimed_id = claimed.map_or("", ClientId::as_str);
        let assertion = Unverified::read(token).map_err(|why| refuse(claimed_id, &why))?;
        let (Some(issuer), Some(subject)) = (assertion.string("iss"), assertion.string("sub")) else {
            return Err(refuse(claimed_id, "iss or sub is missing"));
        };
        if issuer != subject {
            return Err(refuse(claimed_id, "iss and sub differ"));
        }
        if claimed.is_some_and(|claimed| claimed.as_str() != subject) {
            return Err(refuse(claimed_id, "client_id is not the assertion's sub"));
        }
        let client = registry
            .active_client(subject)
            .await?
            .filter(|client| client.auth.methods.contains(AuthMethod::PrivateKeyJwt))
            .ok_or_else(|| refuse(subject, "no active client with private_key_jwt has this id"))?;
        let expires_at = self.check_claims(&assertion, now).map_err(|why| refuse(subject, why))?;
        if !self.verifies(&client, &assertion).await {
            return Err(refuse(subject, "no registered key verifies the signature"));
        }
        let jti = assertion.string("jti").filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN);
        let jti = jti.ok_or_else(|| refuse(subject, "jti is missing or too long"))?;
        if !self.store.record_assertion_id(subject, jti, expires_at).await? {
            return Err(refuse(subject, "its jti was used before (a replay)"));
        }
        Ok(client)
    }

    /// Checks `aud`, `exp`, `iat` and `nbf`; the assertion's `exp` when they pass.
    fn check_claims(&self, assertion: &Unverified<'_>, now: i64) -> Result<i64, &'static str> {
        if !assertion.has_audience(&self.audiences) {
            return Err("aud names neither the issuer nor the token endpoint");
        }
        let expires_at = assertion.time("exp").ok_or("exp is missing")?;
        if expires_at <= now {
            return Err("it has expired");
        }
        if expires_at > now + self.max_lifetime + LEEWAY_SECONDS {
            return Err("exp is further away than the longest assertion lifetime");
        }
        let future = |name| assertion.time(name).is_some_and(|at| at > now + LEEWAY_SECONDS);
        if future("iat") || future("nbf") {
            return Err("iat or nbf is in the future");
        }
        Ok(expires_at)
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
        let location = KeyLocation::Jwks(uri.clone());
        let keys = self.keys.keys(&location, assertion.kid.as_deref()).await;
        keys.is_some_and(|keys| assertion.verifies_with(&keys))
    }

    /// Forgets the recorded ids of expired assertions.
    pub async fn forget_expired(&self, now: i64) -> Result<(), AuthError> {
        Ok(self.store.forget_assertion_ids(now).await?)
    }
}
