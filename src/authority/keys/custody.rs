//! Where the private halves of signing keys are kept: sealed in the database
//! under the key-encryption key, or in an HSM that signs for tokend. New keys
//! go to the HSM when one is configured; stored keys open from wherever they
//! are, so keys made before the HSM keep verifying and signing.

use std::{str::FromStr, sync::Arc};

use jsonwebtoken::{
    DecodingKey,
    jwk::{Jwk, PublicKeyUse, ThumbprintHash},
};

use super::{
    RsaKeySize, SigningAlgorithm,
    hsm::{Hsm, REFERENCE_PREFIX},
    ring::VerifyingKey,
    sealing::KeySealer,
    signer::SigningKey,
};
use crate::{
    authority::{AuthError, tokens::ACCESS_TOKEN_TYP},
    store::KeyRow,
};

/// The key-encryption key, the HSM when one is configured, and how long
/// new RSA keys are.
#[derive(Debug, Clone)]
pub struct KeyCustody {
    pub sealer: Arc<KeySealer>,
    pub hsm: Option<Arc<Hsm>>,
    pub rsa: RsaKeySize,
}

impl KeyCustody {
    /// Keys sealed in the database only; RSA keys of 2048 bits.
    pub fn sealed(sealer: Arc<KeySealer>) -> Self {
        Self { sealer, hsm: None, rsa: RsaKeySize::default() }
    }

    /// A new key for `algorithm`, signing from `active_from`: made in the HSM
    /// when there is one (the row holds a reference and the public key),
    /// otherwise generated here and sealed.
    pub fn create(
        &self,
        algorithm: SigningAlgorithm,
        created_at: i64,
        active_from: i64,
    ) -> Result<KeyRow, AuthError> {
        let algorithm_name = algorithm.as_str().to_owned();
        if let Some(hsm) = &self.hsm {
            let (reference, kid, jwk) = hsm.generate(algorithm, self.rsa)?;
            let public_jwk = Some(serde_json::to_string(&jwk).map_err(AuthError::internal)?);
            return Ok(KeyRow {
                kid,
                algorithm: algorithm_name,
                private_key: reference,
                created_at,
                active_from,
                public_jwk,
            });
        }
        let pkcs8 = algorithm.generate_pkcs8(self.rsa)?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8));
        let encoding = algorithm.encoding_key(&pem).map_err(AuthError::internal)?;
        let kid = Jwk::from_encoding_key(&encoding, algorithm.jwt())
            .and_then(|jwk| jwk.thumbprint(ThumbprintHash::SHA256))
            .map_err(AuthError::internal)?;
        let private_key = self.sealer.seal(&kid, &pem)?;
        Ok(KeyRow { kid, algorithm: algorithm_name, private_key, created_at, active_from, public_jwk: None })
    }

    /// Fails unless every sealed key opens with this key-encryption key, so
    /// a key added now is not sealed under another than the rest.
    pub fn check(&self, rows: &[KeyRow]) -> Result<(), AuthError> {
        for row in rows.iter().filter(|row| !in_hsm(row)) {
            self.sealer.open(&row.kid, &row.private_key)?;
        }
        Ok(())
    }

    /// The public half of a stored key: as the JWKS publishes it (with kid
    /// and use) and as tokens are verified with it.
    pub fn public(&self, row: &KeyRow) -> Result<(Jwk, VerifyingKey), AuthError> {
        let algorithm = algorithm_of(row)?;
        let mut jwk = match &row.public_jwk {
            Some(public) => serde_json::from_str::<Jwk>(public).map_err(AuthError::internal)?,
            None => {
                let pem = self.sealer.open(&row.kid, &row.private_key)?.pem;
                let encoding = algorithm.encoding_key(&pem).map_err(AuthError::internal)?;
                Jwk::from_encoding_key(&encoding, algorithm.jwt()).map_err(AuthError::internal)?
            }
        };
        jwk.common.key_id = Some(row.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(AuthError::internal)?;
        Ok((jwk, VerifyingKey { algorithm: algorithm.jwt(), decoding }))
    }

    /// What signs with a stored key: its parsed private key, or the HSM
    /// object it names (which must still be there).
    pub fn signer(&self, row: &KeyRow) -> Result<SigningKey, AuthError> {
        let algorithm = algorithm_of(row)?;
        if !in_hsm(row) {
            let pem = self.sealer.open(&row.kid, &row.private_key)?.pem;
            let pkcs8 = pem::parse(&pem).map_err(AuthError::internal)?;
            return SigningKey::new(&row.kid, algorithm, pkcs8.contents(), ACCESS_TOKEN_TYP);
        }
        let Some(hsm) = &self.hsm else {
            return Err(AuthError::Misconfigured(format!(
                "the signing key {} lives in an HSM ({}): start with --pkcs11-module, \
                 --pkcs11-token-label and --pkcs11-pin-file",
                row.kid, row.private_key
            )));
        };
        let key = hsm.find(&row.kid, &row.private_key)?;
        Ok(SigningKey::in_hsm(&row.kid, algorithm, hsm.clone(), key, ACCESS_TOKEN_TYP))
    }
}

/// Whether a stored key is held in an HSM rather than sealed in the row.
pub fn in_hsm(row: &KeyRow) -> bool {
    row.private_key.starts_with(REFERENCE_PREFIX)
}

fn algorithm_of(row: &KeyRow) -> Result<SigningAlgorithm, AuthError> {
    SigningAlgorithm::from_str(&row.algorithm).map_err(AuthError::internal)
}
