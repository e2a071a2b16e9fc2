//! How a [`TokenSource`](crate::TokenSource) proves who its client is: a
//! secret, a private key that signs a fresh `private_key_jwt` assertion
//! (RFC 7523 §2.2) for every request, or an assertion a platform writes to
//! a file (a Kubernetes projected service-account token, which the kubelet
//! rewrites; a SPIFFE JWT-SVID), read again for every request.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::{TokenError, pb::IssueTokenRequest};

/// `client_assertion_type` of a JWT (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long a signed assertion lives: long enough to cross the network, short
/// enough that tokend need remember its `jti` only briefly.
const ASSERTION_LIFETIME_SECONDS: u64 = 60;

/// A client's private key for `private_key_jwt`: PEM (PKCS#8, or SEC1 / PKCS#1),
/// the `kid` of its public half in the client's registered JWK Set, and the
/// algorithm (ES256, ES384, EdDSA, RS256 or PS256). Its `Debug` leaves the key out.
#[derive(Clone)]
pub struct PrivateKey {
    pub pem: String,
    pub kid: String,
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey").field("kid", &self.kid).field("algorithm", &self.algorithm).finish()
    }
}

/// What a request carries to authenticate.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// A secret, or none for a client proved by its TLS certificate.
    Secret(String),
    /// Signs an assertion per request.
    PrivateKey(Arc<Signer>),
    /// Sends what the file holds.
    AssertionFile(PathBuf),
}

/// A key ready to sign, its header, and the `aud` (tokend's issuer) it signs for.
pub(crate) struct Signer {
    key: EncodingKey,
    header: Header,
    audience: String,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

impl Credentials {
    /// `key` ready to sign; an unusable key is an error now, not at the first fetch.
    pub(crate) fn private_key(
        key: &PrivateKey,
        audience: String,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        let pem = key.pem.as_bytes();
        let encoding = match key.algorithm {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem)?,
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem)?,
            _ => EncodingKey::from_rsa_pem(pem)?,
        };
        let mut header = Header::new(key.algorithm);
        header.kid = Some(key.kid.clone());
        Ok(Credentials::PrivateKey(Arc::new(Signer { key: encoding, header, audience })))
    }

    /// Puts the credentials for `client_id` into `request`: each call signs
    /// or reads a fresh assertion, so a retry never replays one.
    pub(crate) fn fill(&self, client_id: &str, request: &mut IssueTokenRequest) -> Result<(), TokenError> {
        request.client_id = client_id.to_owned();
        let assertion = match self {
            Credentials::Secret(secret) => {
                request.client_secret = secret.clone();
                return Ok(());
            }
            Credentials::PrivateKey(signer) => {
                let Signer { key, header, audience } = signer.as_ref();
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
                let claims = AssertionClaims {
                    iss: client_id,
                    sub: client_id,
                    aud: audience,
                    iat: now,
                    exp: now + ASSERTION_LIFETIME_SECONDS,
                    jti: new_jti(),
                };
                jsonwebtoken::encode(header, &claims, key)
                    .map_err(|err| TokenError::local(format!("cannot sign a client assertion: {err}")))?
            }
            Credentials::AssertionFile(path) => {
                std::fs::read_to_string(path).map(|text| text.trim().to_owned()).map_err(|err| {
                    TokenError::local(format!("cannot read the assertion {}: {err}", path.display()))
                })?
            }
        };
        request.client_assertion_type = JWT_BEARER.into();
        request.client_assertion = assertion;
        Ok(())
    }
}

/// 128 random bits, base64url.
fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    URL_SAFE_NO_PAD.encode(bytes)
}
