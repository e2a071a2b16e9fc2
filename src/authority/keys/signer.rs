//! Signing compact JWS tokens with a private key parsed once at start.
//! (jsonwebtoken parses and re-validates the PKCS#8 key on every call, which
//! doubled the cost of an ES256 token; it still does all the verifying.) A
//! key held in an HSM is asked to sign, off the runtime's worker threads.

use std::sync::Arc;

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use tokend_common::{ecdsa, status_list::STATUS_LIST_TYP, wire::TXN_TOKEN_TYP};

use super::{SigningAlgorithm, hsm::Hsm};
use crate::authority::AuthError;

/// The `typ` of a signed introspection answer (RFC 9701 §5).
pub const INTROSPECTION_TYP: &str = "token-introspection+jwt";

thread_local! {
    /// The JSON of the claims being signed on this thread.
    static PAYLOAD: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

enum KeyPair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    /// PKCS#1 v1.5 padding for RS256, PSS for PS256.
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    /// A private key object in a PKCS#11 token.
    Hsm {
        hsm: Arc<Hsm>,
        key: cryptoki::object::ObjectHandle,
        algorithm: SigningAlgorithm,
    },
}

/// The key new tokens are signed with, and their encoded header.
pub struct SigningKey {
    pub kid: String,
    /// `base64url({"typ","alg","kid"})`: the same for every token of this key.
    header: String,
    /// The same with `typ` `token-introspection+jwt` (RFC 9701 §5).
    introspection_header: String,
    /// The same with `typ` `statuslist+jwt`.
    status_list_header: String,
    /// The same with `typ` `txntoken+jwt`.
    txn_token_header: String,
    pair: KeyPair,
    random: SystemRandom,
}

impl SigningKey {
    /// Parses a PKCS#8 DER private key of `algorithm`; tokens carry `typ` and `kid`.
    pub fn new(kid: &str, algorithm: SigningAlgorithm, pkcs8: &[u8], typ: &str) -> Result<Self, AuthError> {
        let rejected =
            |err: aws_lc_rs::error::KeyRejected| AuthError::internal(format!("signing key rejected: {err}"));
        let pair = match algorithm {
            SigningAlgorithm::Es256 => KeyPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).map_err(rejected)?,
            ),
            SigningAlgorithm::EdDsa => KeyPair::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(rejected)?),
            SigningAlgorithm::Rs256 => {
                KeyPair::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?, &signature::RSA_PKCS1_SHA256)
            }
            SigningAlgorithm::Ps256 => {
                KeyPair::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?, &signature::RSA_PSS_SHA256)
            }
        };
        Ok(Self::with_pair(kid, algorithm, pair, typ))
    }

    /// The private key object `key` of `hsm`, which signs for tokend.
    pub fn in_hsm(
        kid: &str,
        algorithm: SigningAlgorithm,
        hsm: Arc<Hsm>,
        key: cryptoki::object::ObjectHandle,
        typ: &str,
    ) -> Self {
        Self::with_pair(kid, algorithm, KeyPair::Hsm { hsm, key, algorithm }, typ)
    }

    fn with_pair(kid: &str, algorithm: SigningAlgorithm, pair: KeyPair, typ: &str) -> Self {
        let header = |typ: &str| {
            let header = serde_json::json!({ "typ": typ, "alg": algorithm.as_str(), "kid": kid });
            URL_SAFE_NO_PAD.encode(header.to_string())
        };
        Self {
            kid: kid.to_owned(),
            header: header(typ),
            introspection_header: header(INTROSPECTION_TYP),
            status_list_header: header(STATUS_LIST_TYP),
            txn_token_header: header(TXN_TOKEN_TYP),
            pair,
            random: SystemRandom::new(),
        }
    }

    /// An access token: `header.claims.signature`, each part base64url
    /// without padding (RFC 7515 §7.1).
    pub fn sign_jwt(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        self.sign(&self.header, claims)
    }

    /// A signed introspection answer (RFC 9701), with its own `typ`.
    pub fn sign_introspection(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        self.sign(&self.introspection_header, claims)
    }

    /// A Status List Token (draft-ietf-oauth-status-list §5.1), with its own `typ`.
    pub fn sign_status_list(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        self.sign(&self.status_list_header, claims)
    }

    /// A Transaction Token (draft-ietf-oauth-transaction-tokens §6.1), with its own `typ`.
    pub fn sign_txn_token(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        self.sign(&self.txn_token_header, claims)
    }

    fn sign(&self, header: &str, claims: &impl Serialize) -> Result<String, AuthError> {
        // The claims' JSON lives only until it is base64-encoded: a buffer
        // kept per thread spares an allocation per token, which past glibc's
        // per-thread cache (1 KiB: a client with claims) takes the arena lock.
        let mut token = PAYLOAD.with_borrow_mut(|payload| {
            payload.clear();
            serde_json::to_writer(&mut *payload, claims).map_err(AuthError::internal)?;
            let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 400);
            token.push_str(header);
            token.push('.');
            URL_SAFE_NO_PAD.encode_string(payload.as_slice(), &mut token);
            Ok::<_, AuthError>(token)
        })?;
        let failed = |_| AuthError::internal("signing failed");
        let signature = match &self.pair {
            KeyPair::Ecdsa(pair) => {
                let mut signature =
                    pair.sign(&self.random, token.as_bytes()).map_err(failed)?.as_ref().to_vec();
                ecdsa::to_low_s(&mut signature);
                signature
            }
            KeyPair::Ed25519(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
            KeyPair::Rsa(pair, padding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*padding, &self.random, token.as_bytes(), &mut signature).map_err(failed)?;
                signature
            }
            KeyPair::Hsm { hsm, key, algorithm } => {
                let mut signature = off_the_workers(|| hsm.sign(*key, *algorithm, token.as_bytes()))?;
                if *algorithm == SigningAlgorithm::Es256 {
                    ecdsa::to_low_s(&mut signature);
                }
                signature
            }
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// Runs `job`, which may block (a module waiting on its device), without
/// holding up the other tasks of a multi-threaded runtime's worker: they move
/// to another thread meanwhile. On a single-threaded runtime (tests) it runs as is.
fn off_the_workers<T>(job: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(job),
        _ => job(),
    }
}
