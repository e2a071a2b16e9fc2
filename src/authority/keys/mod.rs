//! Signing keys: the ring that signs and verifies tokens, their administration
//! (rotate, list, retire), the schedule they rotate and retire on by
//! themselves, sealing them at rest under the key-encryption key and the file
//! that key lives in, and the signer, which writes ES256 signatures in the
//! one form `tokend_common::ecdsa` accepts.

mod admin;
mod key_file;
mod ring;
mod schedule;
mod sealing;
mod signer;

pub use admin::{KeyInfo, KeyListing};
pub use ring::{KeyRing, SigningAlgorithm};
pub use schedule::KeyPolicy;
pub use sealing::KeySealer;
pub use signer::INTROSPECTION_TYP;
