//! Signing keys: the ring that signs and verifies tokens, their administration
//! (rotate, list, retire), sealing them at rest under the key-encryption key
//! and the file that key lives in, and the signer with its one valid ECDSA form.

mod admin;
pub(super) mod ecdsa;
mod key_file;
mod ring;
mod sealing;
mod signer;

pub use admin::KeyInfo;
pub use ring::{KeyRing, SigningAlgorithm};
pub use sealing::KeySealer;
pub use signer::INTROSPECTION_TYP;
