//! Public keys a client or a trusted issuer publishes as a JWK Set (RFC
//! 7517): the keys that verify its signed assertions (RFC 7523), and the
//! certificates its keys carry in `x5c` for `self_signed_tls_client_auth`
//! (RFC 8705 §2.2). Parsed once, when the registration is read or the set
//! fetched, so checking an assertion costs no parsing.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm},
};

use tokend_common::dpop::PRIVATE_MEMBERS;
use x509_parser::{certificate::X509Certificate, prelude::FromDer, public_key::PublicKey};

use super::{InvalidValue, PeerCertificate, peer_certificate};

/// The largest JWK Set tokend reads, registered or fetched.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The algorithms an assertion may be signed with: asymmetric only, so no
/// `none`, no HMAC with a public key's bytes as the secret.
pub const ASSERTION_ALGORITHMS: [Algorithm; 5] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256];

/// One public key and the algorithms it may verify.
#[derive(Debug, Clone)]
struct VerifyingKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// A parsed JWK Set.
#[derive(Debug, Clone)]
pub struct Jwks {
    text: String,
    keys: Vec<VerifyingKey>,
    /// `x5t#S256` of the first `x5c` certificate of each key that has one.
    thumbprints: Vec<String>,
}

/// Equal when registered as the same text.
impl PartialEq for Jwks {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Jwks {}

impl Jwks {
    /// Parses a JWK Set an administrator registers: every key must be a
    /// public key of a kind tokend verifies with, so a mistake (a private
    /// key, an HMAC secret) is refused rather than ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::read(text, true)
    }

    /// Parses a JWK Set published by someone else: keys of other kinds (for
    /// encryption, of an unknown type) are left out.
    pub fn parse_published(text: &str) -> Result<Self, InvalidValue> {
        Self::read(text, false)
    }

    fn read(text: &str, strict: bool) -> Result<Self, InvalidValue> {
        let invalid = |why: String| InvalidValue(format!("jwks is not a usable JWK Set: {why}"));
        if text.len() > MAX_JWKS_BYTES {
            return Err(invalid(format!("it is over {} KiB", MAX_JWKS_BYTES / 1024)));
        }
        let set: JwkSet = serde_json::from_str(text).map_err(|err| invalid(err.to_string()))?;
        // A registered set is stored and shown back: a private member would be both.
        if strict && let Some(member) = private_member(text) {
            return Err(invalid(format!(
                "a key holds the private member {member:?}; register public keys only"
            )));
        }
        let (mut keys, mut thumbprints) = (Vec::new(), Vec::new());
        for jwk in &set.keys {
            let certificate = jwk.common.x509_chain.as_ref().and_then(|chain| chain.first());
            let certificate = match certificate {
                Some(first) => {
                    Some(STANDARD.decode(first).map_err(|_| invalid("an x5c entry is not base64".into()))?)
                }
                None => None,
            };
            let key = verifying_key(jwk);
            // RFC 7517 §4.7: a key with a certificate is the certificate's key.
            if let (Ok(_), Some(der)) = (&key, &certificate)
                && !certificate_holds(der, jwk)
            {
                match strict {
                    true => {
                        return Err(invalid(format!("{} is not the key of its x5c certificate", named(jwk))));
                    }
                    false => continue,
                }
            }
            if let Some(der) = &certificate {
                thumbprints.push(peer_certificate::thumbprint(der));
            }
            match key {
                Ok(key) => keys.push(key),
                // A key that only lists a certificate still serves self-signed TLS.
                Err(why) if strict && certificate.is_none() => return Err(invalid(why)),
                Err(_) => {}
            }
        }
        if keys.is_empty() && thumbprints.is_empty() {
            return Err(invalid("it holds no public key tokend can use".into()));
        }
        Ok(Self { text: text.to_owned(), keys, thumbprints })
    }

    /// The JWK Set as registered or fetched.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether some key carries a certificate, for `self_signed_tls_client_auth`.
    pub fn has_certificates(&self) -> bool {
        !self.thumbprints.is_empty()
    }

    /// Whether `certificate` is the `x5c` certificate of one of the keys.
    pub fn contains(&self, certificate: &PeerCertificate) -> bool {
        self.thumbprints.iter().any(|thumbprint| thumbprint == certificate.thumbprint())
    }

    /// Whether a key with this `kid` is in the set.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }

    /// The keys that may verify a signature by `algorithm`: the one named
    /// `kid` when the header names one, else every key of that algorithm.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        algorithm: Algorithm,
    ) -> impl Iterator<Item = &'a DecodingKey> + 'a {
        self.keys
            .iter()
            .filter(move |key| kid.is_none_or(|kid| key.kid.as_deref() == Some(kid)))
            .filter(move |key| key.algorithms.contains(&algorithm))
            .map(|key| &key.key)
    }
}

/// How an error names a key: `key "kid"`, or just `key`.
/// The first member only a private or symmetric key has, in any key of the set `text`.
fn private_member(text: &str) -> Option<&'static str> {
    let set: serde_json::Value = serde_json::from_str(text).ok()?;
    let keys = set.get("keys")?.as_array()?;
    keys.iter()
        .filter_map(serde_json::Value::as_object)
        .find_map(|key| PRIVATE_MEMBERS.into_iter().find(|member| key.contains_key(*member)))
}

fn named(jwk: &Jwk) -> String {
    jwk.common.key_id.as_deref().map_or_else(|| "key".to_owned(), |kid| format!("key {kid:?}"))
}

/// Whether the certificate `der` holds the public key `jwk` describes.
fn certificate_holds(der: &[u8], jwk: &Jwk) -> bool {
    let Ok((_, certificate)) = X509Certificate::from_der(der) else {
        return false;
    };
    let info = certificate.public_key();
    let raw: &[u8] = &info.subject_public_key.data;
    let decode = |field: &str| URL_SAFE_NO_PAD.decode(field).ok();
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(params) => match (decode(&params.x), decode(&params.y)) {
            // An uncompressed point: 0x04, then x and y.
            (Some(x), Some(y)) => {
                raw.split_first().is_some_and(|(&form, point)| form == 4 && point == [x, y].concat())
            }
            _ => false,
        },
        AlgorithmParameters::OctetKeyPair(params) => decode(&params.x).is_some_and(|x| raw == x),
        AlgorithmParameters::RSA(params) => match (info.parsed(), decode(&params.n), decode(&params.e)) {
            (Ok(PublicKey::RSA(key)), Some(n), Some(e)) => {
                same_integer(key.modulus, &n) && same_integer(key.exponent, &e)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether two big-endian unsigned integers are equal, leading zeros aside.
fn same_integer(a: &[u8], b: &[u8]) -> bool {
    fn significant(bytes: &[u8]) -> &[u8] {
        let leading = bytes.iter().take_while(|&&byte| byte == 0).count();
        &bytes[leading..]
    }
    significant(a) == significant(b)
}

/// The verifying key of one JWK, or why it cannot be one.
fn verifying_key(jwk: &Jwk) -> Result<VerifyingKey, String> {
    let kid = jwk.common.key_id.clone();
    let named = kid.as_deref().map_or_else(String::new, |kid| format!(" {kid:?}"));
    let by_kind: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return Err(format!("key{named} is on a curve tokend does not verify (P-256 or P-384)")),
        },
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        AlgorithmParameters::RSA(_) => &[Algorithm::RS256, Algorithm::PS256],
        AlgorithmParameters::OctetKey(_) => {
            return Err(format!("key{named} is a symmetric (oct) key; register public keys only"));
        }
        _ => return Err(format!("key{named} is of a type tokend does not verify with")),
    };
    // A key that names its algorithm verifies that one only.
    let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm {
        None => by_kind.to_vec(),
        Some(named_alg) => {
            by_kind.iter().copied().filter(|alg| KeyAlgorithm::from(*alg) == named_alg).collect()
        }
    };
    if algorithms.is_empty() {
        return Err(format!("key{named} names an algorithm that does not fit its type"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|err| format!("key{named} is malformed: {err}"))?;
    Ok(VerifyingKey { kid, algorithms, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1",
        "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    #[test]
    fn a_registered_set_must_hold_only_public_keys() {
        assert!(Jwks::parse(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).is_err());
        assert!(Jwks::parse("not json").is_err());
        assert!(Jwks::parse(r#"{"keys":[]}"#).is_err());
        let private = EC_KEY
            .replace(r#""kid":"k1","#, r#""kid":"k1","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI","#);
        let err = Jwks::parse(&format!(r#"{{"keys":[{private}]}}"#)).unwrap_err();
        assert!(err.0.contains(r#""d""#), "{err:?}");
        let keys = Jwks::parse(&format!(r#"{{"keys":[{EC_KEY}]}}"#)).unwrap();
        assert!(keys.has_kid("k1"));
        assert_eq!(keys.candidates(Some("k1"), Algorithm::ES256).count(), 1);
        assert_eq!(keys.candidates(Some("k1"), Algorithm::ES384).count(), 0, "the curve decides");
        assert_eq!(keys.candidates(Some("k2"), Algorithm::ES256).count(), 0);
        assert_eq!(keys.candidates(None, Algorithm::ES256).count(), 1);
    }

    #[test]
    fn a_published_set_skips_keys_it_cannot_use() {
        let text = format!(r#"{{"keys":[{{"kty":"oct","k":"c2VjcmV0"}},{EC_KEY}]}}"#);
        let keys = Jwks::parse_published(&text).unwrap();
        assert!(keys.has_kid("k1"));
        assert_eq!(keys.candidates(None, Algorithm::HS256).count(), 0);
    }

    #[test]
    fn a_key_that_names_its_algorithm_verifies_only_that_one() {
        let text = r#"{"keys":[{"kty":"RSA","alg":"PS256","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}"#;
        let keys = Jwks::parse(text).unwrap();
        assert_eq!(keys.candidates(None, Algorithm::PS256).count(), 1);
        assert_eq!(keys.candidates(None, Algorithm::RS256).count(), 0);
    }

    #[test]
    fn certificates_in_x5c_are_known_by_thumbprint() {
        let keys = Jwks::parse(r#"{"keys":[{"kty":"EC","x5c":["AAEC"]}]}"#).unwrap();
        assert!(keys.has_certificates());
        assert_eq!(keys.thumbprints, [peer_certificate::thumbprint(&[0, 1, 2])]);
    }

    /// A JWK of `pair`'s P-256 key, carrying `certificate` in x5c.
    fn ec_jwk(pair: &rcgen::KeyPair, certificate: &[u8]) -> String {
        let point = pair.public_key_raw();
        let (x, y) = point[1..].split_at(32);
        serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            "x5c": [STANDARD.encode(certificate)],
        }]})
        .to_string()
    }

    #[test]
    fn a_key_with_a_certificate_must_be_the_certificates_key() {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["svc".into()]).unwrap();
        let certificate = params.self_signed(&pair).unwrap();
        assert!(Jwks::parse(&ec_jwk(&pair, certificate.der())).is_ok());
        let mismatched = Jwks::parse(&ec_jwk(&other, certificate.der())).unwrap_err();
        assert!(mismatched.0.contains("not the key of its x5c certificate"), "{mismatched:?}");
        let published = Jwks::parse_published(&ec_jwk(&other, certificate.der()));
        assert!(published.is_err(), "a published key that is not its certificate's is left out");
    }
}
