//! The DPoP scenario's caller: a client with a P-256 key made here that signs
//! a fresh proof (RFC 9449 §4.2) for every IssueToken, as a DPoP client does,
//! and sends it as `dpop` metadata. The signing is part of the latency.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::json;
use tokend_client::pb;
use tonic::Request;

#[derive(Clone)]
pub struct DpopProver {
    key: Arc<EncodingKey>,
    header: Arc<Header>,
    /// The URL the proofs name: the server's IssueToken method.
    htu: String,
}

impl DpopProver {
    /// A new key, proving requests sent to `base_url`'s IssueToken.
    pub fn new(base_url: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?.serialize_pem();
        let key = EncodingKey::from_ec_pem(pem.as_bytes())?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(Jwk::from_encoding_key(&key, Algorithm::ES256)?);
        let htu = format!("{base_url}/tokend.v1.TokenService/IssueToken");
        Ok(Self { key: Arc::new(key), header: Arc::new(header), htu })
    }

    /// `message` as a request carrying a fresh proof.
    pub fn request(&self, message: pb::IssueTokenRequest) -> Request<pb::IssueTokenRequest> {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).expect("random bytes");
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let claims = json!({
            "htm": "POST", "htu": self.htu, "iat": iat,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        });
        let proof = jsonwebtoken::encode(&self.header, &claims, &self.key).expect("the key signs");
        let mut request = Request::new(message);
        request.metadata_mut().insert("dpop", proof.parse().expect("a JWT is ASCII"));
        request
    }
}
