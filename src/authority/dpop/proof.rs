//! One DPoP proof (RFC 9449 §4.2) checked as §4.3 says, short of replay and
//! nonce (see `mod.rs`): its header (`typ` `dpop+jwt`, an asymmetric `alg`
//! tokend accepts, a public `jwk`), its signature by that key, and its
//! claims (`htm`, `htu`, `iat`, `jti`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{Jwk, ThumbprintHash},
};
use serde_json::{Map, Value};

use crate::authority::AuthError;

/// The algorithms a proof may be signed with; never `none` or a MAC.
pub const PROOF_ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256];
/// How far ahead of this server's clock a proof's `iat` may be.
pub const FUTURE_LEEWAY_SECONDS: i64 = 5;
/// JWK members that only a private key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// Longer `jti`s are refused, so the replay cache holds no one's essay.
const MAX_JTI_LEN: usize = 256;

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
    let header = proof.split('.').next().unwrap_or_default();
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| refuse("the DPoP proof is not a JWT"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(refuse("the DPoP proof's typ must be dpop+jwt"));
    }
    let algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|alg| alg.parse::<Algorithm>().ok())
        .filter(|alg| PROOF_ALGORITHMS.contains(alg))
        .ok_or_else(|| refuse("the DPoP proof's alg must be one of ES256, ES384, EdDSA, RS256, PS256"))?;
    let jwk =
        header.get("jwk").and_then(Value::as_object).ok_or_else(|| refuse("the DPoP proof has no jwk"))?;
    if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
        return Err(refuse("the DPoP proof's jwk must be a public key"));
    }
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk.clone()))
        .map_err(|_| refuse("the DPoP proof's jwk is not a key tokend can use"))?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| refuse("the DPoP proof's jwk is not a key tokend can use"))?;
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| refuse("the DPoP proof's signature does not verify with its jwk"))?
        .claims;
    let string = |name: &str| claims.get(name).and_then(Value::as_str);
    if string("htm") != Some(expected.method) {
        return Err(refuse(format!("the DPoP proof's htm must be {}", expected.method)));
    }
    let htu = string("htu").and_then(|htu| url::Url::parse(htu).ok());
    if !htu.is_some_and(|htu| expected.urls.iter().any(|url| same_resource(&htu, url))) {
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

/// RFC 9449 §4.3 check 9: the same URI without query and fragment, after
/// RFC 3986's syntax- and scheme-based normalisation (`url` lowercases the
/// scheme and host and drops default ports as it parses).
fn same_resource(htu: &url::Url, expected: &url::Url) -> bool {
    htu.scheme() == expected.scheme()
        && htu.host() == expected.host()
        && htu.port_or_known_default() == expected.port_or_known_default()
        && htu.path() == expected.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_as_rfc_3986_normalises_them() {
        let expected = url::Url::parse("https://tokend.example/oauth/v2/token").unwrap();
        for same in
            ["https://TOKEND.example:443/oauth/v2/token", "https://tokend.example/oauth/v2/token?x=1#f"]
        {
            assert!(same_resource(&url::Url::parse(same).unwrap(), &expected), "{same}");
        }
        for other in [
            "http://tokend.example/oauth/v2/token",
            "https://tokend.example:8443/oauth/v2/token",
            "https://tokend.example/oauth/v2/token/",
            "https://other.example/oauth/v2/token",
        ] {
            assert!(!same_resource(&url::Url::parse(other).unwrap(), &expected), "{other}");
        }
    }
}
