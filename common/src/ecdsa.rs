//! ECDSA P-256 signatures in one form only, with `s` at most n/2: for any
//! signature (r, s), (r, n − s) verifies too, so without this rule every token
//! would have a second valid string, and caches and deny lists keyed by the
//! string could be walked around.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The order n of the P-256 group, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc,
    0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// n/2, rounded down: the largest `s` of the low form.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xde,
    0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];
/// A fixed-size P-256 signature: r then s, 32 bytes each (RFC 7518 §3.4).
const SIGNATURE_BYTES: usize = 64;

/// Whether a fixed-size `r || s` signature has its `s` in the low form.
/// Equal-length big-endian byte strings compare as the numbers they encode.
pub fn is_low_s(signature: &[u8]) -> bool {
    signature.len() == SIGNATURE_BYTES && signature[32..] <= HALF_ORDER[..]
}

/// Puts a fixed-size `r || s` signature in its low form: a high `s` becomes n − s.
pub fn to_low_s(signature: &mut [u8]) {
    if !is_low_s(signature) {
        to_other_form(signature);
    }
}

/// Turns a fixed-size `r || s` signature into its twin (r, n − s), which
/// verifies as well; tests use it to make the form that must be refused.
pub fn to_other_form(signature: &mut [u8]) {
    if signature.len() != SIGNATURE_BYTES {
        return;
    }
    let mut borrow = 0;
    for (s, n) in signature[32..].iter_mut().zip(ORDER).rev() {
        let difference = i16::from(n) - i16::from(*s) - borrow;
        borrow = i16::from(difference < 0);
        *s = difference.rem_euclid(256) as u8;
    }
}

/// Whether a compact JWS signed with ES256 carries a low-form signature.
pub fn jws_has_low_s(jws: &str) -> bool {
    let signature = jws.rsplit('.').next().unwrap_or_default();
    URL_SAFE_NO_PAD.decode(signature).is_ok_and(|signature| is_low_s(&signature))
}

/// A compact ES256 JWS with its signature in the other form (see [`to_other_form`]).
pub fn jws_twin(jws: &str) -> String {
    let (signed, signature) = jws.rsplit_once('.').unwrap_or((jws, ""));
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    to_other_form(&mut signature);
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature_with_s(s: [u8; 32]) -> Vec<u8> {
        [[7u8; 32], s].concat()
    }

    #[test]
    fn half_the_order_is_low_and_one_more_is_high() {
        assert!(is_low_s(&signature_with_s(HALF_ORDER)));
        let mut above = HALF_ORDER;
        above[31] += 1;
        assert!(!is_low_s(&signature_with_s(above)));
    }

    #[test]
    fn a_high_s_becomes_the_order_minus_s() {
        let mut n_minus_one = ORDER;
        n_minus_one[31] -= 1;
        let mut high = signature_with_s(n_minus_one);
        to_low_s(&mut high);
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(high, signature_with_s(one));
    }

    #[test]
    fn a_low_s_is_left_alone() {
        let mut signature = signature_with_s(HALF_ORDER);
        to_low_s(&mut signature);
        assert_eq!(signature, signature_with_s(HALF_ORDER));
    }

    #[test]
    fn a_signature_of_the_wrong_size_is_not_low() {
        assert!(!is_low_s(&[0u8; 63]));
        assert!(!jws_has_low_s("a.b.!!"));
    }
}
