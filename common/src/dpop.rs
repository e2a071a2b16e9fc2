//! What tokend's token endpoint and `tokend-client`'s resource-server check
//! read alike in a DPoP proof (RFC 9449 §4.3): its header (`typ` `dpop+jwt`,
//! an asymmetric `alg`, a public `jwk`), its signature by that key, its
//! claims, and how its `htu` compares with a URL. What each side then asks
//! of the claims (`htm`, `iat`, `jti`, `ath`, a nonce) is its own.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde_json::{Map, Value};

/// The algorithms a proof may be signed with; never `none` or a MAC.
pub const PROOF_ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256];
/// JWK members that only a private key (or a symmetric one) has: refused in
/// a proof and in a registered key set alike.
pub const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A proof whose header and signature hold: its key and its claims.
pub struct SignedProof {
    pub jwk: Jwk,
    pub claims: Map<String, Value>,
}

/// The key and claims of `proof`, or why it is no DPoP proof signed by the key it carries.
pub fn open(proof: &str) -> Result<SignedProof, &'static str> {
    let header: Map<String, Value> = proof
        .split('.')
        .next()
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or("the DPoP proof is not a JWT")?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err("the DPoP proof's typ must be dpop+jwt");
    }
    // RFC 7515 §4.1.11: no extension is understood, so none may be critical.
    if header.contains_key("crit") {
        return Err("the DPoP proof marks extensions critical (crit), which are not understood");
    }
    let algorithm = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|alg| alg.parse::<Algorithm>().ok())
        .filter(|alg| PROOF_ALGORITHMS.contains(alg))
        .ok_or("the DPoP proof's alg must be one of ES256, ES384, EdDSA, RS256, PS256")?;
    let jwk = header.get("jwk").and_then(Value::as_object).ok_or("the DPoP proof has no jwk")?;
    if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
        return Err("the DPoP proof's jwk must be a public key");
    }
    if !key_fits(jwk, algorithm) {
        return Err("the DPoP proof's jwk is not a key of its alg (its kty, crv and coordinates must agree)");
    }
    let unusable = "the DPoP proof's jwk is not a usable key";
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| unusable)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| unusable)?;
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(proof, &key, &validation)
        .map_err(|_| "the DPoP proof's signature does not verify with its jwk")?
        .claims;
    Ok(SignedProof { jwk, claims })
}

/// Whether the public JWK `jwk` is a key `algorithm` signs with: an EC key
/// on that algorithm's curve, with coordinates of the curve's size (a P-256
/// point labelled P-384 would otherwise have a second thumbprint), an
/// Ed25519 key for EdDSA, an RSA key for RS256 and PS256.
fn key_fits(jwk: &Map<String, Value>, algorithm: Algorithm) -> bool {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let size = |name: &str| {
        member(name).and_then(|value| URL_SAFE_NO_PAD.decode(value).ok()).map(|bytes| bytes.len())
    };
    match (member("kty"), algorithm) {
        (Some("EC"), Algorithm::ES256) => {
            member("crv") == Some("P-256") && size("x") == Some(32) && size("y") == Some(32)
        }
        (Some("EC"), Algorithm::ES384) => {
            member("crv") == Some("P-384") && size("x") == Some(48) && size("y") == Some(48)
        }
        (Some("OKP"), Algorithm::EdDSA) => member("crv") == Some("Ed25519") && size("x") == Some(32),
        (Some("RSA"), Algorithm::RS256 | Algorithm::PS256) => true,
        _ => false,
    }
}

/// RFC 9449 §4.3 check 9: the same URI without query and fragment, after
/// RFC 3986's syntax- and scheme-based normalisation (`url` lowercases the
/// scheme and host and drops default ports as it parses).
pub fn same_resource(htu: &url::Url, expected: &url::Url) -> bool {
    htu.scheme() == expected.scheme()
        && htu.host() == expected.host()
        && htu.port_or_known_default() == expected.port_or_known_default()
        && htu.path() == expected.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_marking_an_extension_critical_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"dpop+jwt","alg":"ES256","crit":["x"],"x":1}"#);
        let refused = open(&format!("{header}.e30.c2ln")).err().unwrap();
        assert!(refused.contains("crit"), "{refused}");
    }

    #[test]
    fn a_key_must_be_of_its_algs_kind_curve_and_size() {
        let x = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let p256 = |crv: &str| serde_json::json!({"kty": "EC", "crv": crv, "x": x, "y": x});
        let p256 = |crv| p256(crv).as_object().unwrap().clone();
        assert!(key_fits(&p256("P-256"), Algorithm::ES256));
        assert!(!key_fits(&p256("P-384"), Algorithm::ES384), "a P-256 point labelled P-384");
        assert!(!key_fits(&p256("P-384"), Algorithm::ES256));
        assert!(!key_fits(&p256("P-256"), Algorithm::EdDSA));
    }

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

    #[test]
    fn what_is_no_proof_says_why() {
        assert_eq!(open("not-a-jwt").err(), Some("the DPoP proof is not a JWT"));
        let typ = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ES256"}"#);
        assert_eq!(open(&format!("{typ}.e30.sig")).err(), Some("the DPoP proof's typ must be dpop+jwt"));
        let none = URL_SAFE_NO_PAD.encode(r#"{"typ":"dpop+jwt","alg":"none"}"#);
        assert!(open(&format!("{none}.e30.")).err().unwrap().contains("alg must be one of"));
    }
}
