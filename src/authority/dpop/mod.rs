//! DPoP (RFC 9449) at the token endpoint: the key a request's proof proves,
//! which the token is then bound to (`cnf.jkt`). A proof is checked
//! (`proof`), used once per instance within its window (`replay`), and, with
//! `--dpop-nonce`, must carry a nonce this server handed out (`nonce`).
//! Requests without a proof cost nothing here.

mod nonce;
mod proof;
mod replay;

use aws_lc_rs::hmac;

use crate::{authority::AuthError, domain::ReachedUrl};
use nonce::Nonces;
use proof::{Expected, FUTURE_LEEWAY_SECONDS};
use replay::{FirstUse, SeenProofs};
pub use tokend_common::dpop::PROOF_ALGORITHMS;

/// Proofs one instance remembers at once, at about 20 bytes each.
const SEEN_CAPACITY: usize = 2_000_000;

/// How DPoP proofs are checked, as the operator set it.
#[derive(Debug, Clone, Copy)]
pub struct DpopSettings {
    /// How old a proof's `iat` may be (`--dpop-proof-max-age`).
    pub proof_max_age: i64,
    /// Whether proofs must carry a nonce this server handed out (`--dpop-nonce`).
    pub nonces: bool,
}

impl Default for DpopSettings {
    fn default() -> Self {
        Self { proof_max_age: 60, nonces: false }
    }
}

/// What a request carried for DPoP, and where it was sent, as an adapter saw it.
#[derive(Debug, Default)]
pub struct DpopPresented {
    /// Every `DPoP` header (or `dpop` metadata) value.
    pub proofs: Vec<String>,
    /// The URL the request reached this listener at (scheme, authority, path).
    pub url: Option<url::Url>,
}

impl DpopPresented {
    /// The proofs among `values` (a header's or metadata entry's, as sent;
    /// one that is not text stays, to be refused as no JWT) and the URL
    /// the edge found the request reached.
    pub fn gather<'a>(values: impl Iterator<Item = &'a [u8]>, reached: Option<&ReachedUrl>) -> Self {
        let proofs = values.map(|value| String::from_utf8_lossy(value).into_owned()).collect();
        Self { proofs, url: reached.map(|reached| reached.0.clone()) }
    }
}

pub struct Dpop {
    settings: DpopSettings,
    /// The issuer, whose origin a client behind a proxy names in `htu`.
    issuer: Option<url::Url>,
    seen: SeenProofs,
    nonces: Option<Nonces>,
}

impl Dpop {
    /// Checks proofs as `settings` say; nonces are MACs under `nonce_key`.
    pub fn new(settings: DpopSettings, issuer: &str, nonce_key: hmac::Key) -> Self {
        Self {
            settings,
            issuer: url::Url::parse(issuer).ok(),
            seen: SeenProofs::new(SEEN_CAPACITY),
            nonces: settings.nonces.then(|| Nonces::new(nonce_key)),
        }
    }

    /// The key (its `jkt`) that the request's one proof proves, for a
    /// request of `method`; `None` when it carries no proof.
    pub fn proven_key(
        &self,
        presented: &DpopPresented,
        method: &str,
        now: i64,
    ) -> Result<Option<String>, AuthError> {
        let proof = match presented.proofs.as_slice() {
            [] => return Ok(None),
            [proof] => proof,
            _ => return Err(AuthError::InvalidDpopProof("send one DPoP proof, not several".into())),
        };
        let urls = self.urls(presented.url.as_ref());
        let expected = Expected { method, urls: &urls, now, max_age: self.settings.proof_max_age };
        let proof = proof::check(proof, &expected)?;
        if let Some(nonces) = &self.nonces
            && !proof.nonce.as_deref().is_some_and(|nonce| nonces.is_fresh(nonce, now))
        {
            return Err(AuthError::UseDpopNonce { nonce: nonces.current(now) });
        }
        let until = proof.iat + self.settings.proof_max_age + FUTURE_LEEWAY_SECONDS + 1;
        match self.seen.first_use(&proof.jkt, &proof.jti, until, now) {
            FirstUse::Yes => Ok(Some(proof.jkt)),
            FirstUse::Replayed => Err(AuthError::InvalidDpopProof("the DPoP proof was used before".into())),
            FirstUse::Full => {
                Err(AuthError::Busy("too many DPoP proofs at once; retry in a few seconds".into()))
            }
        }
    }

    /// Forgets the proofs that could no longer be accepted at `now`.
    pub fn forget_expired(&self, now: i64) {
        self.seen.forget_expired(now);
    }

    /// Where a request may have been sent: the URL this listener saw, and the
    /// same path at the issuer's origin (what a client behind a
    /// TLS-terminating proxy or an ingress names).
    fn urls(&self, reached: Option<&url::Url>) -> Vec<url::Url> {
        let mut urls: Vec<url::Url> = reached.into_iter().cloned().collect();
        if let (Some(issuer), Some(reached)) = (&self.issuer, reached)
            && let Ok(public) = issuer.join(reached.path())
        {
            urls.push(public);
        }
        urls
    }
}
