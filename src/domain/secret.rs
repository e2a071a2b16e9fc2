//! Client secrets in plain text: generated here, shown once, then only ever
//! hashed. A secret reads `tokend_` + its id + 256 random bits + a checksum,
//! so secret scanners find a leaked one by pattern (docs/SECRET_SCANNING.md)
//! and a mistyped one is refused before any database or argon2 work.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;

/// Characters of the secret id that opens every secret.
const ID_LEN: usize = 16;
/// Random bytes behind the id: 256 bits, as 43 URL-safe characters.
const RANDOM_BYTES: usize = 32;
const RANDOM_LEN: usize = 43;
/// What every secret starts with since secrets became scannable.
pub const SECRET_PREFIX: &str = "tokend_";
/// The CRC-32 of the id and random part, in six base-62 digits.
const CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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
    /// Draws a new secret from the operating system's CSPRNG: the prefix, a
    /// 96-bit id and 256 random bits in the URL-safe base64 alphabet, and
    /// their checksum.
    pub fn generate() -> (SecretId, ClientSecret) {
        let id = SecretId(URL_SAFE_NO_PAD.encode(random_bytes::<12>()));
        let secret = Self::generate_with_id(&id);
        (id, secret)
    }

    /// A new random secret under an id that exists already: what a guess at
    /// that secret looks like (the id is no secret), for tests and benchmarks.
    pub fn generate_with_id(id: &SecretId) -> ClientSecret {
        let body = format!("{id}{}", URL_SAFE_NO_PAD.encode(random_bytes::<RANDOM_BYTES>()));
        ClientSecret(format!("{SECRET_PREFIX}{body}{}", checksum(&body)))
    }

    /// Wraps a secret presented by a caller; nothing about it is trusted yet.
    pub fn presented(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The id this secret claims to belong to, if it has the shape of one of
    /// ours: prefixed with a checksum that matches, or the unprefixed form of
    /// secrets issued before the prefix, which keep working. The checksum is
    /// computed from the presented text alone, so comparing it reveals nothing.
    pub fn claimed_id(&self) -> Option<SecretId> {
        let body = if self.0.len() == ID_LEN + RANDOM_LEN {
            self.0.as_str()
        } else {
            let rest = self.0.strip_prefix(SECRET_PREFIX)?;
            let (body, sum) = rest.split_at_checked(ID_LEN + RANDOM_LEN)?;
            (sum.len() == CHECKSUM_LEN && sum == checksum(body)).then_some(body)?
        };
        let well_formed = body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| SecretId(body[..ID_LEN].to_owned()))
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

/// The CRC-32 (IEEE) of `body` in six base-62 digits.
fn checksum(body: &str) -> String {
    let mut value = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("base-62 digits are ASCII")
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
        assert!(secret.expose().starts_with(SECRET_PREFIX));
        assert_eq!(secret.expose().len(), SECRET_PREFIX.len() + 59 + CHECKSUM_LEN);
    }

    #[test]
    fn a_secret_with_one_character_mistyped_claims_no_id() {
        let (_, secret) = ClientSecret::generate();
        for position in SECRET_PREFIX.len()..secret.expose().len() {
            let mut typo = secret.expose().as_bytes().to_vec();
            typo[position] = if typo[position] == b'A' { b'B' } else { b'A' };
            let typo = ClientSecret::presented(String::from_utf8(typo).unwrap());
            assert_eq!(typo.claimed_id(), None, "a typo at {position} passed the checksum");
        }
    }

    #[test]
    fn a_secret_from_before_the_prefix_still_names_its_id() {
        let old = ClientSecret::presented(format!("{}{}", "I".repeat(16), "r".repeat(43)));
        assert_eq!(old.claimed_id().map(|id| id.0), Some("I".repeat(16)));
    }

    #[test]
    fn the_documented_pattern_finds_generated_secrets_and_nothing_else() {
        let doc = include_str!("../../docs/SECRET_SCANNING.md");
        let pattern = doc.split("<!-- pattern -->").nth(1).and_then(|rest| rest.split('`').nth(1)).unwrap();
        let pattern = regex::Regex::new(pattern).unwrap();
        for _ in 0..100 {
            let secret = ClientSecret::generate().1;
            let leaked = format!("config: {{\"client_secret\": \"{}\"}}", secret.expose());
            assert_eq!(pattern.find(&leaked).map(|found| found.as_str()), Some(secret.expose()));
        }
        assert!(!pattern.is_match("tokend_ is a word; tokend_short is not a secret"));
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
