//! The checks every token tokend signs takes before its claims are read:
//! its `typ`, a key the issuer published, that key's one algorithm, the
//! signature in its one valid form, the issuer, the audience and the
//! lifetime. Access tokens and Transaction Tokens differ only in what they
//! expect here.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::de::DeserializeOwned;
use tokend_common::{claim_names, ecdsa};

use super::{VerifyError, keys::KeyCache};

/// What a token must be.
pub(crate) struct Expected<'a> {
    /// Its `typ` header, in any case; one of these.
    pub types: &'a [&'a str],
    /// Why a token of another `typ` is refused.
    pub wrong_type: &'static str,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: Duration,
    /// Whether `nbf` is checked (access tokens carry one; Transaction Tokens do not).
    pub nbf: bool,
    pub required_claims: &'a [&'a str],
}

/// The claims of `token` if it is what `expected` says, signed by a key in `keys`.
pub(crate) async fn check<T: DeserializeOwned>(
    keys: &KeyCache,
    token: &str,
    expected: &Expected<'_>,
) -> Result<T, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::invalid("malformed token"))?;
    let typ = header.typ.as_deref().unwrap_or_default();
    if !expected.types.iter().any(|accepted| typ.eq_ignore_ascii_case(accepted)) {
        return Err(VerifyError::invalid(expected.wrong_type));
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
    // RFC 7519 §4: a second member of one name (a second `sub` or `status`)
    // must not be read last-wins.
    if !claim_names::payload_names_are_unique(token) {
        return Err(VerifyError::invalid("a claim name appears twice"));
    }
    let mut validation = Validation::new(key.algorithm);
    validation.leeway = expected.leeway.as_secs();
    validation.validate_nbf = expected.nbf;
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(expected.required_claims);
    let data = jsonwebtoken::decode::<T>(token, &key.decoding, &validation).map_err(|err| {
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
