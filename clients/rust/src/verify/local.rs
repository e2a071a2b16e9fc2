//! Local verification: signature against the issuer's published keys, then
//! `typ`, `iss`, `aud` and lifetime, with tokens seen before remembered; and
//! for every use, the token's bit in its status list.

use std::time::Duration;
use tokend_common::{ecdsa, wire::ACCESS_TOKEN_TYP};

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};

use super::{Claims, VerifyError, keys::KeyCache, seen::SeenTokens, status::StatusLists};

/// The `typ` header of RFC 9068 access tokens; `application/at+jwt` is the same.
const ACCESS_TOKEN_TYPES: [&str; 2] = [ACCESS_TOKEN_TYP, "application/at+jwt"];

pub(super) struct LocalVerifier {
    keys: KeyCache,
    seen: SeenTokens,
    status: StatusLists,
    issuer: String,
    audience: String,
    leeway: Duration,
}

impl LocalVerifier {
    /// Remembers accepted tokens for `key_max_age`, as long as fetched keys are trusted.
    pub fn new(
        keys: KeyCache,
        status: StatusLists,
        key_max_age: Duration,
        issuer: String,
        audience: String,
        leeway: Duration,
    ) -> Self {
        Self { keys, status, seen: SeenTokens::new(key_max_age), issuer, audience, leeway }
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = match self.seen.get(token, self.leeway) {
            Some(claims) => claims,
            None => {
                let claims = check(&self.keys, &self.issuer, &self.audience, self.leeway, token).await?;
                self.seen.insert(token, &claims);
                claims
            }
        };
        // A token seen before may have been revoked since: its bit is read every time.
        if let Some(status) = &claims.status {
            self.status.check(&self.keys, status).await?;
        }
        Ok(claims)
    }

    pub fn status_lists(&self) -> &StatusLists {
        &self.status
    }
}

/// The full check of a token not seen before.
async fn check(
    keys: &KeyCache,
    issuer: &str,
    audience: &str,
    leeway: Duration,
    token: &str,
) -> Result<Claims, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::invalid("malformed token"))?;
    let typ = header.typ.as_deref().unwrap_or_default();
    if !ACCESS_TOKEN_TYPES.iter().any(|expected| typ.eq_ignore_ascii_case(expected)) {
        return Err(VerifyError::invalid("not an access token (typ)"));
    }
    let kid = header.kid.ok_or(VerifyError::invalid("no key id"))?;
    let key = keys.key(&kid).await.ok_or(VerifyError::invalid("unknown signing key"))?;
    // Only the algorithm the key was published with: no algorithm confusion.
    if header.alg != key.algorithm {
        return Err(VerifyError::invalid("algorithm does not match the key"));
    }
    // tokend signs ES256 in the low-s form only; the other form of the same
    // signature is a second string for one token, refused as the server does.
    if key.algorithm == Algorithm::ES256 && !ecdsa::jws_has_low_s(token) {
        return Err(VerifyError::invalid("bad signature"));
    }
    let mut validation = Validation::new(key.algorithm);
    validation.leeway = leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).map_err(|err| {
        VerifyError::invalid(match err.kind() {
            ErrorKind::ExpiredSignature => "token expired",
            ErrorKind::ImmatureSignature => "token not yet valid",
            ErrorKind::InvalidAudience => "token is for another audience",
            ErrorKind::InvalidIssuer => "token is from another issuer",
            ErrorKind::InvalidSignature => "bad signature",
            ErrorKind::InvalidAlgorithm => "algorithm does not match the key",
            _ => "malformed token",
        })
    })?;
    Ok(data.claims)
}
