//! The algorithms tokend signs with, and the size of the RSA keys it makes.

use std::{fmt, str::FromStr};

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SystemRandom,
    rsa::KeySize,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair},
};
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::authority::AuthError;

/// The algorithms tokend signs with. ES256 is the default: short signatures,
/// fast signing, supported by every JOSE library. RS256 and PS256 are for
/// verifiers (and HSMs) that take only RSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    Es256,
    EdDsa,
    Rs256,
    Ps256,
}

impl SigningAlgorithm {
    const ALL: [Self; 4] = [Self::Es256, Self::EdDsa, Self::Rs256, Self::Ps256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::EdDsa => "EdDSA",
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Ps256 => "PS256",
        }
    }

    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::Es256 => Algorithm::ES256,
            SigningAlgorithm::EdDsa => Algorithm::EdDSA,
            SigningAlgorithm::Rs256 => Algorithm::RS256,
            SigningAlgorithm::Ps256 => Algorithm::PS256,
        }
    }

    /// A fresh private key as PKCS#8 DER.
    pub(crate) fn generate_pkcs8(self, rsa: RsaKeySize) -> Result<Vec<u8>, AuthError> {
        let failed = |_| AuthError::internal("key generation failed");
        Ok(match self {
            SigningAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            // PKCS#8 v1: the form jsonwebtoken reads an Ed25519 private key in.
            SigningAlgorithm::EdDsa => {
                Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new()).map_err(failed)?.as_ref().to_vec()
            }
            SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => {
                let size = match rsa {
                    RsaKeySize::Bits2048 => KeySize::Rsa2048,
                    RsaKeySize::Bits3072 => KeySize::Rsa3072,
                };
                let pair = aws_lc_rs::rsa::KeyPair::generate(size).map_err(failed)?;
                let der: Pkcs8V1Der = pair.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
        })
    }

    pub(crate) fn encoding_key(self, pem: &str) -> Result<EncodingKey, jsonwebtoken::errors::Error> {
        match self {
            SigningAlgorithm::Es256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            SigningAlgorithm::EdDsa => EncodingKey::from_ed_pem(pem.as_bytes()),
            SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
    }
}

impl FromStr for SigningAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown signing algorithm {s:?}: use ES256, EdDSA, RS256 or PS256"))
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long the RSA keys tokend makes are (`--rsa-key-bits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RsaKeySize {
    #[default]
    Bits2048,
    Bits3072,
}

impl RsaKeySize {
    pub fn bits(self) -> u64 {
        match self {
            RsaKeySize::Bits2048 => 2048,
            RsaKeySize::Bits3072 => 3072,
        }
    }
}

impl FromStr for RsaKeySize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2048" => Ok(RsaKeySize::Bits2048),
            "3072" => Ok(RsaKeySize::Bits3072),
            _ => Err(format!("RSA keys of {s} bits are not made: use 2048 or 3072")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_parse_case_insensitively() {
        assert_eq!("es256".parse::<SigningAlgorithm>().unwrap(), SigningAlgorithm::Es256);
        assert_eq!("EDDSA".parse::<SigningAlgorithm>().unwrap(), SigningAlgorithm::EdDsa);
        assert_eq!("ps256".parse::<SigningAlgorithm>().unwrap(), SigningAlgorithm::Ps256);
        assert!("HS256".parse::<SigningAlgorithm>().is_err());
    }

    #[test]
    fn rsa_keys_are_2048_or_3072_bits() {
        assert_eq!("3072".parse::<RsaKeySize>().unwrap().bits(), 3072);
        assert!("1024".parse::<RsaKeySize>().is_err());
        assert_eq!(RsaKeySize::default().bits(), 2048);
    }
}
