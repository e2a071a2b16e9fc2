//! Client secrets in plain text: generated here, shown once, then only ever hashed.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;

/// Characters of the secret id that opens every secret.
const ID_LEN: usize = 16;
/// Random bytes behind the id: 256 bits, as 43 URL-safe characters.
const RANDOM_BYTES: usize = 32;
const RANDOM_LEN: usize = 43;

/// Names one of a client's secrets without revealing it. Every secret starts
/// with its id, so a presented secret is checked against one hash, not all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretId(String);

impl SecretId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps an id read back from the store.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client secret in plain text. `Debug` and `Display` never show it; read it
/// with [`ClientSecret::expose`] only to hash it or to hand it to its owner once.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Draws a new secret from the operating system's CSPRNG:
    /// a 96-bit id followed by 256 random bits, all in the URL-safe base64 alphabet.
    pub fn generate() -> (SecretId, ClientSecret) {
        let id = URL_SAFE_NO_PAD.encode(random_bytes::<12>());
        let random = URL_SAFE_NO_PAD.encode(random_bytes::<RANDOM_BYTES>());
        let secret = ClientSecret(format!("{id}{random}"));
        (SecretId(id), secret)
    }

    /// Wraps a secret presented by a caller; nothing about it is trusted yet.
    pub fn presented(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The id this secret claims to belong to, if it has the shape of one of ours.
    pub fn claimed_id(&self) -> Option<SecretId> {
        let well_formed = self.0.len() == ID_LEN + RANDOM_LEN
            && self.0.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| SecretId(self.0[..ID_LEN].to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for ClientSecret {
    /// Constant-time, so comparing secrets reveals nothing through timing.
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(redacted)")
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_names_its_own_id() {
        let (id, secret) = ClientSecret::generate();
        assert_eq!(secret.claimed_id(), Some(id));
        assert_eq!(secret.expose().len(), 59);
    }

    #[test]
    fn two_generated_secrets_differ() {
        assert_ne!(ClientSecret::generate().1, ClientSecret::generate().1);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let (_, secret) = ClientSecret::generate();
        let shown = format!("{secret:?}");
        assert!(!shown.contains(secret.expose()));
    }

    #[test]
    fn a_secret_of_the_wrong_shape_claims_no_id() {
        assert_eq!(ClientSecret::presented("hunter2").claimed_id(), None);
        assert_eq!(ClientSecret::presented("é".repeat(30)).claimed_id(), None);
    }
}
