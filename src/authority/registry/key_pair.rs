//! A key pair tokend makes for a client (`client add-key`, `AddClientKey`):
//! its public half goes into the client's `jwks`, its private half is handed
//! out once, as ZITADEL's service-account key file, as PEM or as a JWK, and
//! is never stored.

use std::{fmt, str::FromStr};

use aws_lc_rs::{
    encoding::{AsBigEndian, AsDer, EcPrivateKeyBin, EcPrivateKeyRfc5915Der},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde_json::{Value, json};
use x509_parser::der_parser::{ber::BerObject, der::parse_der_sequence};

use crate::authority::{AuthError, RsaKeySize, SigningAlgorithm, tokens::random_tag};

/// The algorithms of the keys tokend makes for clients: RS256, which
/// ZITADEL's key files hold, and ES256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientKeyAlgorithm {
    #[default]
    Rs256,
    Es256,
}

impl ClientKeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        self.signing().as_str()
    }

    fn signing(self) -> SigningAlgorithm {
        match self {
            ClientKeyAlgorithm::Rs256 => SigningAlgorithm::Rs256,
            ClientKeyAlgorithm::Es256 => SigningAlgorithm::Es256,
        }
    }
}

impl FromStr for ClientKeyAlgorithm {
    type Err = String;

    /// An algorithm name, any case; empty selects RS256.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "" | "RS256" => Ok(ClientKeyAlgorithm::Rs256),
            "ES256" => Ok(ClientKeyAlgorithm::Es256),
            _ => Err(format!("algorithm must be RS256 or ES256 (the keys made for clients), not {s:?}")),
        }
    }
}

/// How the private key is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFileFormat {
    /// ZITADEL's service-account key file: `{"type":"serviceaccount",
    /// "keyId","key","userId"}`, the key in PEM as ZITADEL writes it (PKCS#1
    /// for RSA, SEC 1 for EC), which ZITADEL's SDKs read.
    #[default]
    Zitadel,
    /// PKCS#8 PEM.
    Pem,
    /// A private JWK with its `kid` and `alg`.
    Jwk,
}

impl FromStr for KeyFileFormat {
    type Err = String;

    /// A format name; empty selects ZITADEL's.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "zitadel" => Ok(KeyFileFormat::Zitadel),
            "pem" => Ok(KeyFileFormat::Pem),
            "jwk" => Ok(KeyFileFormat::Jwk),
            _ => Err(format!("format must be zitadel, pem or jwk (how key files are written), not {s:?}")),
        }
    }
}

/// The private key as it is handed out. `Debug` never shows it.
pub struct PrivateKeyFile(String);

impl PrivateKeyFile {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyFile(..)")
    }
}

/// A fresh key pair for a client. `Debug` shows its key id only.
pub struct ClientKeyPair {
    kid: String,
    algorithm: ClientKeyAlgorithm,
    pkcs8: Vec<u8>,
    /// The public JWK with `kid`, `use` and `alg`.
    public: Jwk,
}

impl fmt::Debug for ClientKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKeyPair").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl ClientKeyPair {
    /// Draws a key pair (RSA keys of 2048 bits, as ZITADEL's) under a
    /// random key id.
    pub fn generate(algorithm: ClientKeyAlgorithm) -> Result<Self, AuthError> {
        let signing = algorithm.signing();
        let pkcs8 = signing.generate_pkcs8(RsaKeySize::Bits2048)?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.clone()));
        let encoding = signing.encoding_key(&pem).map_err(AuthError::internal)?;
        let mut public = Jwk::from_encoding_key(&encoding, signing.jwt()).map_err(AuthError::internal)?;
        let kid = random_tag::<12>();
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { kid, algorithm, pkcs8, public })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> ClientKeyAlgorithm {
        self.algorithm
    }

    /// The public JWK, as it joins the client's `jwks`.
    pub fn public_jwk(&self) -> Value {
        serde_json::to_value(&self.public).expect("a JWK serializes")
    }

    /// The private key in `format`; a ZITADEL key file names `client_id` as its user.
    pub fn private_key(&self, format: KeyFileFormat, client_id: &str) -> Result<PrivateKeyFile, AuthError> {
        let text = match format {
            KeyFileFormat::Pem => pem::encode(&pem::Pem::new("PRIVATE KEY", self.pkcs8.clone())),
            KeyFileFormat::Zitadel => {
                let (label, der) = match self.algorithm {
                    ClientKeyAlgorithm::Rs256 => ("RSA PRIVATE KEY", rsa_private_key(&self.pkcs8)?),
                    ClientKeyAlgorithm::Es256 => ("EC PRIVATE KEY", self.ec_private_key()?),
                };
                let file = json!({
                    "type": "serviceaccount",
                    "keyId": self.kid,
                    "key": pem::encode(&pem::Pem::new(label, der)),
                    "userId": client_id,
                });
                serde_json::to_string_pretty(&file).map_err(AuthError::internal)?
            }
            KeyFileFormat::Jwk => {
                let mut jwk = self.public_jwk();
                let private = match self.algorithm {
                    ClientKeyAlgorithm::Rs256 => rsa_private_members(&self.pkcs8)?,
                    ClientKeyAlgorithm::Es256 => vec![("d", self.ec_scalar()?)],
                };
                for (name, value) in private {
                    jwk[name] = Value::String(URL_SAFE_NO_PAD.encode(value));
                }
                serde_json::to_string_pretty(&jwk).map_err(AuthError::internal)?
            }
        };
        Ok(PrivateKeyFile(text))
    }

    fn ec_pair(&self) -> Result<EcdsaKeyPair, AuthError> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8).map_err(AuthError::internal)
    }

    /// The EC private key in SEC 1's form (RFC 5915), naming its curve.
    fn ec_private_key(&self) -> Result<Vec<u8>, AuthError> {
        let der: EcPrivateKeyRfc5915Der =
            self.ec_pair()?.private_key().as_der().map_err(AuthError::internal)?;
        Ok(der.as_ref().to_vec())
    }

    /// The EC private scalar, 32 bytes big-endian.
    fn ec_scalar(&self) -> Result<Vec<u8>, AuthError> {
        let bytes: EcPrivateKeyBin =
            self.ec_pair()?.private_key().as_be_bytes().map_err(AuthError::internal)?;
        Ok(bytes.as_ref().to_vec())
    }
}

/// A generated key that does not read as the DER it must be.
fn malformed<E>(_: E) -> AuthError {
    AuthError::internal("a generated RSA key is not the DER it should be")
}

/// The PKCS#1 `RSAPrivateKey` a PKCS#8 `PrivateKeyInfo` wraps (RFC 5208 §5).
fn rsa_private_key(pkcs8: &[u8]) -> Result<Vec<u8>, AuthError> {
    let (_, info) = parse_der_sequence(pkcs8).map_err(malformed)?;
    let members = info.as_sequence().map_err(malformed)?;
    let wrapped = members.get(2).ok_or_else(|| AuthError::internal("PKCS#8 without its key"))?;
    Ok(wrapped.as_slice().map_err(malformed)?.to_vec())
}

/// The private members of an RSA JWK (RFC 7518 §6.3.2), read from PKCS#1
/// (RFC 8017 §A.1.2): version, n, e, then d, p, q, dp, dq, qi.
fn rsa_private_members(pkcs8: &[u8]) -> Result<Vec<(&'static str, Vec<u8>)>, AuthError> {
    let pkcs1 = rsa_private_key(pkcs8)?;
    let (_, key) = parse_der_sequence(&pkcs1).map_err(malformed)?;
    let integers = key.as_sequence().map_err(malformed)?;
    let unsigned = |integer: &BerObject| -> Result<Vec<u8>, AuthError> {
        let bytes = integer.as_slice().map_err(malformed)?;
        // DER integers are signed: a leading zero keeps a high bit positive.
        Ok(bytes.strip_prefix(&[0]).unwrap_or(bytes).to_vec())
    };
    let names = ["d", "p", "q", "dp", "dq", "qi"];
    if integers.len() < 3 + names.len() {
        return Err(AuthError::internal("a generated RSA key lacks members"));
    }
    names.into_iter().zip(&integers[3..]).map(|(name, integer)| Ok((name, unsigned(integer)?))).collect()
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
    use x509_parser::num_bigint::BigUint;

    use super::*;

    /// Signs with the handed-out private key and verifies with the public JWK.
    fn round_trips(pair: &ClientKeyPair, encoding: EncodingKey) {
        let alg = pair.algorithm.signing().jwt();
        let mut header = Header::new(alg);
        header.kid = Some(pair.kid.clone());
        let token = encode(&header, &json!({"sub": "orders", "exp": 4_000_000_000u64}), &encoding).unwrap();
        let decoding = DecodingKey::from_jwk(&pair.public).unwrap();
        decode::<Value>(&token, &decoding, &Validation::new(alg)).expect("the public JWK verifies it");
    }

    #[test]
    fn every_format_of_an_rsa_key_signs_what_its_public_jwk_verifies() {
        let pair = ClientKeyPair::generate(ClientKeyAlgorithm::Rs256).unwrap();
        let file = pair.private_key(KeyFileFormat::Zitadel, "orders").unwrap();
        let file: Value = serde_json::from_str(file.expose()).unwrap();
        assert_eq!(
            (file["type"].as_str(), file["userId"].as_str()),
            (Some("serviceaccount"), Some("orders"))
        );
        assert_eq!(file["keyId"].as_str(), Some(pair.kid()));
        let key = file["key"].as_str().unwrap();
        assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "PKCS#1, as ZITADEL writes it");
        round_trips(&pair, EncodingKey::from_rsa_pem(key.as_bytes()).unwrap());
        let pem = pair.private_key(KeyFileFormat::Pem, "orders").unwrap();
        assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
        round_trips(&pair, EncodingKey::from_rsa_pem(pem.expose().as_bytes()).unwrap());
        let raw: Value =
            serde_json::from_str(pair.private_key(KeyFileFormat::Jwk, "orders").unwrap().expose()).unwrap();
        assert_eq!((raw["kid"].as_str(), raw["alg"].as_str()), (Some(pair.kid()), Some("RS256")));
        let member = |name: &str| {
            BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(raw[name].as_str().unwrap()).unwrap())
        };
        let (p, q, d) = (member("p"), member("q"), member("d"));
        assert_eq!(&p * &q, member("n"), "the primes of the public modulus");
        assert_eq!(&d % (&p - 1u8), member("dp"));
        assert_eq!(&d % (&q - 1u8), member("dq"));
    }

    #[test]
    fn every_format_of_an_ec_key_signs_what_its_public_jwk_verifies() {
        let pair = ClientKeyPair::generate(ClientKeyAlgorithm::Es256).unwrap();
        let file: Value =
            serde_json::from_str(pair.private_key(KeyFileFormat::Zitadel, "orders").unwrap().expose())
                .unwrap();
        let key = file["key"].as_str().unwrap();
        assert!(key.starts_with("-----BEGIN EC PRIVATE KEY-----"), "SEC 1, as ZITADEL writes it");
        let pem = pair.private_key(KeyFileFormat::Pem, "orders").unwrap();
        round_trips(&pair, EncodingKey::from_ec_pem(pem.expose().as_bytes()).unwrap());
        let raw: Value =
            serde_json::from_str(pair.private_key(KeyFileFormat::Jwk, "orders").unwrap().expose()).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(raw["d"].as_str().unwrap()).unwrap().len(), 32);
        assert_eq!(raw["crv"], "P-256");
    }

    #[test]
    fn private_halves_stay_out_of_debug_output() {
        let pair = ClientKeyPair::generate(ClientKeyAlgorithm::Es256).unwrap();
        let file = pair.private_key(KeyFileFormat::Pem, "orders").unwrap();
        assert_eq!(format!("{file:?}"), "PrivateKeyFile(..)");
        assert!(!format!("{pair:?}").contains("PRIVATE"));
    }

    #[test]
    fn names_parse_and_defaults_are_zitadels() {
        assert_eq!("".parse::<ClientKeyAlgorithm>().unwrap(), ClientKeyAlgorithm::Rs256);
        assert_eq!("es256".parse::<ClientKeyAlgorithm>().unwrap(), ClientKeyAlgorithm::Es256);
        assert!("PS256".parse::<ClientKeyAlgorithm>().is_err());
        assert_eq!("".parse::<KeyFileFormat>().unwrap(), KeyFileFormat::Zitadel);
        assert!("der".parse::<KeyFileFormat>().is_err());
    }
}
