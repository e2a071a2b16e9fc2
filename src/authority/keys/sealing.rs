//! Signing keys at rest: sealed with AES-256-GCM under a key-encryption key
//! kept outside the database, so a copy of the database signs nothing. Each
//! sealed key names the key-encryption key it needs by a fingerprint, so a
//! server holding another one (before or after `tokend keys rekey`) says
//! which it needs.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    digest, hmac,
};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::key_file;
use crate::authority::AuthError;

/// Marks a sealed private key in the store: `sealed:v2:FINGERPRINT:` and
/// base64(nonce ‖ ciphertext ‖ tag).
const SEALED_PREFIX: &str = "sealed:v2:";
/// The same without the fingerprint, as keys were sealed before it existed.
const SEALED_V1_PREFIX: &str = "sealed:v1:";
/// What private keys stored before sealing existed start with.
const PLAIN_PEM_PREFIX: &str = "-----BEGIN";
const KEY_LEN: usize = 32;
/// Hex digits of a key-encryption key's fingerprint: 48 bits of its
/// SHA-256, enough to tell a fleet's few keys apart and nothing to find one by.
const FINGERPRINT_LEN: usize = 12;

/// The key-encryption key. Its `Debug` shows its fingerprint, nothing of it.
pub struct KeySealer {
    key: LessSafeKey,
    /// HMAC keys for other purposes are derived from this one (see [`Self::derive`]).
    derivation: hmac::Key,
    fingerprint: String,
    /// The file it was read from, to name in errors.
    path: Option<PathBuf>,
}

/// A stored private key opened: the PEM, and whether it should be sealed
/// again (it was stored unsealed, or sealed without a fingerprint).
pub struct Opened {
    pub pem: String,
    pub outdated: bool,
}

impl KeySealer {
    /// Reads the key file (base64 of 32 bytes), or creates it with a fresh
    /// random key when it does not exist (see `key_file`).
    pub fn load_or_create(path: &Path) -> Result<Self, AuthError> {
        let problem =
            |what: &str| AuthError::Misconfigured(format!("key-encryption key {}: {what}", path.display()));
        let fresh = || {
            let mut bytes = [0u8; KEY_LEN];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            STANDARD.encode(bytes)
        };
        let encoded = key_file::read_or_create(path, fresh).map_err(|err| problem(&err.to_string()))?;
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| problem("not base64"))?;
        let sealer = Self::from_bytes(&bytes).ok_or_else(|| problem("not 32 bytes"))?;
        Ok(Self { path: Some(path.to_owned()), ..sealer })
    }

    /// Whether a key as stored is sealed under some key-encryption key.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX) || stored.starts_with(SEALED_V1_PREFIX)
    }

    /// `None` unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok().filter(|_| bytes.len() == KEY_LEN)?;
        let digest = digest::digest(&digest::SHA256, bytes);
        let fingerprint: String = digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
        Some(Self {
            key: LessSafeKey::new(key),
            derivation: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            fingerprint: fingerprint[..FINGERPRINT_LEN].to_owned(),
            path: None,
        })
    }

    /// An HMAC-SHA256 key for `purpose`, the same in every process holding
    /// this key-encryption key and unrelated to the key itself: what every
    /// instance of a fleet shares without a word in the database.
    pub fn derive(&self, purpose: &str) -> hmac::Key {
        let derived = hmac::sign(&self.derivation, purpose.as_bytes());
        hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
    }

    /// What names this key in sealed keys and messages: 12 hex digits.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// This key as a message names it: its fingerprint and file.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("{} (in {})", self.fingerprint, path.display()),
            None => self.fingerprint.clone(),
        }
    }

    /// `pem` sealed for the row of `kid`: the kid is authenticated with it, so
    /// a sealed key moved to another row does not open.
    pub fn seal(&self, kid: &str, pem: &str) -> Result<String, AuthError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(AuthError::internal)?;
        let mut sealed = pem.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| AuthError::internal("sealing a signing key failed"))?;
        let mut envelope = nonce.to_vec();
        envelope.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}:{}", self.fingerprint, STANDARD.encode(envelope)))
    }

    /// The PEM of a stored private key; keys stored before sealing existed
    /// open as they are, marked so they can be sealed now.
    pub fn open(&self, kid: &str, stored: &str) -> Result<Opened, AuthError> {
        if stored.starts_with(PLAIN_PEM_PREFIX) {
            return Ok(Opened { pem: stored.to_owned(), outdated: true });
        }
        let wrong = || {
            AuthError::Misconfigured(format!(
                "signing key {kid} does not open with the key-encryption key {}; \
                 every instance on one database needs the same key file",
                self.describe()
            ))
        };
        let (envelope, outdated) = match stored.strip_prefix(SEALED_PREFIX) {
            Some(named) => {
                let (fingerprint, envelope) = named.split_once(':').ok_or_else(wrong)?;
                if fingerprint != self.fingerprint {
                    return Err(AuthError::Misconfigured(format!(
                        "signing key {kid} is sealed under the key-encryption key {fingerprint}, \
                         not {}: start with --key-encryption-key-file naming the file that holds \
                         {fingerprint} (after `tokend keys rekey`, the new one)",
                        self.describe()
                    )));
                }
                (envelope, false)
            }
            None => (stored.strip_prefix(SEALED_V1_PREFIX).ok_or_else(wrong)?, true),
        };
        let mut envelope = STANDARD.decode(envelope).map_err(|_| wrong())?;
        if envelope.len() < NONCE_LEN {
            return Err(wrong());
        }
        let mut sealed = envelope.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&envelope).map_err(|_| wrong())?;
        let pem =
            self.key.open_in_place(nonce, Aad::from(kid.as_bytes()), &mut sealed).map_err(|_| wrong())?;
        let pem = String::from_utf8(pem.to_vec()).map_err(|_| wrong())?;
        Ok(Opened { pem, outdated })
    }
}

impl fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySealer({})", self.fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> KeySealer {
        KeySealer::from_bytes(&[byte; KEY_LEN]).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_kek_and_kid() {
        let pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
        let sealed = sealer(1).seal("kid-1", pem).unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("PRIVATE KEY"));
        let opened = sealer(1).open("kid-1", &sealed).unwrap();
        assert_eq!((opened.pem.as_str(), opened.outdated), (pem, false));
        assert!(matches!(sealer(2).open("kid-1", &sealed), Err(AuthError::Misconfigured(_))), "another KEK");
        assert!(sealer(1).open("kid-2", &sealed).is_err(), "another row");
        let truncated = format!("sealed:v2:{}:AAAA", sealer(1).fingerprint());
        assert!(sealer(1).open("kid-1", &truncated).is_err(), "truncated");
    }

    #[test]
    fn a_key_sealed_under_another_kek_names_the_one_it_needs() {
        let sealed = sealer(1).seal("kid", "pem").unwrap();
        let Err(AuthError::Misconfigured(said)) = sealer(2).open("kid", &sealed) else {
            panic!("another KEK opens nothing");
        };
        assert!(said.contains(sealer(1).fingerprint()) && said.contains(sealer(2).fingerprint()), "{said}");
        assert_ne!(sealer(1).fingerprint(), sealer(2).fingerprint());
        assert_eq!(sealer(1).fingerprint().len(), FINGERPRINT_LEN);
    }

    #[test]
    fn keys_stored_unsealed_or_without_a_fingerprint_open_and_are_marked() {
        let opened = sealer(1).open("kid", "-----BEGIN PRIVATE KEY-----\n").unwrap();
        assert!(opened.outdated);
        let v2 = sealer(1).seal("kid", "pem").unwrap();
        let (_, envelope) = v2.strip_prefix(SEALED_PREFIX).unwrap().split_once(':').unwrap();
        let v1 = format!("{SEALED_V1_PREFIX}{envelope}");
        let opened = sealer(1).open("kid", &v1).unwrap();
        assert_eq!((opened.pem.as_str(), opened.outdated), ("pem", true));
    }

    #[test]
    fn only_32_byte_keys_are_accepted() {
        assert!(KeySealer::from_bytes(&[0; 16]).is_none());
        assert!(KeySealer::from_bytes(&[0; 33]).is_none());
        assert_eq!(format!("{:?}", sealer(7)), format!("KeySealer({})", sealer(7).fingerprint()));
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokend.kek");
        let first = KeySealer::load_or_create(&path).unwrap();
        let sealed = first.seal("kid", "pem").unwrap();
        let again = KeySealer::load_or_create(&path).unwrap();
        assert_eq!(again.open("kid", &sealed).unwrap().pem, "pem");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(KeySealer::load_or_create(&path).is_err());
    }
}
