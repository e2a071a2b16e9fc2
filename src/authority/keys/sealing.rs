//! Signing keys at rest: sealed with AES-256-GCM under a key-encryption key
//! kept outside the database, so a copy of the database signs nothing.

use std::{fmt, path::Path};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::key_file;
use crate::authority::AuthError;

/// Marks a sealed private key in the store; the rest is base64(nonce ‖ ciphertext ‖ tag).
const SEALED_PREFIX: &str = "sealed:v1:";
/// What private keys stored before sealing existed start with.
const PLAIN_PEM_PREFIX: &str = "-----BEGIN";
const KEY_LEN: usize = 32;

/// The key-encryption key. Its `Debug` shows nothing of it.
pub struct KeySealer {
    key: LessSafeKey,
}

/// A stored private key opened: the PEM, and whether it was stored unsealed.
pub struct Opened {
    pub pem: String,
    pub was_plain: bool,
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
        Self::from_bytes(&bytes).ok_or_else(|| problem("not 32 bytes"))
    }

    /// `None` unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok().filter(|_| bytes.len() == KEY_LEN)?;
        Some(Self { key: LessSafeKey::new(key) })
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
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(envelope)))
    }

    /// The PEM of a stored private key; keys stored before sealing existed
    /// open as they are, marked so they can be sealed now.
    pub fn open(&self, kid: &str, stored: &str) -> Result<Opened, AuthError> {
        if stored.starts_with(PLAIN_PEM_PREFIX) {
            return Ok(Opened { pem: stored.to_owned(), was_plain: true });
        }
        let wrong = || {
            AuthError::Misconfigured(format!(
                "signing key {kid} does not open with this key-encryption key; \
                 every instance on one database needs the same key file"
            ))
        };
        let envelope = stored.strip_prefix(SEALED_PREFIX).ok_or_else(wrong)?;
        let mut envelope = STANDARD.decode(envelope).map_err(|_| wrong())?;
        if envelope.len() < NONCE_LEN {
            return Err(wrong());
        }
        let mut sealed = envelope.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&envelope).map_err(|_| wrong())?;
        let pem =
            self.key.open_in_place(nonce, Aad::from(kid.as_bytes()), &mut sealed).map_err(|_| wrong())?;
        let pem = String::from_utf8(pem.to_vec()).map_err(|_| wrong())?;
        Ok(Opened { pem, was_plain: false })
    }
}

impl fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySealer(..)")
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
        assert_eq!((opened.pem.as_str(), opened.was_plain), (pem, false));
        assert!(matches!(sealer(2).open("kid-1", &sealed), Err(AuthError::Misconfigured(_))), "another KEK");
        assert!(sealer(1).open("kid-2", &sealed).is_err(), "another row");
        assert!(sealer(1).open("kid-1", "sealed:v1:AAAA").is_err(), "truncated");
    }

    #[test]
    fn a_key_stored_before_sealing_opens_and_is_marked() {
        let opened = sealer(1).open("kid", "-----BEGIN PRIVATE KEY-----\n").unwrap();
        assert!(opened.was_plain);
    }

    #[test]
    fn only_32_byte_keys_are_accepted() {
        assert!(KeySealer::from_bytes(&[0; 16]).is_none());
        assert!(KeySealer::from_bytes(&[0; 33]).is_none());
        assert_eq!(format!("{:?}", sealer(7)), "KeySealer(..)");
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
