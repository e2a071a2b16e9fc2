//! One DPoP proof (RFC 9449 §4.2) checked as §4.3 says, short of replay and
//! nonce (see `mod.rs`): its header and signature as `tokend_common::dpop`
//! reads them, then its claims (`htm`, `htu`, `iat`, `jti`).

use jsonwebtoken::jwk::ThumbprintHash;
use serde_json::Value;
use tokend_common::dpop::{self, SignedProof};

use crate::authority::AuthError;

/// How far ahead of this server's clock a proof's `iat` may be.
pub const FUTURE_LEEWAY_SECONDS: i64 = 5;
/// Longer `jti`s are refused, so the replay cache holds no one's essay.
const MAX_JTI_LEN: usize = 256;

/// The longest proof read: a proof is a few hundred bytes (an RSA key's a
/// little over one KiB); anything longer is refused before it is parsed.
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// A proof whose signature and claims hold: what the rest of the check needs.
#[derive(Debug)]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of its key: the token's `cnf.jkt`.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    pub nonce: Option<String>,
}

/// What the proof must match: the request's method and the URLs it may name.
pub struct Expected<'a> {
    pub method: &'a str,
    /// Every URL the request may have been sent to (as this listener saw it,
    /// and at the issuer's public address), without query or fragment.
    pub urls: &'a [url::Url],
    pub now: i64,
    pub max_age: i64,
}

fn refuse(why: impl Into<String>) -> AuthError {
    AuthError::InvalidDpopProof(why.into())
}

/// Checks `proof` against `expected`; the proof as far as it holds.
pub fn check(proof: &str, expected: &Expected<'_>) -> Result<Proof, AuthError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(refuse(format!("the DPoP proof is over {} KiB", MAX_PROOF_BYTES / 1024)));
    }
    let SignedProof { jwk, claims } = dpop::open(proof).map_err(refuse)?;
    let string = |name: &str| claims.get(name).and_then(Value::as_str);
    if string("htm") != Some(expected.method) {
        return Err(refuse(format!("the DPoP proof's htm must be {}", expected.method)));
    }
    let htu = string("htu").and_then(|htu| url::Url::parse(htu).ok());
    if !htu.is_some_and(|htu| expected.urls.iter().any(|url| dpop::same_resource(&htu, url))) {
        let wanted = expected.urls.first().map(url::Url::as_str).unwrap_or_default();
        return Err(refuse(format!("the DPoP proof's htu must be {wanted}")));
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or_else(|| refuse("the DPoP proof has no iat"))?;
    if iat < expected.now - expected.max_age {
        return Err(refuse(format!("the DPoP proof is older than {} s", expected.max_age)));
    }
    if iat > expected.now + FUTURE_LEEWAY_SECONDS {
        return Err(refuse("the DPoP proof's iat is in the future"));
    }
    let jti = string("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN)
        .ok_or_else(|| refuse("the DPoP proof needs a jti of at most 256 characters"))?;
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| refuse("the DPoP proof's jwk has no thumbprint"))?;
    Ok(Proof { jkt, jti: jti.to_owned(), iat, nonce: string("nonce").map(str::to_owned) })
}
