//! Signing keys: the ring that signs and verifies tokens, their administration
//! (rotate, list, retire, rekey), the schedule they rotate and retire on by
//! themselves, where their private halves are kept (`custody`: sealed at rest
//! under the key-encryption key, or in an HSM through PKCS#11), and the
//! signer, which writes ES256 signatures in the one form `tokend_common::ecdsa`
//! accepts.

mod admin;
mod algorithm;
mod custody;
mod hsm;
mod key_file;
mod ring;
mod schedule;
mod sealing;
mod signer;

pub use admin::{KeyInfo, KeyListing};
pub use algorithm::{RsaKeySize, SigningAlgorithm};
pub use custody::KeyCustody;
pub use hsm::{Hsm, HsmSettings};
pub use key_file::create_private;
pub use ring::KeyRing;
pub use schedule::KeyPolicy;
pub use sealing::KeySealer;
pub use signer::INTROSPECTION_TYP;
