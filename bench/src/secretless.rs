//! The clients of the secretless scenarios, registered through ClientAdmin
//! on the server under test: one authenticated by `private_key_jwt` (a fresh
//! assertion signed for every request, as `tokend-client` does), and one by a
//! platform's token through a federated identity (the same token for every
//! request, as a workload presents its projected token many times).

use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::json;
use tokend_client::pb::{self, client_admin_client::ClientAdminClient};
use tonic::Request;

use crate::server::Server;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The issuer the federated client's workload comes from, and its workloads.
const PLATFORM: &str = "spiffe://bench.example";
const WORKLOAD: &str = "spiffe://bench.example/ns/orders/sa/worker";

/// Each registration gets ids of its own, so a scenario can run at several concurrencies.
static REGISTRATIONS: AtomicUsize = AtomicUsize::new(0);

/// How a secretless caller authenticates.
#[derive(Clone)]
pub enum Secretless {
    /// Signs a new assertion for each request.
    KeyJwt { client_id: String, key: std::sync::Arc<EncodingKey>, audience: String },
    /// Sends the same platform token each time.
    Federated { request: pb::IssueTokenRequest },
}

impl Secretless {
    /// Registers a `private_key_jwt` client with a key made here.
    pub async fn key_jwt(server: &Server) -> Result<Self, Box<dyn std::error::Error>> {
        let n = REGISTRATIONS.fetch_add(1, Ordering::Relaxed);
        let client_id = format!("bench-signer-{n}");
        let (key, jwk) = key_pair()?;
        let client = pb::CreateClientRequest {
            client_id: client_id.clone(),
            allowed_scopes: vec!["orders.read".into()],
            token_endpoint_auth_methods: vec!["private_key_jwt".into()],
            jwks: json!({ "keys": [jwk] }).to_string(),
            ..Default::default()
        };
        admin(server, |mut admin, bearer| async move {
            admin.create_client(with(bearer, client)).await.map(drop)
        })
        .await?;
        Ok(Secretless::KeyJwt { client_id, key: std::sync::Arc::new(key), audience: server.base_url() })
    }

    /// Trusts a platform whose keys are made here, registers a client its
    /// workloads act as, and signs one token for such a workload.
    pub async fn federated(server: &Server) -> Result<Self, Box<dyn std::error::Error>> {
        let n = REGISTRATIONS.fetch_add(1, Ordering::Relaxed);
        let (client_id, platform) = (format!("bench-federated-{n}"), format!("{PLATFORM}/{n}"));
        let (key, jwk) = key_pair()?;
        let issuer = pb::CreateTrustedIssuerRequest {
            issuer: platform.clone(),
            jwks: json!({ "keys": [jwk] }).to_string(),
            ..Default::default()
        };
        let client = pb::CreateClientRequest {
            client_id: client_id.clone(),
            allowed_scopes: vec!["orders.read".into()],
            federated_identities: vec![pb::FederatedIdentity {
                issuer: platform.clone(),
                subject: format!("{PLATFORM}/ns/orders/**"),
                claims: Default::default(),
            }],
            ..Default::default()
        };
        admin(server, |mut admin, bearer| async move {
            admin.create_trusted_issuer(with(bearer.clone(), issuer)).await?;
            admin.create_client(with(bearer, client)).await.map(drop)
        })
        .await?;
        let now = now();
        let claims = json!({ "iss": platform, "sub": WORKLOAD, "aud": server.base_url(), "iat": now, "exp": now + 3000 });
        let token = jsonwebtoken::encode(&header(), &claims, &key)?;
        let request = assertion_request(&client_id, token);
        Ok(Secretless::Federated { request })
    }

    /// The next request: for `private_key_jwt`, with a freshly signed assertion.
    pub fn request(&self) -> pb::IssueTokenRequest {
        match self {
            Secretless::Federated { request } => request.clone(),
            Secretless::KeyJwt { client_id, key, audience } => {
                let now = now();
                let mut jti = [0u8; 16];
                aws_lc_rs::rand::fill(&mut jti).expect("random bytes");
                let claims = json!({
                    "iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 60,
                    "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                });
                let assertion = jsonwebtoken::encode(&header(), &claims, key).expect("the key signs");
                assertion_request(client_id, assertion)
            }
        }
    }
}

fn assertion_request(client_id: &str, assertion: String) -> pb::IssueTokenRequest {
    pb::IssueTokenRequest {
        grant_type: "client_credentials".into(),
        client_id: client_id.into(),
        client_assertion_type: JWT_BEARER.into(),
        client_assertion: assertion,
        ..Default::default()
    }
}

/// Runs `call` with a ClientAdmin client and the benchmark client's bearer token.
async fn admin<F, Fut>(server: &Server, call: F) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnOnce(
        ClientAdminClient<tonic::transport::Channel>,
        tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    ) -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let channel = server.channel().await?;
    let bearer = server.admin_bearer(&channel).await?;
    Ok(call(ClientAdminClient::new(channel), bearer).await?)
}

fn with<T>(bearer: tonic::metadata::MetadataValue<tonic::metadata::Ascii>, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", bearer);
    request
}

fn header() -> Header {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("bench".into());
    header
}

/// A P-256 key and its public JWK, kid "bench".
fn key_pair() -> Result<(EncodingKey, serde_json::Value), Box<dyn std::error::Error>> {
    let pem = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?.serialize_pem();
    let key = EncodingKey::from_ec_pem(pem.as_bytes())?;
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::ES256)?)?;
    jwk["kid"] = json!("bench");
    Ok((key, jwk))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}
