//! Checking a Transaction Token locally, at every hop: tokend's signature
//! with the key's one algorithm, `typ` `txntoken+jwt`, `iss`, `aud` = the
//! trust domain, `exp`, and the scopes the call needs. An access token is
//! refused here, as a Txn-Token is refused where an access token is expected.
//! A transaction that calls one service several times is checked there once:
//! a token seen before costs only its lifetime check.

use std::{sync::Arc, time::Duration};

pub use tokend_common::txn::TxnClaims;
use tokend_common::{
    expiring::Expiring,
    wire::{JWKS_MAX_AGE_SECONDS, TXN_TOKEN_TYP},
};

/// How many tokens are remembered: the transactions in flight at one service.
const SEEN_CAPACITY: usize = 4096;

use crate::verify::{
    VerifyError,
    keys::KeyCache,
    seen::unix_now,
    signed::{self, Expected},
};

/// Checks Transaction Tokens for one trust domain, against the keys tokend
/// publishes; cheap to clone and share.
#[derive(Clone)]
pub struct TxnVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeyCache,
    /// Tokens accepted before, until their `exp` (and no longer than fetched keys are trusted).
    seen: Expiring<String, TxnClaims>,
    issuer: String,
    trust_domain: String,
    leeway: Duration,
}

impl TxnVerifier {
    /// For Txn-Tokens tokend at `issuer` signs for `trust_domain` (its
    /// `--txn-token-audience`, by default the issuer): the keys are found by
    /// discovery and fetched now, so a misconfigured issuer fails at start.
    pub async fn discover(
        issuer: impl Into<String>,
        trust_domain: impl Into<String>,
    ) -> Result<Self, VerifyError> {
        let issuer = issuer.into();
        let refetch = Duration::from_secs(10);
        let keys =
            KeyCache::discover(&issuer, None, refetch, Duration::from_secs(JWKS_MAX_AGE_SECONDS)).await?;
        let inner = Inner {
            keys,
            seen: Expiring::new(SEEN_CAPACITY),
            issuer,
            trust_domain: trust_domain.into(),
            leeway: Duration::from_secs(10),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The claims of `token`, if it is a live Transaction Token of this trust domain.
    pub async fn verify(&self, token: &str) -> Result<TxnClaims, VerifyError> {
        let now = unix_now();
        let leeway = self.inner.leeway.as_secs() as i64;
        if let Some(claims) = self.inner.seen.get(token, now).filter(|claims| now <= claims.exp + leeway) {
            return Ok(claims);
        }
        let claims = self.check(token).await?;
        let until = (claims.exp + leeway).min(now + JWKS_MAX_AGE_SECONDS as i64);
        self.inner.seen.insert(token.to_owned(), claims.clone(), until, now);
        Ok(claims)
    }

    async fn check(&self, token: &str) -> Result<TxnClaims, VerifyError> {
        let expected = Expected {
            types: &[TXN_TOKEN_TYP],
            wrong_type: "not a Transaction Token (typ)",
            issuer: &self.inner.issuer,
            audience: &self.inner.trust_domain,
            leeway: self.inner.leeway,
            nbf: false,
            required_claims: &["exp", "iss", "aud", "sub"],
        };
        signed::check(&self.inner.keys, token, &expected).await
    }
}
