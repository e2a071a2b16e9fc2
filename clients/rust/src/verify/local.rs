//! Local verification: signature against the issuer's published keys, then
//! `typ`, `iss`, `aud` and lifetime, with tokens seen before remembered; and
//! for every use, the token's bit in its status list.

use std::time::Duration;
use tokend_common::wire::ACCESS_TOKEN_TYP;

use super::{
    Claims, VerifyError,
    keys::KeyCache,
    seen::SeenTokens,
    signed::{self, Expected},
    status::StatusLists,
};

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
    let expected = Expected {
        types: &ACCESS_TOKEN_TYPES,
        wrong_type: "not an access token (typ)",
        issuer,
        audience,
        leeway,
        nbf: true,
        required_claims: &["exp", "iss", "aud", "sub"],
    };
    signed::check(keys, token, &expected).await
}
