//! DPoP (RFC 9449) for callers: a key pair the client keeps, and the proofs
//! it signs with it, one per request: for tokend's token endpoint (which then
//! binds the token to the key) and, with `ath`, for every call that presents
//! such a token.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{
    digest::{SHA256, digest},
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, EncodingKey, Header,
    jwk::{Jwk, ThumbprintHash},
};
use serde::Serialize;

/// A client's DPoP key. Its `Debug` shows the thumbprint, nothing of the key.
pub struct DpopKey {
    key: EncodingKey,
    /// `typ` `dpop+jwt`, the algorithm and the public key, the same for every proof.
    header: Header,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("thumbprint", &self.thumbprint).finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ProofClaims<'a> {
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

impl DpopKey {
    /// A fresh P-256 key, for ES256 proofs; it lives as long as this value.
    pub fn generate() -> Result<Self, jsonwebtoken::errors::Error> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("the operating system's random source works");
        Self::with_key(EncodingKey::from_ec_der(pkcs8.as_ref()), Algorithm::ES256)
    }

    /// A key kept in PEM (PKCS#8, or SEC1 / PKCS#1) for `algorithm` (ES256,
    /// ES384, EdDSA, RS256 or PS256).
    pub fn from_pem(pem: &str, algorithm: Algorithm) -> Result<Self, jsonwebtoken::errors::Error> {
        let pem = pem.as_bytes();
        let key = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem)?,
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem)?,
            _ => EncodingKey::from_rsa_pem(pem)?,
        };
        Self::with_key(key, algorithm)
    }

    fn with_key(key: EncodingKey, algorithm: Algorithm) -> Result<Self, jsonwebtoken::errors::Error> {
        let jwk = Jwk::from_encoding_key(&key, algorithm)?;
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256)?;
        let mut header = Header::new(algorithm);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(jwk);
        Ok(Self { key, header, thumbprint })
    }

    /// The RFC 7638 thumbprint tokens bound to this key carry as `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for a `method` request to `url` (query and fragment left
    /// out), for presenting `access_token` when given (`ath`), with the
    /// server's `nonce` when it asked for one.
    pub fn proof(&self, method: &str, url: &str, access_token: Option<&str>, nonce: Option<&str>) -> String {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).expect("the operating system's random source works");
        let claims = ProofClaims {
            htm: method,
            htu,
            iat: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs()),
            jti: URL_SAFE_NO_PAD.encode(jti),
            ath: access_token.map(|token| URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))),
            nonce,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key).expect("a key that made a JWK signs")
    }
}
