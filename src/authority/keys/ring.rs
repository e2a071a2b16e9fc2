//! Signing keys: created on first start, kept in the store, held in memory.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, jwk::JwkSet};
use tokend_common::{claim_names, ecdsa};

use super::{
    SigningAlgorithm,
    custody::{KeyCustody, in_hsm},
    signer::SigningKey,
};
use crate::authority::AuthError;
use crate::store::{KeyRow, Store};

/// A public key that checks tokens.
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

/// Every key tokend knows: one to sign with, all of them to verify with, and
/// their public halves as the JWKS resource servers fetch.
pub struct KeyRing {
    pub signing: SigningKey,
    verifying: HashMap<String, VerifyingKey>,
    public: JwkSet,
    /// The stored keys this ring was built from, to notice when others appear.
    kids: Vec<String>,
    /// When a pending key of the ring's algorithm starts signing, if one does.
    next_activation: Option<i64>,
}

impl KeyRing {
    /// Loads the stored keys, creating and storing a key for `algorithm`
    /// when none exists yet. The newest active key of that algorithm signs
    /// (see [`signer_at`]). Keys stored before sealing (or before sealed keys
    /// named their key-encryption key) are sealed now.
    pub async fn load_or_create(
        store: &Store,
        algorithm: SigningAlgorithm,
        now: i64,
        custody: &KeyCustody,
    ) -> Result<Self, AuthError> {
        let mut rows = store.keys().await?;
        for row in rows.iter_mut().filter(|row| !in_hsm(row)) {
            let opened = custody.sealer.open(&row.kid, &row.private_key)?;
            if opened.outdated {
                row.private_key = custody.sealer.seal(&row.kid, &opened.pem)?;
                store.replace_private_key(&row.kid, &row.private_key).await?;
            }
        }
        if !rows.iter().any(|row| row.algorithm == algorithm.as_str()) {
            // Instances started together on an empty database make one key
            // between them; the others sign with the one that was stored.
            let row = custody.create(algorithm, now, now)?;
            if !store.insert_first_key(&row).await? {
                tracing::info!(algorithm = algorithm.as_str(), "another instance made the first signing key");
            }
            rows = store.keys().await?;
        }
        Self::from_rows(rows, algorithm, custody, now)
    }

    /// A ring rebuilt from the store when keys were added or retired (by the
    /// CLI or another instance) or a pending key starts signing at `now`;
    /// `None` when nothing changed. Every instance picks the signer by the
    /// same rule, so instances that raced at first start converge.
    pub async fn refreshed(
        &self,
        store: &Store,
        algorithm: SigningAlgorithm,
        custody: &KeyCustody,
        now: i64,
    ) -> Result<Option<Self>, AuthError> {
        let rows = store.keys().await?;
        let activation_due = self.next_activation.is_some_and(|at| at <= now);
        if !activation_due && rows.iter().map(|row| &row.kid).eq(self.kids.iter()) {
            return Ok(None);
        }
        Self::from_rows(rows, algorithm, custody, now).map(Some)
    }

    fn from_rows(
        rows: Vec<KeyRow>,
        algorithm: SigningAlgorithm,
        custody: &KeyCustody,
        now: i64,
    ) -> Result<Self, AuthError> {
        let kids = rows.iter().map(|row| row.kid.clone()).collect();
        let signer = signer_at(&rows, algorithm.as_str(), now)
            .ok_or_else(|| AuthError::internal("no signing key"))?
            .kid
            .clone();
        let next_activation = rows
            .iter()
            .filter(|row| row.algorithm == algorithm.as_str() && row.active_from > now)
            .map(|row| row.active_from)
            .min();
        let mut signing = None;
        let mut verifying = HashMap::new();
        let mut public = JwkSet { keys: Vec::new() };
        for row in rows {
            let (jwk, verifier) = custody.public(&row)?;
            if row.kid == signer {
                signing = Some(custody.signer(&row)?);
            }
            public.keys.push(jwk);
            verifying.insert(row.kid, verifier);
        }
        let signing = signing.ok_or_else(|| AuthError::internal("no signing key"))?;
        Ok(Self { signing, verifying, public, kids, next_activation })
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.get(kid)
    }

    /// The key to check `token` with, if it is a JWT of type `typ` in the
    /// one form tokend signs: no critical extension, a `kid` of this ring,
    /// that key's own algorithm, an ES256 signature in its low-s form, and
    /// each claim named once (RFC 7519 §4). Its signature is the caller's to check.
    pub fn key_for(&self, token: &str, typ: &str) -> Option<&VerifyingKey> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.typ.as_deref() != Some(typ) || header.crit.is_some() {
            return None;
        }
        let key = self.verifying_key(header.kid.as_deref()?)?;
        let one_form = header.alg == key.algorithm
            && (key.algorithm != Algorithm::ES256 || ecdsa::jws_has_low_s(token))
            && claim_names::payload_names_are_unique(token);
        one_form.then_some(key)
    }

    /// The public keys, newest first, each with `kid`, `alg` and `use: sig`.
    pub fn jwks(&self) -> &JwkSet {
        &self.public
    }

    /// The algorithms of the keys that verify, without repeats.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algorithms: Vec<Algorithm> = Vec::new();
        for key in self.verifying.values() {
            if !algorithms.contains(&key.algorithm) {
                algorithms.push(key.algorithm);
            }
        }
        algorithms
    }
}

/// The stored key (`rows` newest first) that signs for `algorithm` at `now`:
/// the newest whose activation has come; when none has yet, the one that
/// activates first, so a server never lacks a signer.
pub(super) fn signer_at<'a>(rows: &'a [KeyRow], algorithm: &str, now: i64) -> Option<&'a KeyRow> {
    let candidates = rows.iter().filter(|row| row.algorithm == algorithm);
    candidates
        .clone()
        .find(|row| row.active_from <= now)
        .or_else(|| candidates.min_by_key(|row| row.active_from))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::authority::{KeySealer, tokens::ACCESS_TOKEN_TYP};

    #[test]
    fn every_algorithm_makes_a_key_that_signs_and_verifies() {
        for alg in [
            SigningAlgorithm::Es256,
            SigningAlgorithm::EdDsa,
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Ps256,
        ] {
            let custody = KeyCustody::sealed(std::sync::Arc::new(KeySealer::from_bytes(&[9; 32]).unwrap()));
            let row = custody.create(alg, 0, 0).unwrap();
            let (signing, verifying) = (custody.signer(&row).unwrap(), custody.public(&row).unwrap().1);
            let token = signing.sign_jwt(&serde_json::json!({"sub": "x"})).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.typ.as_deref(), Some(ACCESS_TOKEN_TYP));
            assert_eq!(header.kid.as_deref(), Some(row.kid.as_str()));
            let mut validation = jsonwebtoken::Validation::new(verifying.algorithm);
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            let data = jsonwebtoken::decode::<serde_json::Value>(&token, &verifying.decoding, &validation);
            assert_eq!(data.unwrap().claims["sub"], "x", "{alg}");
        }
    }

    /// A stored key with no key material, for tests of the rules over rows.
    pub(in crate::authority::keys) fn row(
        kid: &str,
        algorithm: &str,
        created_at: i64,
        active_from: i64,
    ) -> KeyRow {
        KeyRow {
            kid: kid.into(),
            algorithm: algorithm.into(),
            private_key: String::new(),
            created_at,
            active_from,
            public_jwk: None,
        }
    }

    #[tokio::test]
    async fn a_pending_key_takes_over_at_the_first_refresh_after_its_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("k.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let sealer = KeyCustody::sealed(std::sync::Arc::new(KeySealer::from_bytes(&[3; 32]).unwrap()));
        let alg = SigningAlgorithm::Es256;
        let clock = crate::authority::Clock::system();
        let now = clock.now();
        let ring = KeyRing::load_or_create(&store, alg, now, &sealer).await.unwrap();
        let first = ring.signing.kid.clone();
        let pending = KeyRing::rotate(&store, &clock, alg, 100, &sealer, &crate::authority::Actor::cli())
            .await
            .unwrap();

        let ring = ring.refreshed(&store, alg, &sealer, now).await.unwrap().expect("a key was added");
        assert_eq!(ring.signing.kid, first, "published, not signing yet");
        assert!(ring.verifying_key(&pending).is_some());
        assert!(ring.refreshed(&store, alg, &sealer, now + 50).await.unwrap().is_none(), "nothing to do yet");
        let ring = ring.refreshed(&store, alg, &sealer, now + 101).await.unwrap().expect("its time came");
        assert_eq!(ring.signing.kid, pending);
        assert!(ring.refreshed(&store, alg, &sealer, now + 200).await.unwrap().is_none());
    }

    #[test]
    fn the_newest_active_key_signs_and_a_pending_one_waits() {
        let rows =
            [row("pending", "ES256", 30, 400), row("current", "ES256", 20, 20), row("ed", "EdDSA", 10, 10)];
        assert_eq!(signer_at(&rows, "ES256", 100).unwrap().kid, "current");
        assert_eq!(signer_at(&rows, "ES256", 400).unwrap().kid, "pending");
        assert_eq!(signer_at(&rows, "EdDSA", 100).unwrap().kid, "ed");
        let only_pending = [row("later", "ES256", 30, 500), row("sooner", "ES256", 20, 300)];
        assert_eq!(signer_at(&only_pending, "ES256", 100).unwrap().kid, "sooner", "never without a signer");
        assert!(signer_at(&rows, "RS256", 100).is_none());
    }
}
