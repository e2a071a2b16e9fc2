//! Server-provided DPoP nonces (RFC 9449 §8), for `--dpop-nonce`: a nonce is
//! the number of a time slot and a MAC of it under a key every instance
//! derives from the key-encryption key, so any instance on the database
//! accepts another's nonce with no store write, and nonces rotate by
//! themselves as the slots pass. A nonce is good in its slot and the next.

use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use subtle::ConstantTimeEq;

/// How long one nonce is handed out; each is accepted for up to twice this.
pub const SLOT_SECONDS: i64 = 60;
const MAC_LEN: usize = 16;

pub struct Nonces {
    key: hmac::Key,
}

impl Nonces {
    pub fn new(key: hmac::Key) -> Self {
        Self { key }
    }

    /// The nonce to hand out at `now`.
    pub fn current(&self, now: i64) -> String {
        self.for_slot(now.div_euclid(SLOT_SECONDS))
    }

    /// Whether `nonce` was handed out in this slot or the one before.
    pub fn is_fresh(&self, nonce: &str, now: i64) -> bool {
        let slot = now.div_euclid(SLOT_SECONDS);
        [slot, slot - 1]
            .into_iter()
            .any(|slot| bool::from(self.for_slot(slot).as_bytes().ct_eq(nonce.as_bytes())))
    }

    fn for_slot(&self, slot: i64) -> String {
        let slot = slot.to_be_bytes();
        let mac = hmac::sign(&self.key, &slot);
        let mut nonce = slot.to_vec();
        nonce.extend_from_slice(&mac.as_ref()[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonces(byte: u8) -> Nonces {
        Nonces::new(hmac::Key::new(hmac::HMAC_SHA256, &[byte; 32]))
    }

    #[test]
    fn a_nonce_is_good_in_its_slot_and_the_next_on_any_instance() {
        let nonce = nonces(1).current(1000);
        assert!(nonces(1).is_fresh(&nonce, 1000));
        assert!(nonces(1).is_fresh(&nonce, 1000 + SLOT_SECONDS));
        assert!(!nonces(1).is_fresh(&nonce, 1000 + 2 * SLOT_SECONDS), "stale");
        assert!(!nonces(2).is_fresh(&nonce, 1000), "another key's");
        assert!(!nonces(1).is_fresh("made-up", 1000));
        assert_ne!(nonces(1).current(1000), nonces(1).current(1000 + SLOT_SECONDS), "rotates");
    }
}
