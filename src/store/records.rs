//! Rows as the store keeps them: plain strings and Unix seconds, no OAuth types.

/// A client. Scope and audience lists are space-joined, as neither may hold a space.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub client_id: String,
    pub display_name: String,
    pub allowed_scopes: String,
    pub default_scopes: String,
    pub audiences: String,
    pub token_ttl_seconds: i64,
    /// When the client was disabled; `None` while it is active.
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub registration: String,
    /// Space-separated authentication method names.
    pub auth_methods: String,
    /// What names the client's certificate; empty when unset.
    pub tls_subject_dn: String,
    pub tls_san_dns: String,
    pub tls_san_uri: String,
    /// A JWK Set as JSON text; empty when unset.
    pub jwks: String,
    /// 1 when the client's tokens are bound to its certificate, else 0.
    pub bound_tokens: i64,
    /// Token requests a second; 0 for unlimited.
    pub rate_limit_per_second: i64,
    pub rate_limit_burst: i64,
    /// Lifetime of new secrets; 0 for the server's setting.
    pub secret_max_age_seconds: i64,
    /// Where the client's keys are published; empty when unset.
    pub jwks_uri: String,
    /// A JSON array of federated identities; empty for none.
    pub federated_identities: String,
    /// A JSON object of claims for its tokens; empty for none.
    pub claims: String,
    /// Space-separated audiences of delegated tokens it may obtain.
    pub token_exchange_audiences: String,
    /// 1 when every token request of the client must carry a DPoP proof, else 0.
    pub dpop_bound: i64,
    /// 1 when the client may ask for Transaction Tokens, else 0.
    pub txn_token_requester: i64,
    /// Space-separated grant types it may use.
    pub grant_types: String,
    /// 1 when the client came by dynamic registration (RFC 7591), else 0:
    /// read from its registration's row, never written with the client.
    #[sqlx(default)]
    pub registered_dynamically: i64,
}

/// A platform whose tokens may authenticate clients.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrustedIssuerRow {
    pub issuer: String,
    /// Exactly one of the three says where its keys are.
    pub jwks: String,
    pub jwks_uri: String,
    /// 1 when its keys are found by OIDC discovery, else 0.
    pub discovery: i64,
    /// Space-separated; empty for tokend's issuer.
    pub audiences: String,
    pub max_assertion_lifetime_seconds: i64,
    /// 1 when each of its tokens is accepted once, else 0.
    pub single_use: i64,
    pub created_at: i64,
}

/// One secret of a client, as an argon2id PHC string; the secret itself is never stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecretRow {
    pub secret_id: String,
    pub client_id: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A signing key. `private_key` is sealed: `sealed:v2:`, the fingerprint of
/// the key-encryption key and the base64 of a nonce and the AES-256-GCM
/// ciphertext of the key's PKCS#8 PEM (rows from before sealing hold the plain
/// PEM until the next start seals them); or, for a key held in an HSM, a
/// `pkcs11:` URI naming the object, with the public key in `public_jwk`.
#[derive(Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub created_at: i64,
    /// When it starts signing; it verifies and is published from the start.
    pub active_from: i64,
    /// The public key as a JWK, for a key held in an HSM (whose
    /// `private_key` is then a `pkcs11:` reference to it); `None` otherwise.
    pub public_jwk: Option<String>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"redacted")
            .field("created_at", &self.created_at)
            .field("active_from", &self.active_from)
            .field("public_jwk", &self.public_jwk)
            .finish()
    }
}

/// The signing-key schedule the servers last started with, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyScheduleRow {
    pub algorithm: String,
    /// `None`: keys rotate only by hand.
    pub rotation_period: Option<i64>,
    pub activation_delay: i64,
    pub retire_after: i64,
    pub recorded_at: i64,
}

/// How a client registered by dynamic registration (RFC 7591) is managed:
/// the id and argon2id hash of its registration access token (RFC 7592),
/// and who registered it (an initial access token's client, or `anonymous`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    pub client_id: String,
    pub token_id: String,
    pub token_hash: String,
    pub registered_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An audit event. `occurred_at` is in Unix milliseconds; `details` is a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub event_id: String,
    pub occurred_at: i64,
    pub event_type: String,
    pub actor: String,
    pub target: String,
    pub origin: String,
    pub details: String,
}
